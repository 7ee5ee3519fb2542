"""Tagging acceptance on the labelled dev journals, with the real packaged model.

Issue 4: pattern labels per entry reach macro-F1 >= the floor in eval/thresholds.json
over the nine labels (seven patterns, two repair signals). The journals go through the
real ingest path and the labels are read back as ``trustlens patterns`` reads them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.tagging_eval import load_labels, prf, score, tagging_scores
from ingest.labels_store import UserLabels
from ingest.store import UserEntries
from service.container import Container
from service.settings import Settings
from tests.conftest import ROOT

FLOORS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["tagging"]


def test_prf_and_score_count_entries() -> None:
    gold = {"a": {"x"}, "b": set(), "c": {"x"}}
    assert prf({"a": {"x"}, "b": {"x"}}, gold, "x") == {
        "precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "tp": 1, "fp": 1, "fn": 1,
    }  # fmt: skip
    labels = load_labels()
    perfect = score(
        {e: set(v["patterns"]) | set(v["emotions"]) for e, v in labels.items()},
        {e: v["era"] for e, v in labels.items()},
        labels,
    )
    assert perfect["summary"]["era_accuracy"] == 1.0
    assert perfect["summary"]["macro_f1"] == 1.0


@pytest.mark.eval
@pytest.mark.model
def test_pattern_macro_f1_on_the_dev_journals(tmp_path: Path, real_embeddings: Any) -> None:
    c = Container(Settings(data_dir=tmp_path / "data"), embeddings=real_embeddings)
    try:
        result = tagging_scores(c)
        per_label = {
            k: (v["precision"], v["recall"], v["f1"]) for k, v in result["per_label"].items()
        }
        print("tagging", result["summary"], per_label)  # shown with -s: the honest figures
        assert result["summary"]["entries_missing"] == 0
        assert len(result["per_label"]) == 9
        assert result["summary"]["macro_f1"] >= FLOORS["macro_f1"]
        # every stored span lies inside its own entry (quotes are text[start:end])
        with c.sessions() as s:
            for uid in [u.id for u in _users(c)]:
                texts = {e.entry_id: e.text for e in UserEntries(s, uid).all()}
                for eid, spans in UserLabels(s, uid).spans().items():
                    for sp in spans:
                        assert 0 <= sp.start < sp.end <= len(texts[eid])
    finally:
        c.close()


def _users(c: Container) -> list[Any]:
    from sqlalchemy import select

    from ingest.store import User

    with c.sessions() as s:
        return list(s.scalars(select(User)))
