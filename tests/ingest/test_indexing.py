"""Tests for the write path: import -> store -> chunk -> embed -> Chroma.

Run on both deployments: SQLite + embedded Chroma, and PostgreSQL + a Chroma
server. After every step the Chroma records of a user must be exactly the chunks
the store holds for that user (ids, entry ids, dates, offsets, texts, vectors),
and the embedder must have been asked for exactly the texts that were new.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ingest.chunking import chunk_spans
from ingest.pipeline import Importer
from ingest.store import (
    Chunk,
    Entry,
    IndexState,
    UserEntries,
    bytes_to_vector,
    get_or_create_user,
)
from ingest.vector_index import ChromaIndex, chunk_id, date_number
from service.container import Container
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

MAX_WORDS = 20


# --------------------------------------------------------------------------- helpers


def make_user(c: Container, name: str) -> str:
    with c.sessions() as s:
        uid = get_or_create_user(s, name).id
        s.commit()
    return uid


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), "utf-8")
    return path


def sentence(eid: str, n: int, words: int = 9) -> str:
    """A sentence of ``words`` words that no other entry or position shares."""
    filler = " ".join(f"{eid}w{n}x{k}" for k in range(words - 3))
    return f"Entry {eid} part{n} {filler}."


def body(eid: str, sentences: int) -> str:
    return " ".join(sentence(eid, n) for n in range(sentences))


def journal() -> list[dict[str, Any]]:
    """Six entries; with 20 words a chunk, a 9-word sentence pair is one chunk."""
    return [
        {"id": "e1", "date": "2024-01-05", "text": body("e1", 2), "tags": ["trust"]},
        {"id": "e2", "date": "2024-01-06", "text": body("e2", 1)},
        {"id": "e3", "date": "2024-02-10", "text": body("e3", 6)},
        {"id": "e4", "date": "2024-02-11", "text": "Short one.\nSecond line here."},
        {"id": "e5", "date": "2024-03-01", "text": body("e5", 3), "tags": ["work", "trust"]},
        {"id": "e6", "date": "2024-12-31", "text": "He said “I’ll be there” 🙂 — he was not."},
    ]


def chroma_records(index: ChromaIndex, user_id: str) -> dict[str, dict[str, Any]]:
    got = index.collection.get(
        where={"user_id": user_id}, include=["metadatas", "documents", "embeddings"]
    )
    out = {}
    # Chroma holds no text: a record's text is read from the store by its offsets.
    assert not any(got["documents"] or []), "Chroma must not hold chunk text"
    assert index.texts is not None
    texts = index.texts(
        user_id, [(str(m["entry_id"]), int(m["start"]), int(m["end"])) for m in got["metadatas"]]
    )
    for cid, meta, doc, emb in zip(
        got["ids"], got["metadatas"], texts, got["embeddings"], strict=True
    ):
        out[cid] = {
            **meta,
            "document": doc,
            "embedding": [float(x) for x in emb],
        }
    return out


def expected_records(
    sessions: sessionmaker[Session], user_id: str, max_words: int = MAX_WORDS
) -> dict[str, dict[str, Any]]:
    """What Chroma must hold for ``user_id``, built from the store alone.

    Also checks the store itself: every entry is chunked as ``chunk_spans`` says, has
    a stored vector for each chunk and an index_state for its current content.
    """
    out: dict[str, dict[str, Any]] = {}
    with sessions() as s:
        store = UserEntries(s, user_id)
        entries = store.all()
        chunks = store.chunks_of(entries)
        for e in entries:
            assert e.index_state is not None, f"{e.entry_id} has no index_state"
            assert e.index_state.indexed_hash == e.content_hash, e.entry_id
            spans = chunk_spans(e.text, max_words)
            got = chunks[e.pk]
            assert [(c.seq, c.start, c.end) for c in got] == [
                (i, sp.start, sp.end) for i, sp in enumerate(spans)
            ], e.entry_id
            assert got, f"{e.entry_id} has no chunks"
            for c in got:
                assert c.embedding is not None
                out[chunk_id(user_id, e.entry_id, c.seq)] = {
                    "user_id": user_id,
                    "entry_id": e.entry_id,
                    "date": e.date.isoformat(),
                    "date_num": date_number(e.date),
                    "start": c.start,
                    "end": c.end,
                    "document": e.text[c.start : c.end],
                    "embedding": bytes_to_vector(c.embedding),
                }
    return out


def _label_key(key: str) -> bool:
    return key in ("era", "entry_era") or key.startswith("lab_")


def assert_index_matches_store(c: Container, user_id: str) -> dict[str, dict[str, Any]]:
    """Chroma holds exactly the store's chunks for this user, field for field."""
    expected = expected_records(c.sessions, user_id, c.settings.chunk_max_words)
    actual = chroma_records(c.index, user_id)
    assert set(actual) == set(expected)
    for cid, rec in actual.items():
        want = expected[cid]
        # Label metadata (era, lab_<label>) is the tagger's; tests/test_labels_store.py
        # checks it against the label rows.
        assert {k: v for k, v in rec.items() if k != "embedding" and not _label_key(k)} == {
            k: v for k, v in want.items() if k != "embedding"
        }, cid
        # Chroma may re-normalise vectors in a cosine space: equal up to float32 noise.
        assert np.allclose(rec["embedding"], want["embedding"], atol=1e-6), cid
    return actual


