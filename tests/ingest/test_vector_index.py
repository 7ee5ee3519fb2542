"""Tests for ``ingest.vector_index`` on an embedded Chroma and on a real Chroma server.

Every read and write is per user: these tests put two people's chunks, with the
same entry ids and the same vectors, in one collection and check that nothing of
one ever comes back for the other.

Chroma keeps no text (issue 14): a hit's text is read from the entry store through the
index's ``texts`` function (``ingest.store.chunk_texts``); here ``FakeStore`` stands in
for the store, remembering what the tests wrote.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from ingest.vector_index import (
    ChromaIndex,
    IndexRecord,
    date_number,
    make_chroma_client,
    user_filter,
)

E1 = [1.0, 0.0, 0.0, 0.0]
E2 = [0.0, 1.0, 0.0, 0.0]
E3 = [0.0, 0.0, 1.0, 0.0]


class FakeStore:
    """The entry store's part in a hit: the chunk texts written, by entry and offsets."""

    def __init__(self) -> None:
        self.texts: dict[tuple[str, str, int, int], str] = {}

    def __call__(self, user_id: str, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        return [self.texts.get((user_id, e, s, t), "") for e, s, t in spans]


def with_store(index: ChromaIndex, store: FakeStore) -> ChromaIndex:
    """Every upsert also writes the chunk texts to ``store`` (as an import writes entries
    to the store); the index reads them back from it."""
    index.texts = store
    upsert = index.upsert

    def writing(records: Sequence[IndexRecord], batch_size: int = 2000) -> None:
        for r in records:
            store.texts[(r.user_id, r.entry_id, r.start, r.end)] = r.text
        upsert(records, batch_size)

    index.upsert = writing  # type: ignore[method-assign]
    return index


@pytest.fixture(params=["embedded", "server"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> ChromaIndex:
    """An empty collection, on a PersistentClient in tmp_path or on the chroma server."""
    name = f"test_{uuid.uuid4().hex}"
    if request.param == "embedded":
        client = make_chroma_client(None, str(tmp_path / "chroma"))
    else:
        client = make_chroma_client(request.getfixturevalue("chroma_server"), None)
    return with_store(ChromaIndex(client, name), FakeStore())


def rec(
    user: str,
    entry: str,
    seq: int,
    date: dt.date,
    vec: list[float],
    text: str | None = None,
    start: int = 0,
) -> IndexRecord:
    body = text if text is not None else f"{user} {entry} {seq}"
    return IndexRecord(
        chunk_id=f"{user}/{entry}/{seq}",
        user_id=user,
        entry_id=entry,
        date=date,
        start=start,
        end=start + len(body),
        text=body,
        embedding=vec,
    )


def ids_of(index: ChromaIndex, user: str) -> set[str]:
    return set(index.collection.get(where={"user_id": user}, include=[])["ids"])


def test_date_number() -> None:
    assert date_number(dt.date(2024, 1, 2)) == 20240102
    assert date_number(dt.date(1999, 12, 31)) == 19991231
    assert date_number(dt.date(2024, 12, 31)) < date_number(dt.date(2025, 1, 1))


def test_user_filter() -> None:
    assert user_filter("u") == {"user_id": "u"}
    assert user_filter("u", since=dt.date(2024, 1, 2)) == {
        "$and": [{"user_id": "u"}, {"date_num": {"$gte": 20240102}}]
    }
    assert user_filter("u", dt.date(2024, 1, 2), dt.date(2024, 2, 3)) == {
        "$and": [
            {"user_id": "u"},
            {"date_num": {"$gte": 20240102}},
            {"date_num": {"$lte": 20240203}},
        ]
    }
    with pytest.raises(ValueError):
        user_filter("")


def test_make_chroma_client_needs_a_url_or_a_path() -> None:
    with pytest.raises(ValueError, match="needs a path"):
        make_chroma_client(None, None)


def test_upsert_carries_all_metadata(index: ChromaIndex) -> None:
    r = IndexRecord(
        chunk_id="ana/e1/2",
        user_id="ana",
        entry_id="e1",
        date=dt.date(2024, 3, 9),
        start=17,
        end=42,
        text="I trusted him again — 🙂",
        embedding=[0.6, 0.8, 0.0, 0.0],
    )
    index.upsert([r])
    got = index.collection.get(ids=["ana/e1/2"], include=["metadatas", "documents", "embeddings"])
    assert got["ids"] == ["ana/e1/2"]
    metas, embs = got["metadatas"], got["embeddings"]
    assert metas is not None and embs is not None
    assert metas[0] == {
        "user_id": "ana",
        "entry_id": "e1",
        "date": "2024-03-09",
        "date_num": 20240309,
        "start": 17,
        "end": 42,
    }
    assert got["documents"] == [None]  # Chroma keeps no text
    assert [h.text for h in index.documents("ana")] == ["I trusted him again — 🙂"]
    assert [round(float(x), 6) for x in embs[0]] == [0.6, 0.8, 0.0, 0.0]
    assert index.count("ana") == 1


def test_upsert_same_id_overwrites(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert([rec("ana", "e1", 0, d, E1, "old text")])
    index.upsert([rec("ana", "e1", 0, dt.date(2024, 1, 5), E2, "new text", start=3)])
    docs = index.documents("ana")
    assert len(docs) == 1
    assert (docs[0].text, docs[0].date, docs[0].start, docs[0].end) == (
        "new text",
        dt.date(2024, 1, 5),
        3,
        11,
    )


def test_upsert_in_batches(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    records = [rec("ana", f"e{i}", 0, d, [1.0, float(i), 0.0, 0.0]) for i in range(25)]
    index.upsert(records, batch_size=7)
    assert index.count("ana") == 25
    assert ids_of(index, "ana") == {f"ana/e{i}/0" for i in range(25)}


def test_query_never_returns_another_users_chunks(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    # Same entry ids, same vectors, same texts for both people.
    index.upsert(
        [
            rec("ana", "e1", 0, d, E1, "I trust my sister."),
            rec("ana", "e2", 0, d, E2, "Work was hard."),
            rec("bo", "e1", 0, d, E1, "I trust my sister."),
            rec("bo", "e3", 0, d, E3, "Bo's secret."),
        ]
    )
    hits = index.query("ana", E1, k=10)
    assert [h.chunk_id for h in hits] == ["ana/e1/0", "ana/e2/0"]
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert hits[1].similarity == pytest.approx(0.0, abs=1e-5)
    # Bo's closest chunk to E3 is his own; Ana has nothing like it but still only gets hers.
    assert {h.chunk_id for h in index.query("ana", E3, k=10)} == {"ana/e1/0", "ana/e2/0"}
    assert [h.chunk_id for h in index.query("bo", E3, k=1)] == ["bo/e3/0"]
    assert {h.entry_id for h in index.query("bo", E1, k=10)} == {"e1", "e3"}
    assert index.query("carol", E1, k=10) == []
    assert [h.chunk_id for h in index.documents("ana")] == ["ana/e1/0", "ana/e2/0"]
    assert index.count("ana") == 2
    assert index.count("bo") == 2
    assert index.count("carol") == 0


def test_query_hit_fields(index: ChromaIndex) -> None:
    index.upsert([rec("ana", "e1", 3, dt.date(2023, 7, 4), E1, "Fireworks.", start=120)])
    (hit,) = index.query("ana", E1, k=5)
    assert hit.chunk_id == "ana/e1/3"
    assert hit.entry_id == "e1"
    assert hit.date == dt.date(2023, 7, 4)
    assert (hit.start, hit.end) == (120, 130)
    assert hit.text == "Fireworks."


def test_since_and_until_filters(index: ChromaIndex) -> None:
    dates = {
        "a": dt.date(2023, 12, 31),
        "b": dt.date(2024, 1, 1),
        "c": dt.date(2024, 2, 15),
        "d": dt.date(2024, 3, 31),
        "e": dt.date(2025, 1, 1),
    }
    index.upsert([rec("ana", e, 0, d, E1) for e, d in dates.items()])
    index.upsert([rec("bo", e, 0, d, E1) for e, d in dates.items()])

    def q(since: dt.date | None, until: dt.date | None) -> list[str]:
        hits = index.query("ana", E1, k=10, since=since, until=until)
        assert all(h.chunk_id.startswith("ana/") for h in hits)
        docs = index.documents("ana", since=since, until=until)
        assert sorted(h.entry_id for h in hits) == [h.entry_id for h in docs]
        return [h.entry_id for h in docs]

    assert q(None, None) == ["a", "b", "c", "d", "e"]
    assert q(dt.date(2024, 1, 1), None) == ["b", "c", "d", "e"]
    assert q(None, dt.date(2024, 1, 1)) == ["a", "b"]
    assert q(dt.date(2024, 1, 2), dt.date(2024, 3, 31)) == ["c", "d"]
    assert q(dt.date(2024, 2, 15), dt.date(2024, 2, 15)) == ["c"]
    assert q(dt.date(2024, 4, 1), dt.date(2024, 12, 31)) == []
    assert q(dt.date(2026, 1, 1), None) == []


def test_documents_are_sorted_and_carry_text(index: ChromaIndex) -> None:
    d = dt.date(2024, 5, 5)
    # e2 reads "two a two b": its second chunk starts at 6
    index.upsert(
        [rec("ana", "e2", 1, d, E2, "two b", start=6), rec("ana", "e1", 0, d, E1, "one a")]
    )
    index.upsert([rec("ana", "e2", 0, d, E3, "two a")])
    docs = index.documents("ana")
    assert [(h.chunk_id, h.text) for h in docs] == [
        ("ana/e1/0", "one a"),
        ("ana/e2/0", "two a"),
        ("ana/e2/1", "two b"),
    ]
    assert index.documents("bo") == []


def test_documents_are_read_in_pages(index: ChromaIndex) -> None:
    """A whole user's chunks come back complete across page boundaries (Chroma fails on
    one unbounded ``get`` of tens of thousands of chunks: too many SQL variables)."""
    d = dt.date(2024, 1, 1)
    index.upsert([rec("ana", f"e{i:02d}", 0, d, [1.0, float(i), 0.0, 0.0]) for i in range(23)])
    index.upsert([rec("bo", "x", 0, d, E1)])
    index.page_size = 5
    docs = index.documents("ana")
    assert [h.chunk_id for h in docs] == [f"ana/e{i:02d}/0" for i in range(23)]
    index.page_size = 23  # a full last page
    assert len(index.documents("ana")) == 23
    assert [h.chunk_id for h in index.documents("bo")] == ["bo/x/0"]


def test_delete_entries_only_touches_that_user(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert(
        [
            rec("ana", "e1", 0, d, E1),
            rec("ana", "e1", 1, d, E2),
            rec("ana", "e2", 0, d, E3),
            rec("ana", "e3", 0, d, E3),
            rec("bo", "e1", 0, d, E1),
            rec("bo", "e2", 0, d, E1),
        ]
    )
    index.delete_entries("ana", ["e1", "e2", "never-indexed"])
    assert ids_of(index, "ana") == {"ana/e3/0"}
    assert ids_of(index, "bo") == {"bo/e1/0", "bo/e2/0"}
    index.delete_entries("ana", [])
    assert ids_of(index, "ana") == {"ana/e3/0"}


def test_delete_entries_in_many_batches(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert([rec("ana", f"e{i}", 0, d, E1) for i in range(1200)])
    index.delete_entries("ana", [f"e{i}" for i in range(1100)])
    assert ids_of(index, "ana") == {f"ana/e{i}/0" for i in range(1100, 1200)}


def test_delete_user(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert(
        [rec("ana", "e1", 0, d, E1), rec("ana", "e2", 0, d, E2), rec("bo", "e1", 0, d, E1)]
    )
    index.delete_user("ana")
    assert index.count("ana") == 0
    assert index.query("ana", E1, k=5) == []
    assert ids_of(index, "bo") == {"bo/e1/0"}
    index.delete_user("nobody")
    assert index.count("bo") == 1


def test_empty_user_id_is_refused_everywhere(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert([rec("ana", "e1", 0, d, E1)])
    with pytest.raises(ValueError, match="one user"):
        index.query("", E1, k=5)
    with pytest.raises(ValueError, match="one user"):
        index.documents("")
    with pytest.raises(ValueError, match="one user"):
        index.count("")
    with pytest.raises(ValueError, match="one user"):
        index.delete_entries("", ["e1"])
    with pytest.raises(ValueError, match="one user"):
        index.delete_user("")
    with pytest.raises(ValueError, match="one user"):
        index.upsert([rec("ana", "e2", 0, d, E2), rec("", "e3", 0, d, E3)])
    # Nothing was written or deleted by the refused calls.
    assert index.collection.count() == 1
    assert ids_of(index, "ana") == {"ana/e1/0"}


def test_collection_uses_cosine_space(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    # Same direction, different length: cosine similarity 1 (an L2 space would differ).
    index.upsert(
        [rec("ana", "e1", 0, d, [3.0, 0.0, 0.0, 0.0]), rec("ana", "e2", 0, d, [1.0, 1.0, 0.0, 0.0])]
    )
    hits = index.query("ana", E1, k=2)
    assert [h.entry_id for h in hits] == ["e1", "e2"]
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert hits[1].similarity == pytest.approx(0.70710678, abs=1e-4)


def test_reopening_a_persistent_collection_keeps_records(tmp_path: Path) -> None:
    path = str(tmp_path / "chroma")
    store = FakeStore()
    first = with_store(ChromaIndex(make_chroma_client(None, path), "persist_test"), store)
    first.upsert([rec("ana", "e1", 0, dt.date(2024, 1, 1), E1, "kept")])
    again = ChromaIndex(make_chroma_client(None, path), "persist_test", store)
    assert [h.chunk_id for h in again.documents("ana")] == ["ana/e1/0"]
    assert [h.text for h in again.documents("ana")] == ["kept"]
    assert again.collection.get(include=["documents"])["documents"] == [None]
    assert [h.text for h in ChromaIndex(again.client, "persist_test").documents("ana")] == [""]


def test_query_many_is_per_user_and_returns_hit_vectors(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert(
        [
            rec("ana", "e1", 0, d, E1),
            rec("ana", "e2", 0, d, E2),
            rec("bo", "e1", 0, d, E1),
            rec("bo", "e3", 0, d, E3),
        ]
    )
    # The second query is nearest to Bo's e3, then to Ana's e2: Ana gets her e2.
    hits, vectors = index.query_many("ana", [E1, [0.0, 0.5, 0.9, 0.0]], k=1)
    assert [[h.chunk_id for h in hs] for hs in hits] == [["ana/e1/0"], ["ana/e2/0"]]
    assert hits[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert set(vectors) == {h.chunk_id for hs in hits for h in hs}
    assert [round(float(x), 5) for x in vectors["ana/e1/0"]] == E1
    hits, vectors = index.query_many("bo", [E3], k=5, since=d, until=d)
    assert [h.chunk_id for h in hits[0]] == ["bo/e3/0", "bo/e1/0"]
    assert set(vectors) == {"bo/e3/0", "bo/e1/0"}
    with pytest.raises(ValueError, match="one user"):
        index.query_many("", [E1], k=1)


def test_vectors_never_returns_another_users_chunks(index: ChromaIndex) -> None:
    d = dt.date(2024, 1, 1)
    index.upsert([rec("ana", "e1", 0, d, E1), rec("bo", "e1", 0, d, E2)])
    got = index.vectors("ana", ["ana/e1/0", "bo/e1/0", "missing/x/0"])
    assert list(got) == ["ana/e1/0"]
    assert [round(float(x), 5) for x in got["ana/e1/0"]] == E1
    assert index.vectors("ana", []) == {}
    assert index.vectors("carol", ["ana/e1/0"]) == {}
    with pytest.raises(ValueError, match="one user"):
        index.vectors("", ["ana/e1/0"])


def test_vectors_checks_the_owner_in_the_record_not_the_id(index: ChromaIndex) -> None:
    # Ids are fetched without a where clause; ownership comes from each record's user_id.
    d = dt.date(2024, 1, 1)
    index.upsert([dataclasses.replace(rec("bo", "e9", 0, d, E3), chunk_id="ana/e9/0")])
    index.upsert([rec("ana", "e1", 0, d, E1)])
    assert list(index.vectors("ana", ["ana/e9/0", "ana/e1/0"])) == ["ana/e1/0"]
    assert list(index.vectors("bo", ["ana/e9/0", "ana/e1/0"])) == ["ana/e9/0"]
