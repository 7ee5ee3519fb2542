"""The hybrid retriever, fusion, query plans and evidence selection (fake embeddings)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from langchain_core.documents import Document
from pydantic import ValidationError

from ingest.readers import read_path
from ingest.store import get_or_create_user
from service.answer.evidence import EvidencePolicy, select_evidence, topic_of
from service.container import Container
from service.query import plan_query
from service.retrieval.fusion import reciprocal_rank_fusion
from service.retrieval.hybrid import HybridRetriever

ENTRIES = [
    (
        '{"id": "a1", "date": "2023-02-01", "text": "My mother promised to come to the recital '
        'and never showed. I kept looking at the door."}'
    ),
    (
        '{"id": "a2", "date": "2024-06-10", "text": "Rui forgot our plans again. I did not answer '
        'his messages for three days."}'
    ),
    '{"id": "a3", "date": "2024-07-02", "text": "Made lentil soup and watched the rain."}',
    (
        '{"id": "a4", "date": "2025-01-15", "text": "I told Rui I was scared he would drift away. '
        'He listened and we made a plan for Sundays."}'
    ),
]


@pytest.fixture
def loaded(container: Container, tmp_path) -> tuple[Container, str]:
    path = tmp_path / "j.jsonl"
    path.write_text("\n".join(ENTRIES) + "\n")
    with container.sessions() as s:
        uid = get_or_create_user(s, "ana").id
        s.commit()
    container.importer.import_reads(uid, read_path(path))
    return container, uid


def test_rrf_sums_reciprocal_ranks() -> None:
    fused = reciprocal_rank_fusion([["a", "b"], ["b", "c"]], k=60)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_retriever_needs_a_user(loaded: tuple[Container, str]) -> None:
    c, _ = loaded
    with pytest.raises(ValidationError):
        HybridRetriever(
            user_id="",
            index=c.index,
            embeddings=c.embeddings,
            lexical=c.lexical,
            revision=lambda: 0,
        )


def test_hybrid_finds_lexical_and_dense_matches_with_offsets(loaded: tuple[Container, str]) -> None:
    c, uid = loaded
    docs = c.retrievers.for_user(uid).invoke("lentil soup rain")
    assert docs[0].metadata["entry_id"] == "a3"
    m = docs[0].metadata
    assert m["date"] == "2024-07-02"
    assert docs[0].page_content == "Made lentil soup and watched the rain."
    assert (m["start"], m["end"]) == (0, len(docs[0].page_content))
    assert m["similarity"] > 0.5 and m["score"] > 0


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_each_mode_ranks_the_matching_entry_first(loaded: tuple[Container, str], mode) -> None:
    c, uid = loaded
    docs = c.retrievers.for_user(uid, mode=mode).invoke("Rui forgot our plans")
    assert docs[0].metadata["entry_id"] == "a2"


def test_date_range_filters_both_retrievers(loaded: tuple[Container, str]) -> None:
    c, uid = loaded
    docs = c.retrievers.for_user(
        uid, since=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31)
    ).invoke("Rui mother recital soup")
    assert {d.metadata["entry_id"] for d in docs} <= {"a2", "a3"}
    assert docs


def test_other_users_chunks_are_never_returned(loaded: tuple[Container, str], tmp_path) -> None:
    c, ana = loaded
    with c.sessions() as s:
        ben = get_or_create_user(s, "ben").id
        s.commit()
    p = tmp_path / "b.jsonl"
    p.write_text('{"id": "a2", "date": "2024-05-05", "text": "Rui forgot our plans, said Ben."}\n')
    c.importer.import_reads(ben, read_path(p))
    ben_docs = c.retrievers.for_user(ben).invoke("Rui forgot our plans")
    assert [d.page_content for d in ben_docs] == ["Rui forgot our plans, said Ben."]
    ana_texts = {
        d.page_content for d in c.retrievers.for_user(ana).invoke("Rui forgot our plans said Ben")
    }
    assert "Rui forgot our plans, said Ben." not in ana_texts


def test_plan_recognises_habit_questions_and_their_trigger() -> None:
    p = plan_query("what do I usually do when I feel betrayed?")
    assert p.habit and p.trigger
    assert p.focus == "I feel betrayed"
    assert p.labels == ("betrayal",)
    assert p.expansions[0] == "I feel betrayed" and len(p.expansions) > 3
    assert p.expansion_weight == 1.0
    q = plan_query("do I test people to see if they really care?")
    assert q.habit and not q.trigger and "testing" in q.labels
    assert q.expansion_weight == 0.5
    r = plan_query("What did my dentist say about my teeth?")
    assert not r.habit and r.labels == () and r.expansions == []


def _doc(entry: str, sim: float) -> Document:
    return Document(
        page_content=f"text {entry}",
        metadata={
            "entry_id": entry,
            "date": "2024-01-01",
            "start": 0,
            "end": 5,
            "similarity": sim,
            "score": 0.01,
        },
    )


def test_evidence_abstains_when_topic_words_are_missing_and_similarity_is_modest() -> None:
    plan = plan_query("How is my dog doing?")
    docs = [_doc("a", 0.45)]
    assert select_evidence(docs, plan, coverage=0.0) == []
    assert [e.entry_id for e in select_evidence(docs, plan, coverage=1.0)] == ["a"]
    assert [e.entry_id for e in select_evidence([_doc("a", 0.6)], plan, coverage=0.0)] == ["a"]


def test_evidence_keeps_one_chunk_per_entry_within_the_margin() -> None:
    plan = plan_query("what happened with Daniel?")
    docs = [_doc("a", 0.7), _doc("a", 0.65), _doc("b", 0.6), _doc("c", 0.5), _doc("d", 0.2)]
    got = select_evidence(docs, plan, coverage=1.0, policy=EvidencePolicy(margin=0.12))
    assert [(e.entry_id, e.similarity) for e in got] == [("a", 0.7), ("b", 0.6)]


def test_the_fused_first_chunk_is_kept_below_the_margin_but_not_below_the_floor() -> None:
    """An exact rare word (BM25) can put an entry first that dense similarity ranks low:
    "zq111x Rowan" once cited only another Rowan entry, never the one holding zq111x."""
    plan = plan_query("what happened with Daniel?")
    policy = EvidencePolicy(margin=0.12, min_relevance=0.3, max_entries=2)
    docs = [_doc("x", 0.45), _doc("a", 0.7), _doc("b", 0.65), _doc("c", 0.4)]
    got = select_evidence(docs, plan, coverage=1.0, policy=policy)
    assert [(e.entry_id, e.similarity) for e in got] == [("a", 0.7), ("x", 0.45)]
    wider = select_evidence(docs, plan, coverage=1.0, policy=replace(policy, max_entries=6))
    assert [e.entry_id for e in wider] == ["a", "b", "x"]
    weak = [_doc("x", 0.25), _doc("a", 0.7)]
    assert [e.entry_id for e in select_evidence(weak, plan, 1.0, policy)] == ["a"]


def test_label_trigger_questions_use_an_absolute_floor() -> None:
    plan = plan_query("what do I usually do when I feel betrayed?")
    docs = [_doc(f"e{i}", 0.8 - i * 0.05) for i in range(10)]
    got = select_evidence(docs, plan, coverage=1.0, policy=EvidencePolicy(label_floor=0.4))
    assert [e.entry_id for e in got] == [f"e{i}" for i in range(9)]


def test_topic_names_the_questions_topic_words() -> None:
    assert topic_of("What did my dentist say about my teeth?") == '"dentist" or "teeth"'
    assert topic_of("How is my dog doing?") == '"dog"'
    assert topic_of("What about it?") == "that"


def test_widen_adds_the_following_sentence_and_stays_verbatim() -> None:
    from service.answer.evidence import Evidence, widen

    text = "Rui forgot our plans again. I did not answer his messages. Then I made soup."
    ev = Evidence("a2", "2024-06-10", 0, 27, text[:27], 0.5, 0.01)
    wide = widen(ev, text)
    assert wide.text == "Rui forgot our plans again. I did not answer his messages."
    assert text[wide.start : wide.end] == wide.text
    stale = Evidence("a2", "2024-06-10", 0, 27, "something else", 0.5, 0.01)
    assert widen(stale, text) == stale