def store_entry_ids(c: Container, user_id: str) -> set[str]:
    with c.sessions() as s:
        return {e.entry_id for e in UserEntries(s, user_id).all()}


def chunk_texts(text: str, max_words: int = MAX_WORDS) -> list[str]:
    return [sp.of(text) for sp in chunk_spans(text, max_words)]


def embedded(fake: WordHashEmbeddings, since: int = 0) -> list[str]:
    return [t for call in fake.calls[since:] for t in call]


class RefusingEmbeddings(Embeddings):
    """An embedder that must not be used: any call fails the test."""

    model_name = "refusing"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError(f"embed_documents called with {texts!r}")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("embed_query called")


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(params=["sqlite+embedded", "postgres+server"])
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, fake_embeddings: WordHashEmbeddings
) -> Iterator[Container]:
    if request.param == "sqlite+embedded":
        settings = Settings(data_dir=tmp_path / "data", chunk_max_words=MAX_WORDS)
    else:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=request.getfixturevalue("pg_url"),
            chroma_url=request.getfixturevalue("chroma_server"),
            chroma_collection=f"t_{uuid.uuid4().hex}",
            chunk_max_words=MAX_WORDS,
        )
    c = Container(settings, embeddings=fake_embeddings)
    yield c
    c.close()


# ----------------------------------------------------------------------------- tests


