"""Result files carry what produced them; the citation metrics count what they should."""

from __future__ import annotations

import json
from pathlib import Path

from eval.metrics.citations import citation_precision, citation_recall
from eval.metrics.verbatim import verbatim_share
from eval.results import versions, write_result


def test_write_result_records_config_and_versions(tmp_path: Path) -> None:
    path = write_result("journal", {"summary": {"x": 1}}, {"k": 12}, results_dir=tmp_path)
    doc = json.loads(path.read_text())
    assert path.parent == tmp_path and path.name.startswith("journal-")
    assert doc["name"] == "journal"
    assert doc["config"] == {"k": 12}
    assert doc["summary"] == {"x": 1}
    assert doc["versions"]["chromadb"] == versions()["chromadb"] != "not installed"


def test_citation_metrics() -> None:
    assert citation_precision(["a", "b", "b", "c"], ["a", "c", "d"]) == 2 / 3
    assert citation_recall(["a", "b"], ["a", "c", "d", "e"]) == 0.25
    assert citation_precision([], ["a"]) is None
    assert citation_recall(["a"], []) is None


def test_verbatim_share() -> None:
    texts = {"a": "I went quiet for days.", "b": "Soup."}
    assert verbatim_share([("a", "went quiet"), ("b", "Soup."), ("a", "went silent")], texts) == (
        2 / 3
    )
    assert verbatim_share([("zzz", "Soup.")], texts) == 0.0
    assert verbatim_share([], texts) is None
