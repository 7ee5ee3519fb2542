"""Issue 13's acceptance targets for the crisis gate on real writing (slow: it retrains
the shipped recipe once per fold, so it is marked ``eval``)."""

from __future__ import annotations

import json

import pytest

from eval.crisis_eval import cssrs_scores, journal_report
from ingest.embedding import SentenceTransformerEmbeddings
from tests import ROOT

FLOORS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["crisis_cssrs"]


@pytest.mark.eval
@pytest.mark.model
def test_real_posts_cross_validated(real_embeddings: SentenceTransformerEmbeddings) -> None:
    s = cssrs_scores(real_embeddings)["summary"]
    assert s["n"] == 733 and s["how"].startswith("cross-validated"), s
    assert s["level2_resources_recall"] >= FLOORS["level2_resources_recall_min"], s
    assert s["level4_crisis_recall"] >= FLOORS["level4_crisis_recall_min"], s
    assert s["level0_crisis"] <= FLOORS["level0_crisis_max"], s


@pytest.mark.eval
@pytest.mark.model
def test_journals_get_no_crisis_and_few_concerns(
    real_embeddings: SentenceTransformerEmbeddings,
) -> None:
    r = journal_report(real_embeddings)
    assert r["summary"]["crisis"] <= FLOORS["journal_crisis_max"], r["summary"]
    per = FLOORS["journal_concern_entries_per_journal_max"]
    assert r["summary"]["max_concern_entries_per_journal"] <= per, r["journals"]
