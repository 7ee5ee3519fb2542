"""Tests for ``ingest.store``: users, API keys, entries, chunks and index state.

The store is the source of truth, so the behaviour that matters most (keys kept
only as hashes, upsert statuses, per-user isolation, what counts as pending) is
run against both backends we support: SQLite and a real PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ingest.crypto import Keyring
from ingest.store import (
    ApiKey,
    Base,
    Chunk,
    Entry,
    EntryVersions,
    IndexState,
    User,
    UserEntries,
    UserExists,
    all_user_ids,
    bytes_to_vector,
    content_hash,
    create_user,
    derived_entry_id,
    get_or_create_user,
    get_user_by_name,
    hash_api_key,
    issue_api_key,
    make_engine,
    make_sessions,
    text_hash,
    user_for_api_key,
    vector_to_bytes,
)
from service.entries.service import EntryQueries  # the write routes' deletes and un-marks

D1 = dt.date(2024, 3, 1)
D2 = dt.date(2024, 3, 2)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on a fresh, empty store (``engine``: SQLite or PostgreSQL, conftest.py)."""
    return make_sessions(engine, Keyring([secrets.token_bytes(32)]))


def make_users(sessions: sessionmaker[Session], *names: str) -> list[str]:
    with sessions() as s:
        ids = [create_user(s, n).id for n in names]
        s.commit()
    return ids


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# ----------------------------------------------------------------------------- users