def test_first_import_indexes_every_entry(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    report = stack.importer.import_path(uid, path)
    assert report.as_dict() == {
        "files": [
            {
                "path": str(path),
                "imported": 6,
                "updated": 0,
                "unchanged": 0,
                "rejected": [],
                "error": None,
            }
        ],
        "totals": {
            "files": 1,
            "imported": 6,
            "updated": 0,
            "unchanged": 0,
            "rejected": 0,
            "failed_files": 0,
            "indexed": 6,
        },
    }
    all_chunks = [t for i in items for t in chunk_texts(i["text"])]
    assert len(all_chunks) == 9  # 1 + 1 + 3 + 1 + 2 + 1
    # Every chunk text was embedded exactly once.
    assert sorted(embedded(fake_embeddings)) == sorted(all_chunks)

    records = assert_index_matches_store(stack, uid)
    assert {r["entry_id"] for r in records.values()} == {"e1", "e2", "e3", "e4", "e5", "e6"}
    assert sorted(cid for cid in records if "/e3/" in cid) == [f"{uid}/e3/{i}" for i in range(3)]
    e6 = records[f"{uid}/e6/0"]
    assert (e6["date"], e6["date_num"], e6["start"], e6["end"]) == (
        "2024-12-31",
        20241231,
        0,
        len(items[5]["text"]),
    )
    assert e6["document"] == "He said “I’ll be there” 🙂 — he was not."
    with stack.sessions() as s:
        entry = UserEntries(s, uid).get("e5")
        assert entry is not None
        assert (entry.tags, entry.source) == (["work", "trust"], "journal.jsonl:5")
        assert UserEntries(s, uid).revision() >= 1


def test_reimporting_the_same_file_changes_nothing(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    path = write_jsonl(tmp_path / "journal.jsonl", journal())
    stack.importer.import_path(uid, path)
    before = assert_index_matches_store(stack, uid)
    calls = len(fake_embeddings.calls)
    revision = stack.retrievers.revision(uid)
    with stack.sessions() as s:
        indexed_at = {st.entry_pk: st.indexed_at for st in s.scalars(select(IndexState))}
        chunk_pks = sorted(s.scalars(select(Chunk.pk)))

    report = stack.importer.import_path(uid, path)
    assert report.totals == {
        "files": 1,
        "imported": 0,
        "updated": 0,
        "unchanged": 6,
        "rejected": 0,
        "failed_files": 0,
        "indexed": 0,
    }
    assert len(fake_embeddings.calls) == calls
    assert stack.retrievers.revision(uid) == revision
    assert assert_index_matches_store(stack, uid) == before
    with stack.sessions() as s:
        assert {st.entry_pk: st.indexed_at for st in s.scalars(select(IndexState))} == indexed_at
        assert sorted(s.scalars(select(Chunk.pk))) == chunk_pks


def test_changed_text_reembeds_only_that_entry(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    stack.importer.import_path(uid, path)
    before = assert_index_matches_store(stack, uid)
    assert sorted(cid for cid in before if "/e3/" in cid) == [f"{uid}/e3/{i}" for i in range(3)]
    calls = len(fake_embeddings.calls)

    # e3 shrinks from three chunks to one, with all-new words.
    new_e3 = "Completely rewritten entry about forgiveness and a long walk home."
    items[2]["text"] = new_e3
    write_jsonl(path, items)
    report = stack.importer.import_path(uid, path)
    assert (report.totals["imported"], report.totals["updated"], report.totals["unchanged"]) == (
        0,
        1,
        5,
    )
    assert report.totals["indexed"] == 1
    assert fake_embeddings.calls[calls:] == [[new_e3]]

    after = assert_index_matches_store(stack, uid)
    # The old chunks 1 and 2 of e3 are gone from Chroma, chunk 0 holds the new text.
    assert sorted(cid for cid in after if "/e3/" in cid) == [f"{uid}/e3/0"]
    assert after[f"{uid}/e3/0"]["document"] == new_e3
    assert (after[f"{uid}/e3/0"]["start"], after[f"{uid}/e3/0"]["end"]) == (0, len(new_e3))
    # Every other entry's records are exactly as they were.
    assert {k: v for k, v in after.items() if "/e3/" not in k} == {
        k: v for k, v in before.items() if "/e3/" not in k
    }


def test_growing_an_entry_embeds_only_its_new_chunks(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    stack.importer.import_path(uid, path)
    calls = len(fake_embeddings.calls)

    old_e2 = items[1]["text"]  # one 9-word sentence, one chunk
    extra = " ".join(sentence("e2new", n, words=12) for n in range(3))
    items[1]["text"] = old_e2 + "\n" + extra
    write_jsonl(path, items)
    report = stack.importer.import_path(uid, path)
    assert report.totals["updated"] == 1

    new_chunks = chunk_texts(items[1]["text"])
    # 9 + 12 words do not fit in 20: the old text stays a chunk of its own (vector reused).
    assert new_chunks[0] == old_e2
    assert len(new_chunks) == 4
    # Only the three new chunks are embedded; nothing of another entry is.
    assert fake_embeddings.calls[calls:] == [new_chunks[1:]]
    after = assert_index_matches_store(stack, uid)
    assert sorted(cid for cid in after if "/e2/" in cid) == [f"{uid}/e2/{i}" for i in range(4)]
    assert [after[f"{uid}/e2/{i}"]["document"] for i in range(4)] == new_chunks


def test_unchanged_chunks_of_an_edited_entry_are_not_reembedded(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    stack.importer.import_path(uid, path)
    old = chunk_texts(items[2]["text"])  # e3: three chunks of two sentences
    assert len(old) == 3
    calls = len(fake_embeddings.calls)

    # Replace only the last two sentences: chunks 0 and 1 keep their exact text.
    added = "A brand new closing thought about honesty."
    items[2]["text"] = old[0] + " " + old[1] + " " + added
    write_jsonl(path, items)
    stack.importer.import_path(uid, path)
    assert fake_embeddings.calls[calls:] == [[added]]
    after = assert_index_matches_store(stack, uid)
    assert [after[f"{uid}/e3/{i}"]["document"] for i in range(3)] == [old[0], old[1], added]


def test_date_or_tags_change_reindexes_without_embedding(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    stack.importer.import_path(uid, path)
    before = assert_index_matches_store(stack, uid)
    calls = len(fake_embeddings.calls)
    revision = stack.retrievers.revision(uid)

    items[4]["date"] = "2023-11-30"  # e5 moves back in time
    items[0]["tags"] = ["trust", "family"]  # e1 gets a tag
    write_jsonl(path, items)
    report = stack.importer.import_path(uid, path)
    assert (report.totals["updated"], report.totals["unchanged"], report.totals["indexed"]) == (
        2,
        4,
        2,
    )
    assert len(fake_embeddings.calls) == calls  # every vector came from the store
    assert stack.retrievers.revision(uid) > revision

    after = assert_index_matches_store(stack, uid)
    assert set(after) == set(before)
    for cid, rec in after.items():
        if "/e5/" in cid:
            assert (rec["date"], rec["date_num"]) == ("2023-11-30", 20231130)
            assert {**rec, "date": None, "date_num": None} == {
                **before[cid],
                "date": None,
                "date_num": None,
            }
        else:
            assert rec == before[cid]
    hits = stack.index.documents(uid, until=dt.date(2023, 12, 31))
    assert {h.entry_id for h in hits} == {"e5"}
    with stack.sessions() as s:
        e1 = UserEntries(s, uid).get("e1")
        assert e1 is not None and e1.tags == ["trust", "family"]


def test_reindex_rebuilds_chroma_from_the_store_without_the_embedder(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    ana = make_user(stack, "ana")
    bo = make_user(stack, "bo")
    path = write_jsonl(tmp_path / "journal.jsonl", journal())
    stack.importer.import_path(ana, path)
    stack.importer.import_path(bo, write_jsonl(tmp_path / "bo.jsonl", journal()[:2]))
    before_ana = assert_index_matches_store(stack, ana)
    before_bo = assert_index_matches_store(stack, bo)
    calls = len(fake_embeddings.calls)

    # Lose part of Ana's index and add a stray record the store knows nothing about.
    stack.index.delete_entries(ana, ["e1", "e3"])
    like = before_ana[f"{ana}/e2/0"]
    meta = {k: v for k, v in like.items() if k not in ("document", "embedding")}
    stack.index.collection.upsert(
        ids=[f"{ana}/ghost/0"],
        embeddings=[like["embedding"]],
        metadatas=[{**meta, "entry_id": "ghost"}],
    )
    assert f"{ana}/ghost/0" in chroma_records(stack.index, ana)

    stack.indexer.embeddings = RefusingEmbeddings()
    assert stack.indexer.reindex(ana) == 6
    assert len(fake_embeddings.calls) == calls
    assert assert_index_matches_store(stack, ana) == before_ana
    assert assert_index_matches_store(stack, bo) == before_bo

    # All users at once.
    stack.index.delete_user(bo)
    assert stack.indexer.reindex() == 8
    assert assert_index_matches_store(stack, ana) == before_ana
    assert assert_index_matches_store(stack, bo) == before_bo
    assert stack.indexer.index_pending() == 0


def test_index_pending_indexes_committed_but_unindexed_entries(
    stack: Container, fake_embeddings: WordHashEmbeddings
) -> None:
    uid = make_user(stack, "ana")
    with stack.sessions() as s:
        store = UserEntries(s, uid)
        e1, _ = store.upsert("p1", dt.date(2024, 6, 1), "Committed before a crash.", [], "x")
        e2, _ = store.upsert("p2", dt.date(2024, 6, 2), "Also committed. Never indexed.", [], "x")
        s.commit()
    assert stack.indexer.pending(uid) == [e1.pk, e2.pk]
    assert stack.index.count(uid) == 0

    assert stack.indexer.index_pending() == 2
    assert stack.indexer.pending(uid) == []
    records = assert_index_matches_store(stack, uid)
    assert {r["entry_id"] for r in records.values()} == {"p1", "p2"}
    assert sorted(embedded(fake_embeddings)) == [
        "Also committed. Never indexed.",
        "Committed before a crash.",
    ]
    assert stack.indexer.index_pending(uid) == 0


def test_embedder_failure_leaves_nothing_half_indexed(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    path = write_jsonl(tmp_path / "journal.jsonl", journal())

    class Broken(Embeddings):
        model_name = fake_embeddings.model_name

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise RuntimeError("model crashed")

        def embed_query(self, text: str) -> list[float]:
            raise RuntimeError("model crashed")

    stack.indexer.embeddings = Broken()
    with pytest.raises(RuntimeError, match="model crashed"):
        stack.importer.import_path(uid, path)
    # The entries were committed (the source of truth) but nothing derived was written.
    with stack.sessions() as s:
        assert len(list(s.scalars(select(Entry)))) == 6
        assert list(s.scalars(select(Chunk))) == []
        assert list(s.scalars(select(IndexState))) == []
    assert stack.index.count(uid) == 0
    assert len(stack.indexer.pending(uid)) == 6

    # The next import finishes the job first, then finds every entry unchanged.
    stack.indexer.embeddings = fake_embeddings
    report = stack.importer.import_path(uid, path)
    assert (report.totals["indexed"], report.totals["unchanged"], report.totals["imported"]) == (
        6,
        6,
        0,
    )
    records = assert_index_matches_store(stack, uid)
    assert {r["entry_id"] for r in records.values()} == store_entry_ids(stack, uid)


def test_two_users_importing_the_same_file_stay_apart(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    ana = make_user(stack, "ana")
    bo = make_user(stack, "bo")
    items = journal()
    path = write_jsonl(tmp_path / "journal.jsonl", items)
    assert stack.importer.import_path(ana, path).totals["imported"] == 6
    assert stack.importer.import_path(bo, path).totals["imported"] == 6
    ra = assert_index_matches_store(stack, ana)
    rb = assert_index_matches_store(stack, bo)
    assert all(cid.startswith(f"{ana}/") for cid in ra)
    assert all(cid.startswith(f"{bo}/") for cid in rb)
    assert len(ra) == len(rb) == 9

    # Ana edits e1; Bo's e1 is untouched, in the store and in Chroma.
    items[0]["text"] = "Ana's own new words."
    write_jsonl(path, items)
    assert stack.importer.import_path(ana, path).totals["updated"] == 1
    assert assert_index_matches_store(stack, bo) == rb
    assert assert_index_matches_store(stack, ana)[f"{ana}/e1/0"]["document"] == (
        "Ana's own new words."
    )
    stack.indexer.reindex(ana)
    assert assert_index_matches_store(stack, bo) == rb


def test_identical_chunk_texts_are_embedded_once(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    path = write_jsonl(
        tmp_path / "j.jsonl",
        [
            {"date": "2024-01-01", "text": "I trust her."},
            {"date": "2024-01-02", "text": "I trust her."},
            {"date": "2024-01-03", "text": "I trust her.\nShe kept her word."},
        ],
    )
    report = stack.importer.import_path(uid, path)
    assert report.totals["imported"] == 3
    assert len(fake_embeddings.calls) == 1
    assert sorted(embedded(fake_embeddings)) == ["I trust her.", "I trust her.\nShe kept her word."]
    records = assert_index_matches_store(stack, uid)
    assert len({r["entry_id"] for r in records.values()}) == 3
    # Entries without ids get stable derived ids: importing again is a no-op.
    again = stack.importer.import_path(uid, path)
    assert (again.totals["unchanged"], again.totals["imported"]) == (3, 0)


class FailingAfter(Embeddings):
    """Delegates to ``inner`` for ``ok_calls`` calls, then fails like a crashed model."""

    def __init__(self, inner: WordHashEmbeddings, ok_calls: int):
        self.inner = inner
        self.model_name = inner.model_name
        self.ok_calls = ok_calls

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.ok_calls == 0:
            raise RuntimeError("killed mid-import")
        self.ok_calls -= 1
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_an_import_interrupted_between_batches_resumes_exactly(
    stack: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(stack, "ana")
    path = write_jsonl(tmp_path / "journal.jsonl", journal())
    importer = Importer(stack.sessions, stack.indexer, commit_every=2)

    stack.indexer.embeddings = FailingAfter(fake_embeddings, ok_calls=1)
    with pytest.raises(RuntimeError, match="killed mid-import"):
        importer.import_path(uid, path)
    # Batch 1 is stored and indexed, batch 2 stored but not indexed, batch 3 never read.
    assert store_entry_ids(stack, uid) == {"e1", "e2", "e3", "e4"}
    with stack.sessions() as s:
        pending = {e.entry_id for e in UserEntries(s, uid).pending_index()}
    assert pending == {"e3", "e4"}
    assert {h.entry_id for h in stack.index.documents(uid)} == {"e1", "e2"}

    stack.indexer.embeddings = fake_embeddings
    seen: list[tuple[str, int, int]] = []
    report = importer.import_path(uid, path, lambda p, done, total: seen.append((p, done, total)))
    assert seen == [(str(path), 2, 6), (str(path), 4, 6), (str(path), 6, 6)]
    assert (
        report.totals["imported"],
        report.totals["unchanged"],
        report.totals["indexed"],
    ) == (2, 4, 4)
    records = assert_index_matches_store(stack, uid)
    assert {r["entry_id"] for r in records.values()} == {"e1", "e2", "e3", "e4", "e5", "e6"}
    # Every chunk text was embedded exactly once over both runs.
    texts = embedded(fake_embeddings)
    assert len(texts) == len(set(texts)) == 9
