"""Floors on the dev journals (eval/datasets/journals/dev), real model, through the same
run as ``trustlens eval journal --corpus``. The test journals are not here: they are
measured once, apart (README, "Question understanding")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.journal_corpus import run_corpus
from service.container import Container
from service.settings import Settings
from tests import ROOT

# A quality floor on the real model: run by `make eval`, not `make test`.
pytestmark = [pytest.mark.model, pytest.mark.eval]

FLOORS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["journal_corpus_dev"]


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    c = Container(Settings(data_dir=Path(tmp_path_factory.mktemp("corpus"))))
    try:
        result = run_corpus(c, ROOT / "eval" / "datasets" / "journals" / "dev")
    finally:
        c.close()
    summary: dict[str, Any] = result["summary"]
    return summary


@pytest.mark.parametrize("key", sorted(k for k in FLOORS if not k.startswith("_")))
def test_dev_journal_floor(figures: dict[str, Any], key: str) -> None:
    floor = FLOORS[key]
    value = figures[key]
    if key.endswith(("wrongful", "out_of_window", ".short", ".not_verbatim")):
        assert value <= floor, (key, value)  # a ceiling
    else:
        assert value >= floor, (key, value)