def test_create_and_find_users(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        ana = create_user(s, "ana")
        bo = get_or_create_user(s, "bo")
        s.commit()
    assert len(ana.id) == 32
    assert ana.id != bo.id
    with sessions() as s:
        assert get_user_by_name(s, "ana").id == ana.id  # type: ignore[union-attr]
        assert get_user_by_name(s, "nobody") is None
        assert get_or_create_user(s, "ana").id == ana.id
        assert get_or_create_user(s, "bo").id == bo.id
        assert count(s, User) == 2
        assert all_user_ids(s) == [ana.id, bo.id]  # ordered by name
        assert s.get(User, ana.id).index_revision == 0  # type: ignore[union-attr]


def test_duplicate_user_name_is_refused(sessions: sessionmaker[Session]) -> None:
    make_users(sessions, "ana")
    with sessions() as s:
        with pytest.raises(UserExists, match="ana"):
            create_user(s, "ana")
        assert count(s, User) == 1


# ------------------------------------------------------------------------------ keys


def test_api_key_is_stored_only_as_its_hash(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        user = create_user(s, "ana")
        key = issue_api_key(s, user)
        s.commit()
    assert key.startswith("tl_")
    assert len(key) > 40
    with sessions() as s:
        rows = list(s.scalars(select(ApiKey)))
        assert len(rows) == 1
        row = rows[0]
        assert row.user_id == user.id
        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() == hash_api_key(key)
        assert row.prefix == key[:10]
        assert row.revoked_at is None
        # The plain key appears nowhere in the database: not in any column of any table.
        for table in Base.metadata.sorted_tables:
            for db_row in s.execute(select(table)):
                for value in db_row:
                    assert key not in str(value), f"plain key found in {table.name}"


def test_user_for_api_key(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        ana = create_user(s, "ana")
        bo = create_user(s, "bo")
        k1 = issue_api_key(s, ana)
        k2 = issue_api_key(s, ana)
        kb = issue_api_key(s, bo)
        s.commit()
    assert len({k1, k2, kb}) == 3
    with sessions() as s:
        assert user_for_api_key(s, k1).id == ana.id  # type: ignore[union-attr]
        assert user_for_api_key(s, k2).id == ana.id  # type: ignore[union-attr]
        assert user_for_api_key(s, kb).id == bo.id  # type: ignore[union-attr]
        assert user_for_api_key(s, "tl_not-a-key") is None
        assert user_for_api_key(s, "") is None
        assert user_for_api_key(s, k1[:-1]) is None
        # Looking a key up by its stored hash or prefix must not work either.
        assert user_for_api_key(s, hash_api_key(k1)) is None
        assert user_for_api_key(s, k1[:10]) is None


def test_revoked_key_no_longer_authenticates(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        ana = create_user(s, "ana")
        k1 = issue_api_key(s, ana)
        k2 = issue_api_key(s, ana)
        s.commit()
    with sessions() as s:
        row = s.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(k1)))
        assert row is not None
        row.revoked_at = dt.datetime.now(dt.UTC)
        s.commit()
    with sessions() as s:
        assert user_for_api_key(s, k1) is None
        assert user_for_api_key(s, k2).id == ana.id  # type: ignore[union-attr]


# --------------------------------------------------------------------------- entries


def test_upsert_statuses_follow_the_content_hash(sessions: sessionmaker[Session]) -> None:
    (uid,) = make_users(sessions, "ana")
    with sessions() as s:
        store = UserEntries(s, uid)
        e, status = store.upsert("a1", D1, "I trusted her.", ["trust", "family"], "j.jsonl:1")
        assert status == "imported"
        assert e.content_hash == content_hash("I trusted her.", D1, ["trust", "family"])
        assert (e.user_id, e.entry_id, e.date, e.text) == (uid, "a1", D1, "I trusted her.")
        assert e.tags == ["trust", "family"]
        assert e.source == "j.jsonl:1"
        s.commit()
        pk = e.pk
        first_updated = e.updated_at

    with sessions() as s:
        store = UserEntries(s, uid)
        # Same content, tags in another order: the same hash, nothing to redo.
        e, status = store.upsert("a1", D1, "I trusted her.", ["family", "trust"], "j.jsonl:1")
        assert (status, e.pk) == ("unchanged", pk)
        e, status = store.upsert("a1", D1, "I trusted her.", ["trust", "family"], "other:9")
        assert (status, e.pk) == ("unchanged", pk)

        e, status = store.upsert("a1", D1, "I trusted him.", ["trust", "family"], "j.jsonl:1")
        assert (status, e.pk) == ("updated", pk)
        assert e.text == "I trusted him."
        assert e.content_hash == content_hash("I trusted him.", D1, ["trust", "family"])
        assert e.updated_at >= first_updated

        e, status = store.upsert("a1", D2, "I trusted him.", ["trust", "family"], "j.jsonl:1")
        assert (status, e.date) == ("updated", D2)

        e, status = store.upsert("a1", D2, "I trusted him.", ["trust"], "j.jsonl:2")
        assert (status, e.tags, e.source) == ("updated", ["trust"], "j.jsonl:2")
        s.commit()

    with sessions() as s:
        rows = list(s.scalars(select(Entry)))
        assert len(rows) == 1
        row = rows[0]
        assert (row.pk, row.entry_id, row.date, row.text, row.tags) == (
            pk,
            "a1",
            D2,
            "I trusted him.",
            ["trust"],
        )
        assert row.content_hash == content_hash("I trusted him.", D2, ["trust"])


def test_same_entry_id_for_two_users_is_two_entries(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        ea, sa = UserEntries(s, ana).upsert("x", D1, "Ana's words.", [], "")
        eb, sb = UserEntries(s, bo).upsert("x", D1, "Bo's words.", [], "")
        s.commit()
    assert (sa, sb) == ("imported", "imported")
    assert ea.pk != eb.pk
    with sessions() as s:
        assert count(s, Entry) == 2
        assert UserEntries(s, ana).get("x").text == "Ana's words."  # type: ignore[union-attr]
        assert UserEntries(s, bo).get("x").text == "Bo's words."  # type: ignore[union-attr]
        # Bo re-importing his entry does not touch Ana's.
        _, status = UserEntries(s, bo).upsert("x", D1, "Bo's words.", [], "")
        assert status == "unchanged"


def test_unique_user_and_entry_id_is_enforced_by_the_database(
    sessions: sessionmaker[Session],
) -> None:
    (uid,) = make_users(sessions, "ana")
    with sessions() as s:
        h = content_hash("t", D1, [])
        s.add(Entry(user_id=uid, entry_id="dup", date=D1, text="t", tags=[], content_hash=h))
        s.commit()
        s.add(Entry(user_id=uid, entry_id="dup", date=D1, text="t", tags=[], content_hash=h))
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
        assert count(s, Entry) == 1


@pytest.mark.parametrize("bad", ["", None])
def test_user_entries_requires_a_user(sessions: sessionmaker[Session], bad: str | None) -> None:
    with sessions() as s, pytest.raises(ValueError, match="user id is required"):
        UserEntries(s, bad)  # type: ignore[arg-type]


def test_reads_only_ever_see_the_bound_user(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        a = UserEntries(s, ana)
        b = UserEntries(s, bo)
        a1, _ = a.upsert("a1", D2, "ana one", [], "")
        a2, _ = a.upsert("a2", D1, "ana two", [], "")
        b1, _ = b.upsert("b1", D1, "bo one", [], "")
        s.commit()
        assert a.count() == 2
        assert b.count() == 1
        assert [e.entry_id for e in a.all()] == ["a2", "a1"]  # by date
        assert a.get("b1") is None
        assert b.get("a1") is None
        assert set(a.get_many(["a1", "a2", "b1", "zz"])) == {"a1", "a2"}
        assert a.get_many([]) == {}
        assert [e.entry_id for e in a.by_pks([a1.pk, b1.pk])] == ["a1"]
        assert b.by_pks([a1.pk, a2.pk]) == []
        assert a.by_pks([]) == []


def test_refuses_to_touch_another_users_entry(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        entry, _ = UserEntries(s, ana).upsert("a1", D1, "Mine. Only mine.", [], "")
        s.commit()
        bos = UserEntries(s, bo)
        chunk = Chunk(seq=0, start=0, end=5, text_hash=text_hash("Mine."), model="m")
        with pytest.raises(PermissionError, match="another user"):
            bos.replace_chunks(entry, [chunk])
        with pytest.raises(PermissionError, match="another user"):
            bos.mark_indexed([entry])
        s.rollback()
        assert bos.chunks_of([entry]) == {entry.pk: []}
    with sessions() as s:
        assert count(s, Chunk) == 0
        assert count(s, IndexState) == 0
        assert s.get(User, bo).index_revision == 0  # type: ignore[union-attr]


def test_replace_chunks_and_chunks_of(sessions: sessionmaker[Session]) -> None:
    (uid,) = make_users(sessions, "ana")
    txt = "One. Two. Three."
    with sessions() as s:
        store = UserEntries(s, uid)
        e, _ = store.upsert("a1", D1, txt, [], "")
        store.replace_chunks(
            e,
            [
                Chunk(seq=0, start=0, end=4, text_hash=text_hash("One."), model="m"),
                Chunk(seq=1, start=5, end=16, text_hash=text_hash("Two. Three."), model="m"),
            ],
        )
        s.commit()
        got = store.chunks_of([e])[e.pk]
        assert [(c.seq, c.start, c.end, c.user_id) for c in got] == [
            (0, 0, 4, uid),
            (1, 5, 16, uid),
        ]
        # Replacing removes the old rows, even when there are fewer new ones.
        store.replace_chunks(
            e, [Chunk(seq=0, start=0, end=16, text_hash=text_hash(txt), model="m")]
        )
        s.commit()
    with sessions() as s:
        rows = list(s.scalars(select(Chunk)))
        assert [(c.seq, c.start, c.end) for c in rows] == [(0, 0, 16)]
        assert rows[0].text_hash == text_hash(txt)


def test_pending_index(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        store = UserEntries(s, ana)
        e1, _ = store.upsert("a1", D1, "first", [], "")
        e2, _ = store.upsert("a2", D1, "second", [], "")
        UserEntries(s, bo).upsert("b1", D1, "bo's", [], "")
        s.commit()

    # Committed but never indexed: pending (seen from a fresh session, as after a crash).
    with sessions() as s:
        store = UserEntries(s, ana)
        assert [e.entry_id for e in store.pending_index()] == ["a1", "a2"]
        assert [e.entry_id for e in UserEntries(s, bo).pending_index()] == ["b1"]
        store.mark_indexed(store.all())
        s.commit()
        assert store.revision() == 2  # two new entries in one commit, then their index state

    with sessions() as s:
        store = UserEntries(s, ana)
        assert store.pending_index() == []
        states = {st.entry_pk: st.indexed_hash for st in s.scalars(select(IndexState))}
        assert states == {e1.pk: e1.content_hash, e2.pk: e2.content_hash}
        # Unchanged: still nothing pending. Changed: that entry only.
        assert store.upsert("a1", D1, "first", [], "")[1] == "unchanged"
        assert store.upsert("a2", D1, "second, edited", [], "")[1] == "updated"
        s.commit()
        assert [e.entry_id for e in store.pending_index()] == ["a2"]
        # Bo's entry is still pending: marking Ana's did nothing to it.
        assert [e.entry_id for e in UserEntries(s, bo).pending_index()] == ["b1"]

        store.mark_indexed(store.pending_index())
        s.commit()
        assert store.pending_index() == []
        assert store.revision() == 4  # "unchanged" moves nothing; "updated" does
        assert s.get(IndexState, e2.pk).indexed_hash == content_hash(  # type: ignore[union-attr]
            "second, edited", D1, []
        )

        store.clear_index_state()
        s.commit()
        assert [e.entry_id for e in store.pending_index()] == ["a1", "a2"]
        assert store.revision() == 5
        assert UserEntries(s, bo).revision() == 1  # her one entry, never Ana's writes


def test_index_versions_move_with_every_index_write(sessions: sessionmaker[Session]) -> None:
    """The lexical index reads changes by these tokens: each write of an entry's text or
    of its index state moves that entry's token, and no other."""
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        store = UserEntries(s, ana)
        store.upsert("a1", D1, "first", [], "")
        store.upsert("a2", D1, "second", [], "")
        UserEntries(s, bo).upsert("a1", D1, "bo's", [], "")
        s.commit()
        v0 = store.index_versions()
        assert set(v0) == {"a1", "a2"}
        bo0 = UserEntries(s, bo).index_versions()
        assert set(bo0) == {"a1"}

        store.mark_indexed(store.all())
        s.commit()
        v1 = store.index_versions()
        assert all(v1[e] != v0[e] for e in v1)

        store.mark_indexed([store.get("a1")])  # type: ignore[list-item]
        s.commit()
        v2 = store.index_versions()
        assert v2["a1"] != v1["a1"] and v2["a2"] == v1["a2"]

        store.upsert("a2", D1, "second, edited", [], "")
        s.commit()
        v3 = store.index_versions()
        assert v3["a2"] != v2["a2"] and v3["a1"] == v2["a1"]

        store.clear_index_state()
        s.commit()
        v4 = store.index_versions()
        assert all(v4[e] != v3[e] for e in v4)
        assert UserEntries(s, bo).index_versions() == bo0  # untouched by Ana's writes


def test_an_upsert_moves_the_revision_when_it_commits_and_never_after_a_rollback(
    sessions: sessionmaker[Session],
) -> None:
    """The user's row is locked last (at commit), so writers locking entries first and
    imports locking many entries never wait on each other in opposite orders."""
    (ana,) = make_users(sessions, "ana")
    with sessions() as s:
        store = UserEntries(s, ana)
        store.upsert("a1", D1, "first", [], "")
        assert store.revision() == 0  # not yet: the bump is the commit's last statement
        s.commit()
        assert store.revision() == 1
        store.upsert("a1", D1, "first, changed", [], "")
        s.rollback()
        s.commit()  # nothing left to bump from the rolled-back upsert
        assert store.revision() == 1
        assert store.upsert("a1", D1, "first", [], "")[1] == "unchanged"
        s.commit()
        assert store.revision() == 1


def test_every_token_change_moves_the_revision(sessions: sessionmaker[Session]) -> None:
    """``EntryVersions`` keeps tokens per revision: a write that moved a token without
    moving the revision would be missed by every reader until the next one."""
    (ana,) = make_users(sessions, "ana")
    versions = EntryVersions(sessions)
    seen: list[tuple[int, dict[str, str]]] = []

    def step(change: Callable[[EntryQueries], object]) -> None:
        with sessions() as s:
            change(EntryQueries(s, ana))
            s.commit()
        revision, tokens = versions.read(ana)
        with sessions() as s:
            assert tokens == UserEntries(s, ana).index_versions()  # never a stale token
        if seen:
            assert revision != seen[-1][0] and tokens != seen[-1][1]
        seen.append((revision, tokens))

    step(lambda st: st.upsert("a1", D1, "first", [], ""))  # new
    step(lambda st: st.upsert("a2", D1, "second", [], ""))  # another new
    step(lambda st: st.mark_indexed(st.all()))  # indexed
    step(lambda st: st.upsert("a1", D1, "first, edited", [], ""))  # text changed
    step(lambda st: st.upsert("a2", D2, "second", [], ""))  # date changed
    step(lambda st: st.mark_unindexed(st.get("a1")))  # type: ignore[arg-type]
    step(lambda st: st.clear_index_state())
    step(lambda st: st.delete(st.get("a2")))  # type: ignore[arg-type]

    # Unchanged revision: the kept tokens, the same object, no second read.
    assert versions.read(ana)[1] is seen[-1][1]


def test_cached_embeddings_are_per_user_and_model(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    vec = [0.25, -1.5, 3.0]
    h = text_hash("Shared words.")
    with sessions() as s:
        ea, _ = UserEntries(s, ana).upsert("a1", D1, "Shared words.", [], "")
        UserEntries(s, ana).replace_chunks(
            ea,
            [
                Chunk(
                    seq=0, start=0, end=13, text_hash=h, model="m1", embedding=vector_to_bytes(vec)
                )
            ],
        )
        eb, _ = UserEntries(s, bo).upsert("b1", D1, "Shared words.", [], "")
        UserEntries(s, bo).replace_chunks(
            eb, [Chunk(seq=0, start=0, end=13, text_hash=h, model="m1", embedding=None)]
        )
        s.commit()
    with sessions() as s:
        got = UserEntries(s, ana).cached_embeddings([h, h, text_hash("other")], "m1")
        assert list(got) == [h]
        assert bytes_to_vector(got[h]) == vec
        assert UserEntries(s, ana).cached_embeddings([h], "m2") == {}
        assert UserEntries(s, bo).cached_embeddings([h], "m1") == {}
        assert UserEntries(s, ana).cached_embeddings([], "m1") == {}


def test_deleting_a_user_cascades_to_everything(sessions: sessionmaker[Session]) -> None:
    ana, bo = make_users(sessions, "ana", "bo")
    with sessions() as s:
        for uid in (ana, bo):
            store = UserEntries(s, uid)
            e, _ = store.upsert("x", D1, "Hello.", [], "")
            store.replace_chunks(e, [Chunk(seq=0, start=0, end=6, text_hash="h", model="m")])
            store.mark_indexed([e])
            issue_api_key(s, s.get(User, uid))  # type: ignore[arg-type]
        s.commit()
    with sessions() as s:
        s.execute(delete(User).where(User.id == ana))
        s.commit()
    with sessions() as s:
        assert [e.user_id for e in s.scalars(select(Entry))] == [bo]
        assert [c.user_id for c in s.scalars(select(Chunk))] == [bo]
        assert count(s, IndexState) == 1
        assert [k.user_id for k in s.scalars(select(ApiKey))] == [bo]


def test_sqlite_engine_is_crash_safe(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    engine.dispose()


# ---------------------------------------------------------------------------- hashes


def test_content_hash_and_derived_ids() -> None:
    base = content_hash("text", D1, ["a", "b"])
    assert base == content_hash("text", D1, ["b", "a"])
    assert len(base) == 64
    assert base != content_hash("text ", D1, ["a", "b"])
    assert base != content_hash("text", D2, ["a", "b"])
    assert base != content_hash("text", D1, ["a"])
    assert base != content_hash("text", D1, ["a,b"])

    eid = derived_entry_id("text", D1)
    assert eid == derived_entry_id("text", D1)
    assert eid.startswith("e") and len(eid) == 16
    assert eid != derived_entry_id("text", D2)
    assert eid != derived_entry_id("text!", D1)

    assert text_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_vector_bytes_round_trip() -> None:
    v = np.array([0.5, -0.25, 1.0, 0.0], dtype=np.float32)
    b = vector_to_bytes(v)
    assert len(b) == 16
    assert bytes_to_vector(b) == [0.5, -0.25, 1.0, 0.0]
    assert bytes_to_vector(vector_to_bytes([1, 2])) == [1.0, 2.0]
