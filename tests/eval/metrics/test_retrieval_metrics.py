"""nDCG@10, recall@100 and MRR@10 on hand-computed examples; SciFact parsing."""

from __future__ import annotations

import math

import pytest
from langchain_core.documents import Document

from eval.datasets.scifact import Doc, parse_sentences
from eval.metrics.mrr import mrr_at_k
from eval.metrics.ndcg import ndcg_at_k
from eval.metrics.recall import recall_at_k
from eval.retrieval_eval import pool_documents


def test_ndcg_perfect_ranking_is_one() -> None:
    assert ndcg_at_k(["a", "b", "x"], {"a": 1, "b": 1}, 10) == pytest.approx(1.0)


def test_ndcg_binary_hand_computed() -> None:
    # relevant at ranks 2 and 3: DCG = 1/log2(3) + 1/log2(4); ideal = 1 + 1/log2(3)
    got = ndcg_at_k(["x", "a", "b"], {"a": 1, "b": 1}, 10)
    want = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert got == pytest.approx(want)
    assert got == pytest.approx(0.6934, abs=1e-4)


def test_ndcg_graded_uses_linear_gain_and_all_judged_docs_for_ideal() -> None:
    # grades a=2, b=1, c=1 (c never retrieved): DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3) + 1/2
    got = ndcg_at_k(["b", "a", "x"], {"a": 2, "b": 1, "c": 1}, 10)
    want = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3) + 0.5)
    assert got == pytest.approx(want)


def test_ndcg_cuts_at_k() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at_k(ranked, {"a": 1}, 10) == 0.0
    assert ndcg_at_k(ranked, {"a": 1}, 11) == pytest.approx(1 / math.log2(12))


def test_ndcg_without_relevant_docs_is_zero() -> None:
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0


def test_recall_at_k() -> None:
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, 100) == pytest.approx(2 / 3)
    assert recall_at_k(["x", "a"], {"a": 1}, 1) == 0.0
    assert recall_at_k(["x"], {}, 100) == 0.0


def test_mrr_at_k() -> None:
    assert mrr_at_k(["x", "y", "a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["a"], {"a": 1}, 10) == 1.0
    assert mrr_at_k([f"x{i}" for i in range(10)] + ["a"], {"a": 1}, 10) == 0.0


def test_pooling_keeps_each_document_once_at_its_best_chunk() -> None:
    docs = [
        Document(page_content="", metadata={"entry_id": e}) for e in ["d1", "d2", "d1", "d3", "d2"]
    ]
    assert pool_documents(docs) == ["d1", "d2", "d3"]
    assert pool_documents(docs, depth=2) == ["d1", "d2"]


def test_abstract_cells_with_and_without_commas() -> None:
    numpy_style = "['First sentence.'\n 'It\\'s second.' \"Third, with 'quotes'.\"]"
    assert parse_sentences(numpy_style) == (
        "First sentence.",
        "It's second.",
        "Third, with 'quotes'.",
    )
    assert parse_sentences("['A.', 'B.']") == ("A.", "B.")
    assert Doc("1", "Title.", ("A.", "B.")).text == "Title. A. B."
