"""CI fast subset of the SciFact retrieval evaluation (real model, real ingest path).

The first 40 test queries, their relevant abstracts and a fixed slice of 200 other
abstracts (corpus order) are imported into a temporary store and index through
``container.importer``; each retriever's nDCG@10 must stay at or above its floor in
``eval/thresholds.json`` (``scifact_subset``). The full run is ``trustlens eval retrieval``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from eval.datasets.scifact import load_scifact
from eval.retrieval_eval import RETRIEVERS, run_retrieval_eval
from service.container import Container
from service.settings import Settings
from tests import ROOT

# A quality floor or benchmark on the real model: run by `make eval`, not `make test`.
pytestmark = [pytest.mark.model, pytest.mark.eval]

QUERIES = 40
OTHER_DOCS = 200


@pytest.fixture(scope="module")
def subset_result(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Any) -> Any:
    data = load_scifact()
    qids = data.test_query_ids[:QUERIES]
    relevant = {d for q in qids for d in data.qrels[q]}
    docs = [d for d in data.docs if d.doc_id in relevant]
    docs += [d for d in data.docs if d.doc_id not in relevant][:OTHER_DOCS]
    settings = Settings(data_dir=tmp_path_factory.mktemp("scifact"), chunk_max_words=400)
    c = Container(settings, embeddings=real_embeddings)
    result = run_retrieval_eval(c, data, RETRIEVERS, limit_queries=QUERIES, docs=docs)
    result["n_docs"] = len(docs)
    result["n_relevant"] = len(relevant)
    c.close()
    return result


def test_subset_is_imported_through_the_ingest_path(subset_result: Any) -> None:
    assert subset_result["import"]["imported"] == subset_result["n_docs"]
    assert subset_result["import"]["rejected"] == 0
    assert subset_result["n_relevant"] >= QUERIES
    assert all(r["queries"] == QUERIES for r in subset_result["retrievers"])


@pytest.mark.parametrize("mode", RETRIEVERS)
def test_ndcg_at_10_stays_above_floor(subset_result: Any, mode: str) -> None:
    floors = json.loads((ROOT / "eval" / "thresholds.json").read_text())["scifact_subset"]
    got = subset_result["summary"][mode]["ndcg@10"]
    assert got >= floors[f"{mode}_ndcg@10"], f"{mode} nDCG@10 {got} below floor"
