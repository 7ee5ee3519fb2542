"""Encryption at rest changes nothing an answer cites.

The same journal is built twice, sealed (the default) and in the clear
(``TRUSTLENS_ENCRYPTION=false``, the measurement-only setting of ``trustlens bench
encryption``), each in its own temporary SQLite store and embedded Chroma, with
deterministic fake embeddings; every question must cite the same entries and quotes in
both. The two builds differ in their random user ids (which chunk ids embed) and in how
Chroma's HNSW graph was built (by several threads: never twice alike), so this also
holds retrieval to orders that depend on the journal alone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from eval.bench_common import PEOPLE, QUESTIONS, synthetic_entries
from ingest.readers import read_path
from ingest.store import get_or_create_user
from service.container import Container
from service.settings import Settings
from tests import ROOT
from tests.fakes import WordHashEmbeddings

MAYA = ROOT / "examples" / "maya" / "journal.jsonl"
MAYA_QUESTIONS = [
    "When did someone let me down?",
    "Who kept a promise?",
    "What happened with Pepper?",
    "How do I feel about running in the cold?",
    "When did I feel hurt?",
    "Did anyone lie to me?",
    "What helps me trust people again?",
    "How was work?",
]
# The benchmark's synthetic journal (eval.bench_common): 1100 chunks of sentences built
# from twenty templates, many near-ties, enough for an approximate index to go astray.
SYNTHETIC_QUESTIONS = [
    q.format(p=p, l="at the cafe", f="hurt", t="the spare key")
    for q in QUESTIONS
    for p in PEOPLE[:2]
]


def _build(root: Path, encryption: bool, journal: Path) -> tuple[Container, str]:
    c = Container(
        Settings(data_dir=root, llm="extractive", encryption=encryption),
        embeddings=WordHashEmbeddings(),
    )
    with c.sessions() as s:
        uid = get_or_create_user(s, "me").id
        s.commit()
    c.importer.import_reads(uid, read_path(journal))
    return c, uid


@pytest.fixture(scope="module")
def synthetic_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "journal.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in synthetic_entries(200, seed=7)))
    return path


def _citations(c: Container, uid: str, questions: list[str]) -> dict[str, list[tuple[str, str]]]:
    return {q: [(x.entry_id, x.quote) for x in c.ask.ask(uid, q).citations] for q in questions}


@pytest.fixture
def builds(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[tuple[Container, str], tuple[Container, str]]]:
    journal: Path = (
        request.param if isinstance(request.param, Path) else request.getfixturevalue(request.param)
    )
    sealed = _build(tmp_path / "sealed", True, journal)
    plain = _build(tmp_path / "plain", False, journal)
    yield sealed, plain
    sealed[0].close()
    plain[0].close()


@pytest.mark.parametrize(
    ("builds", "questions"),
    [(MAYA, MAYA_QUESTIONS), ("synthetic_journal", SYNTHETIC_QUESTIONS)],
    ids=["maya", "synthetic"],
    indirect=["builds"],
)
def test_sealed_and_plain_builds_cite_the_same(
    builds: tuple[tuple[Container, str], tuple[Container, str]], questions: list[str]
) -> None:
    (sealed, s_uid), (plain, p_uid) = builds
    assert s_uid != p_uid  # random ids: nothing below may depend on them
    got_sealed = _citations(sealed, s_uid, questions)
    got_plain = _citations(plain, p_uid, questions)
    differ = [i for i, q in enumerate(questions) if got_sealed[q] != got_plain[q]]
    assert not differ, f"questions {differ} cite differently"
    assert sum(bool(v) for v in got_sealed.values()) >= len(questions) // 2  # not vacuous


def test_dense_search_is_exact_and_ties_go_to_the_earlier_entry(container: Container) -> None:
    """The dense half of retrieval is the exact top k (Chroma's HNSW may miss some), and
    equal similarities are ordered by date, entry id and position, not by chunk id."""
    from ingest.vector_index import ChromaIndex, IndexRecord
    from service.retrieval.lexical import LexicalIndex

    index = ChromaIndex(
        container.chroma_client,
        "nearest-test",
        texts=lambda _, spans: [f"chunk {eid}" for eid, _, _ in spans],
    )
    lexical = LexicalIndex()

    rng = np.random.default_rng(3)
    dim = 32
    centres = rng.standard_normal((8, dim))
    vecs = centres[rng.integers(0, 8, 1500)] + 0.8 * rng.standard_normal((1500, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    twin = vecs[0]
    day = dt.date(2024, 1, 1)
    records = [
        IndexRecord(f"u/e{i:04d}/0", "u", f"e{i:04d}", day + dt.timedelta(days=i), 0, 4, "", v)
        for i, v in enumerate(vecs)
    ]
    # Two chunks with the same vector: the later-dated one has the smaller chunk id.
    records.append(IndexRecord("u/a-late/0", "u", "a-late", dt.date(2030, 1, 1), 0, 4, "", twin))
    index.upsert(records)

    queries = [rng.standard_normal(dim) for _ in range(10)] + [twin]
    per_query, vectors = lexical.nearest(index, "u", 0, queries, 40)
    for q, hits in zip(queries, per_query, strict=True):
        sims = vecs @ (q / np.linalg.norm(q))
        exact = {f"e{i:04d}" for i in np.argsort(-sims)[:40]}
        assert len(hits) == 40
        assert {h.entry_id for h in hits} - {"a-late"} <= exact
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
        assert all(h.chunk_id in vectors for h in hits)
    assert [h.entry_id for h in per_query[-1][:2]] == ["e0000", "a-late"]

    # A chunk added later is read with its vector when the revision moves.
    probe = rng.standard_normal(dim)
    index.upsert([IndexRecord("u/new/0", "u", "new", day, 0, 4, "", probe / np.linalg.norm(probe))])
    (fresh,), _ = lexical.nearest(index, "u", 1, [probe], 3)
    assert fresh[0].entry_id == "new" and fresh[0].similarity == pytest.approx(1.0)

    since = day + dt.timedelta(days=700)
    (bounded,), _ = lexical.nearest(index, "u", 1, [twin], 40, since=since)
    assert bounded and all(h.date >= since for h in bounded)
