"""``LexicalIndex`` brought up to date per revision, against a rebuild from scratch.

Two people's chunks share one embedded Chroma collection; ``Store`` stands in for the
entry store (entry texts, and each entry's version token, moved on every write as the
indexer's commit moves it). After adds, changes (same chunk ids, new text and offsets)
and deletes, every search must equal ``rebuild_search`` (the lexical path before issue
12: every chunk read back and indexed by bm25s), only read what changed, and never
return another person's chunk.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest
import Stemmer

from eval.bench_after_write import rebuild_search
from eval.bench_common import sentence
from ingest.vector_index import ChromaIndex, IndexRecord, indexed_at, make_chroma_client
from service.retrieval import lexical as lexical_module
from service.retrieval.lexical import LexicalIndex

QUERIES = [
    "When did Sam cancel the trip?",
    "my sister lied about the rent money",
    "trust promise phone",
    "felt hurt at the cafe on Monday",
    "Jordan",
]


class Store:
    """Entry texts by (user, entry id), and a version per entry moved on every write."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}
        self.version: dict[tuple[str, str], int] = {}
        self.revision: dict[str, int] = {}
        self.version_reads = 0

    def texts(self, user_id: str, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        return [self.entries.get((user_id, e), "")[s:t] for e, s, t in spans]

    def versions(self, user_id: str) -> dict[str, str]:
        self.version_reads += 1
        return {e: str(v) for (u, e), v in self.version.items() if u == user_id}


class Journal:
    """Writes entries (one chunk per sentence) to the index and the store."""

    def __init__(self, index: ChromaIndex, store: Store, seed: int = 0):
        self.index = index
        self.store = store
        self.rng = random.Random(seed)

    def write(self, user: str, entry: str, n: int, lead: str = "") -> None:
        sents = [sentence(self.rng) for _ in range(n)]
        text = lead + " ".join(sents)
        self.index.delete_entries(user, [entry])
        records, pos = [], len(lead)
        for seq, s in enumerate(sents):
            records.append(
                IndexRecord(
                    chunk_id=f"{user}/{entry}/{seq}",
                    user_id=user,
                    entry_id=entry,
                    date=dt.date(2024, 1, 1 + seq),
                    start=pos,
                    end=pos + len(s),
                    text=s,
                    embedding=[self.rng.random() for _ in range(4)],
                )
            )
            pos += len(s) + 1
        self.index.upsert(records)
        self.store.entries[(user, entry)] = text
        self.commit(user, entry)

    def delete(self, user: str, entry: str) -> None:
        self.index.delete_entries(user, [entry])
        del self.store.entries[(user, entry)]
        del self.store.version[(user, entry)]
        self.store.revision[user] = self.store.revision.get(user, 0) + 1

    def commit(self, user: str, entry: str) -> None:
        key = (user, entry)
        self.store.version[key] = self.store.version.get(key, 0) + 1
        self.store.revision[user] = self.store.revision.get(user, 0) + 1


@pytest.fixture
def setup(tmp_path: Path) -> tuple[ChromaIndex, Store, Journal]:
    store = Store()
    client = make_chroma_client(None, str(tmp_path / "chroma"))
    index = ChromaIndex(client, f"lex_{uuid.uuid4().hex}", store.texts, store.versions)
    journal = Journal(index, store)
    for i in range(12):
        journal.write("ana", f"e{i}", 4)
        journal.write("bo", f"e{i}", 3)  # same entry ids, other person
    return index, store, journal


STEMMER = Stemmer.Stemmer("english")


def assert_same_as_rebuild(lex: LexicalIndex, index: ChromaIndex, store: Store, user: str) -> None:
    for q in QUERIES:
        got = lex.search(index, user, store.revision[user], q, 1000)
        want = rebuild_search(index, user, q, 1000, STEMMER)
        assert {h.chunk_id: h for h, _ in got} == {h.chunk_id: h for h, _ in want}, q
        scores = {h.chunk_id: s for h, s in want}
        for h, s in got:
            assert abs(s - scores[h.chunk_id]) <= 1e-6
            assert h.chunk_id.startswith(f"{user}/")
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_updates_match_a_rebuild_after_adds_changes_and_deletes(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, store, journal = setup
    lex = LexicalIndex()
    for user in ("ana", "bo"):
        assert_same_as_rebuild(lex, index, store, user)

    journal.write("ana", "new", 3)  # added
    journal.write("ana", "e1", 2)  # changed: fewer chunks
    journal.write("ana", "e2", 6)  # changed: more chunks
    journal.write("ana", "e3", 4, lead="  ")  # changed: same ids, shifted offsets
    journal.delete("ana", "e4")  # deleted
    assert_same_as_rebuild(lex, index, store, "ana")
    assert_same_as_rebuild(lex, index, store, "bo")  # untouched by ana's writes

    ids = {h.chunk_id for q in QUERIES for h, _ in lex.search(index, "ana", 99, q, 1000)}
    assert not {i for i in ids if i.startswith("ana/e4/")}


def test_reads_only_what_changed(
    setup: tuple[ChromaIndex, Store, Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, store, journal = setup
    lex = LexicalIndex()
    lex.search(index, "ana", store.revision["ana"], "promise", 10)
    asked: list[list[str]] = []
    real = index.entry_chunks_with_vectors

    def spy(user_id: str, entry_ids: Sequence[str]) -> tuple:  # type: ignore[type-arg]
        asked.append(list(entry_ids))
        return real(user_id, entry_ids)

    monkeypatch.setattr(index, "entry_chunks_with_vectors", spy)
    monkeypatch.setattr(index, "documents", lambda *a, **k: pytest.fail("a full read"))
    monkeypatch.setattr(index, "chunk_ids", lambda *a, **k: pytest.fail("every chunk id listed"))
    journal.write("ana", "late", 2)
    journal.write("ana", "e0", 4)
    got = lex.search(index, "ana", store.revision["ana"], "promise", 1000)
    # only the two entries whose version moved are read, and their chunks are searched
    assert sorted(asked[0]) == ["e0", "late"]
    assert {h.entry_id for h, _ in got} <= {f"e{i}" for i in range(12)} | {"late"}
    # The same revision again reads nothing at all.
    reads = store.version_reads
    lex.search(index, "ana", store.revision["ana"], "promise", 10)
    lex.coverage(index, "ana", store.revision["ana"], "promise")
    assert store.version_reads == reads and len(asked) == 1
    monkeypatch.undo()
    assert_same_as_rebuild(lex, index, store, "ana")  # and what it holds is right


def _write_zebra(index: ChromaIndex, store: Store) -> None:
    """One more entry of ana's, one chunk, written to the index and the store's texts
    (its version is the caller's to move)."""
    text = "zebras crossing quietly"
    record = IndexRecord(
        "ana/zebra/0", "ana", "zebra", dt.date(2024, 5, 1), 0, 23, text, [0.1, 0.2, 0.3, 0.4]
    )
    index.upsert([record])
    store.entries[("ana", "zebra")] = text


def test_every_worker_sees_a_write_at_its_revision(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, store, journal = setup
    workers = [LexicalIndex(), LexicalIndex()]
    for w in workers:
        w.search(index, "ana", store.revision["ana"], "anything at all", 5)
    _write_zebra(index, store)
    journal.commit("ana", "zebra")
    for w in workers:
        hits = w.search(index, "ana", store.revision["ana"], "zebra", 5)
        assert [h.chunk_id for h, _ in hits] == ["ana/zebra/0"]
        assert w.coverage(index, "ana", store.revision["ana"], "zebra crossings") == 1.0
        assert w.search(index, "bo", store.revision["bo"], "zebra", 5) == []
        assert w.coverage(index, "bo", store.revision["bo"], "zebra") == 0.0


def test_least_recent_user_is_dropped_and_rebuilt(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, store, journal = setup
    lex = LexicalIndex(max_users=1)
    assert_same_as_rebuild(lex, index, store, "ana")
    assert_same_as_rebuild(lex, index, store, "bo")
    assert list(lex._cache) == ["bo"]
    journal.write("ana", "e5", 5)
    assert_same_as_rebuild(lex, index, store, "ana")
    assert list(lex._cache) == ["ana"]


def test_without_versions_every_chunk_is_read_again(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, store, journal = setup
    index.versions = None
    lex = LexicalIndex()
    assert_same_as_rebuild(lex, index, store, "ana")
    journal.write("ana", "e3", 4, lead="   ")  # same ids, other offsets and text
    journal.delete("ana", "e6")
    assert_same_as_rebuild(lex, index, store, "ana")


def test_an_empty_user_and_an_empty_id(setup: tuple[ChromaIndex, Store, Journal]) -> None:
    index, _, _ = setup
    lex = LexicalIndex()
    assert lex.search(index, "nobody", 0, "promise", 5) == []
    assert lex.coverage(index, "nobody", 0, "promise") == 0.0
    assert lex.coverage(index, "nobody", 0, "how are things") == 1.0
    assert lex.nearest(index, "nobody", 0, [[0.1, 0.2, 0.3, 0.4]], 5) == ([[]], {})
    with pytest.raises(ValueError):
        lex.search(index, "", 0, "promise", 5)


def test_documents_by_id_drops_another_users_chunks(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, _, _ = setup
    got = index.documents_by_id("ana", ["bo/e0/0", "ana/e0/0", "ana/none/0"])
    assert [h.chunk_id for h in got] == ["ana/e0/0"]
    assert got[0].text
    assert index.chunk_ids("bo") == sorted(f"bo/e{i}/{s}" for i in range(12) for s in range(3))


def _token(at: dt.datetime) -> str:
    """A version token as ``UserEntries.index_versions`` writes it (indexed at ``at``)."""
    return f"c0ffee:c0ffee:{at.isoformat()}"


def test_an_index_behind_the_store_is_read_again_at_the_same_revision(
    setup: tuple[ChromaIndex, Store, Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store marks an entry indexed after its chunks reached the index, so a read
    that shows the mark without the chunks came from an index that was behind (a Chroma
    server just back up): that revision is not kept, and the next question sees it."""
    index, store, _ = setup
    now = dt.datetime.now(dt.UTC)
    tokens = {e: _token(now - dt.timedelta(days=1)) for e in store.versions("ana")}
    monkeypatch.setattr(index, "versions", lambda user_id: dict(tokens))
    lex = LexicalIndex()
    rev = store.revision["ana"]
    assert lex.search(index, "ana", rev, "zebra", 5) == []

    tokens["zebra"] = _token(now)  # marked indexed, its chunk not shown yet
    rev += 1
    assert lex.search(index, "ana", rev, "zebra", 5) == []
    _write_zebra(index, store)
    hits = lex.search(index, "ana", rev, "zebra", 5)  # same revision: read again
    assert [h.chunk_id for h, _ in hits] == ["ana/zebra/0"]

    # Once shown, the revision is kept: asking again reads nothing.
    monkeypatch.setattr(index, "chunk_ids", lambda *a: pytest.fail("read again"))
    assert [h.chunk_id for h, _ in lex.search(index, "ana", rev, "zebra", 5)] == ["ana/zebra/0"]


def test_an_entry_marked_long_ago_without_chunks_does_not_force_rereads(
    setup: tuple[ChromaIndex, Store, Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, store, _ = setup
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    tokens = {e: _token(old) for e in [*store.versions("ana"), "chunkless"]}
    monkeypatch.setattr(index, "versions", lambda user_id: dict(tokens))
    lex = LexicalIndex()
    lex.search(index, "ana", 7, "promise", 5)
    monkeypatch.setattr(index, "chunk_ids", lambda *a: pytest.fail("read again"))
    monkeypatch.setattr(index, "documents_with_vectors", lambda *a: pytest.fail("read again"))
    lex.search(index, "ana", 7, "promise", 5)


def test_indexed_at_reads_the_store_token() -> None:
    at = dt.datetime(2026, 12, 2, 4, 30, tzinfo=dt.UTC)
    assert indexed_at(_token(at)) == at
    assert indexed_at("c0ffee:c0ffee:2026-12-02T04:30:00") == at  # SQLite: naive, UTC
    assert indexed_at("c0ffee:-:-") is None
    assert indexed_at("3") is None


def test_dense_rows_appended_after_a_write_rank_as_a_fresh_build(
    setup: tuple[ChromaIndex, Store, Journal], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write appends rows to the warm dense matrix (a delete marks rows dead); its
    nearest chunks, ties included, are those of an index built from scratch, and the
    whole journal is never added again."""
    index, store, journal = setup
    warm = LexicalIndex()
    rng = random.Random(5)
    queries = [[rng.random() for _ in range(4)] for _ in range(6)]
    warm.nearest(index, "ana", store.revision["ana"], queries, 5)
    built: list[int] = []
    real_add = lexical_module._Dense.add

    def spy(self: object, docs: Sequence[object]) -> None:
        if self is warm_dense():
            built.append(len(docs))
        real_add(self, docs)  # type: ignore[arg-type]

    def warm_dense() -> object:
        return warm._cache["ana"].dense

    monkeypatch.setattr(lexical_module._Dense, "add", spy)
    twin = [0.3, 0.3, 0.3, 0.3]  # the same vector on three dates: ties at every cut
    for n, day in enumerate((dt.date(2023, 5, 1), dt.date(2021, 1, 1), dt.date(2025, 2, 2))):
        index.upsert(
            [
                IndexRecord(
                    chunk_id=f"ana/tie{n}/0",
                    user_id="ana",
                    entry_id=f"tie{n}",
                    date=day,
                    start=0,
                    end=5,
                    text="a tie",
                    embedding=twin,
                )
            ]
        )
        store.entries[("ana", f"tie{n}")] = "a tie"
        journal.commit("ana", f"tie{n}")
        journal.write("ana", f"more{n}", 2)
        rev = store.revision["ana"]
        for k in (1, 2, 4, 40):
            got, _ = warm.nearest(index, "ana", rev, [twin, *queries], k)
            want, _ = LexicalIndex().nearest(index, "ana", rev, [twin, *queries], k)
            assert [[h.chunk_id for h in hs] for hs in got] == [
                [h.chunk_id for h in hs] for hs in want
            ]
    ties = [h.entry_id for h in warm.nearest(index, "ana", rev, [twin], 3)[0][0]]
    assert ties == ["tie1", "tie0", "tie2"]  # equal similarity: the earliest date first
    assert built and max(built) <= 3  # the rows written, never the whole journal
    journal.delete("ana", "e2")  # a delete marks its rows dead
    journal.write("ana", "e5", 3)  # a change replaces its rows
    built.clear()
    rev = store.revision["ana"]
    for k in (1, 5, 60):
        got, _ = warm.nearest(index, "ana", rev, queries, k)
        want, _ = LexicalIndex().nearest(index, "ana", rev, queries, k)
        assert [[h.chunk_id for h in hs] for hs in got] == [[h.chunk_id for h in hs] for hs in want]
    assert built == [3]
    assert not {h.entry_id for hs in got for h in hs} & {"e2"}


def test_the_dense_matrix_compacts_when_most_rows_are_dead(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    index, store, journal = setup
    warm = LexicalIndex()
    rng = random.Random(9)
    queries = [[rng.random() for _ in range(4)] for _ in range(4)]
    warm.nearest(index, "ana", store.revision["ana"], queries, 5)
    for i in range(9):
        journal.delete("ana", f"e{i}")
    rev = store.revision["ana"]
    got, _ = warm.nearest(index, "ana", rev, queries, 50)
    want, _ = LexicalIndex().nearest(index, "ana", rev, queries, 50)
    assert [[h.chunk_id for h in hs] for hs in got] == [[h.chunk_id for h in hs] for hs in want]
    dense = warm._cache["ana"].dense
    assert dense.n == 12 and int(dense.alive[: dense.n].sum()) == 12  # 3 entries of 4 kept


def test_a_new_vector_for_the_same_text_reaches_the_warm_matrix(
    setup: tuple[ChromaIndex, Store, Journal],
) -> None:
    """A re-index with another model rewrites vectors and leaves texts and offsets as
    they were: the warm dense matrix must score the new vectors, as a fresh build does."""
    index, store, journal = setup
    warm = LexicalIndex()
    probe = [0.9, -0.1, 0.2, 0.05]
    warm.nearest(index, "ana", store.revision["ana"], [probe], 3)
    got = index.documents_by_id_with_vectors("ana", ["ana/e7/0"])[0][0]
    index.upsert(
        [
            IndexRecord(
                chunk_id=got.chunk_id,
                user_id="ana",
                entry_id="e7",
                date=got.date,
                start=got.start,
                end=got.end,
                text=got.text,
                embedding=probe,  # now the nearest chunk to the probe, exactly
            )
        ]
    )
    journal.commit("ana", "e7")
    rev = store.revision["ana"]
    hits, _ = warm.nearest(index, "ana", rev, [probe], 3)
    fresh, _ = LexicalIndex().nearest(index, "ana", rev, [probe], 3)
    assert hits[0][0].chunk_id == "ana/e7/0" and abs(hits[0][0].similarity - 1.0) < 1e-6
    assert [h.chunk_id for h in hits[0]] == [h.chunk_id for h in fresh[0]]
