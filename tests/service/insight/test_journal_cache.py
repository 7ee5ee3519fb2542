"""``Journals`` keeps each person's journal per entry version: after every kind of
change (an entry added, changed, re-dated, deleted; a label corrected before and after
its re-index) it must equal a read of the whole journal from the store, read only what
changed, and never hold one person's entries for another. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.episodes_store import UserEpisodes
from ingest.labels_store import UserLabels
from ingest.store import UserEntries, get_or_create_user
from service.container import Container
from service.insight.journal import Journal, Journals
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

MAYA = {
    "m1": "Jonah was late again and did not call. I checked his location four times. "
    "Then I went quiet on him for two days so he would feel it.",
    "m2": "I made soup with the last of the carrots. The cat watched the pigeons.",
    "m3": "My sister told our mother what I had said in confidence. I stopped answering "
    "her messages and told myself I never needed her anyway.",
    "m4": "I tried something new: I told Jonah I was hurt instead of testing him. He "
    "listened, and I trusted my own read of it.",
}
THEO = {"t1": "Dad cancelled again. I said it was fine, and it was not."}


@pytest.fixture(params=["sqlite", "postgres"])
def c(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Container]:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    container = Container(
        Settings(data_dir=tmp_path / "data", database_url=url), embeddings=WordHashEmbeddings()
    )
    yield container
    container.close()


def write(c: Container, uid: str, entries: dict[str, str], day: int = 1) -> None:
    with c.sessions() as s:
        store = UserEntries(s, uid)
        for eid, text in entries.items():
            store.upsert(eid, dt.date(2024, 3, day), text, [], "test")
        s.commit()
    c.indexer.index_pending(uid)


def user(c: Container, name: str, entries: dict[str, str]) -> str:
    with c.sessions() as s:
        uid = get_or_create_user(s, name).id
        s.commit()
    write(c, uid, entries)
    return uid


def from_store(c: Container, uid: str) -> Journal:
    """The whole journal read from the store, as every question read it before."""
    with c.sessions() as s:
        entries = UserEntries(s, uid).all()
        store = UserLabels(s, uid)
        return Journal(
            texts={e.entry_id: e.text for e in entries},
            dates={e.entry_id: e.date.isoformat() for e in entries},
            labels=store.entry_labels(),
            spans=store.spans(),
            episodes=UserEpisodes(s, uid).all(),
        )


def same(a: Journal, b: Journal) -> None:
    assert list(a.texts.items()) == list(b.texts.items())  # the store's order too
    assert a.dates == b.dates
    assert a.labels == b.labels
    assert a.spans == b.spans
    assert a.episodes == b.episodes
    # kept per change by ``Journals``, computed whole for the journal read from the store
    assert a.by_date() == b.by_date()
    assert a.folded() == b.folded()


def test_kept_journal_equals_a_full_read_after_every_change(
    c: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    maya = user(c, "maya", MAYA)
    theo = user(c, "theo", THEO)
    journals = Journals(c.sessions)
    same(journals.read(maya), from_store(c, maya))
    assert journals.read(maya).episodes, "the fixture should hold episodes"

    read: list[list[str]] = []
    real = Journals._read_entries

    def spy(session: object, uid: str, labels: object, ids: list[str]) -> object:
        read.append(sorted(ids))
        return real(session, uid, labels, ids)  # type: ignore[arg-type]

    monkeypatch.setattr(Journals, "_read_entries", staticmethod(spy))
    unchanged = journals.read(maya)
    assert journals.read(maya) is unchanged and read == []  # nothing moved: nothing read

    write(c, maya, {"m5": "Jonah forgot my birthday. I acted like I did not care."})
    got = journals.read(maya)
    assert read == [["m5"]]  # only the new entry
    same(got, from_store(c, maya))

    read.clear()
    write(c, maya, {"m2": "I burned the soup. Jonah laughed and so did I."}, day=9)  # text and date
    c.entries.delete_entry(maya, "m3")
    got = journals.read(maya)
    assert read == [["m2"]] and "m3" not in got.texts  # the change read, the delete dropped
    same(got, from_store(c, maya))

    # an entry dated before the last one takes its place in the order; one dated last is
    # appended to the kept maps; a journal handed out earlier never changes
    handed = got
    before = list(handed.texts.items())
    write(c, maya, {"m6": "Jonah called when he said he would. I let myself believe it."})
    same(journals.read(maya), from_store(c, maya))
    assert list(journals.read(maya).texts)[-1] == "m2"  # m6 is dated before m2
    write(c, maya, {"m7": "Quiet day. I trusted my plan and kept it."}, day=20)
    got = journals.read(maya)
    same(got, from_store(c, maya))
    assert list(got.texts)[-1] == "m7"
    assert list(handed.texts.items()) == before and "m7" not in handed.folded()

    # a correction applies at once, before the re-index it asks for, and after it
    label = next(iter(got.labels["m1"].labels))
    with c.sessions() as s:
        UserLabels(s, maya).correct("m1", label, "reject")
        s.commit()
    same(journals.read(maya), from_store(c, maya))
    assert label not in journals.read(maya).labels["m1"].labels
    c.indexer.reindex(maya)
    same(journals.read(maya), from_store(c, maya))

    # another person's journal is theirs alone, however the reads interleave
    assert set(journals.read(theo).texts) == {"t1"}
    assert "t1" not in journals.read(maya).texts


def test_an_entry_deleted_is_gone_and_a_deleted_person_is_forgotten(c: Container) -> None:
    maya = user(c, "maya", MAYA)
    first = c.insight.journal(maya)
    assert set(first.texts) == set(MAYA)
    c.entries.delete_entry(maya, "m3")
    after = c.insight.journal(maya)
    same(after, from_store(c, maya))
    assert "m3" not in after.texts and all(e.entry_id != "m3" for e in after.episodes)
    c.me.delete(maya)
    assert maya not in c.journals._cache  # this worker keeps none of their text
    assert c.insight.journal(maya).texts == {}
