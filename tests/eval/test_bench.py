"""``trustlens bench ingest``, ``bench ask``, ``bench after-write`` at tiny sizes: shapes, sanity.

No timing thresholds here (timings depend on the machine); the benches themselves
report ratios against baselines measured in the same run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import eval.results
from eval.bench_common import percentile, synthetic_entries
from service.cli.main import app

# A quality floor or benchmark on the real model: run by `make eval`, not `make test`.
pytestmark = [pytest.mark.model, pytest.mark.eval]


def _positive(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x) and x > 0


@pytest.fixture
def results_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Result files go to a temporary folder, not eval/results/."""
    out = tmp_path / "results"
    real = eval.results.write_result

    def write(name: str, payload: dict[str, Any], config: dict[str, Any]) -> Path:
        return real(name, payload, config, results_dir=out)

    monkeypatch.setattr(eval.results, "write_result", write)
    return out


def _run(args: list[str], tmp_path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, args, env={"TRUSTLENS_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    saved = json.loads(Path(doc["results_file"]).read_text())
    assert saved["config"] == doc["config"]
    assert "versions" in saved
    return doc


def test_synthetic_journal_is_deterministic_and_varied() -> None:
    a, b = synthetic_entries(50), synthetic_entries(50)
    assert a == b
    sentences = [s for e in a for s in e["text"].replace("\n\n", " ").split(". ")]
    assert len(set(sentences)) > 0.9 * len(sentences)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0


def test_bench_ingest_json(tmp_path: Path, results_dir: Path) -> None:
    doc = _run(["bench", "ingest", "--entries", "20", "--repeats", "1", "--json"], tmp_path)
    assert doc["entries"] == 20
    assert doc["import_totals"]["imported"] == 20 and doc["import_totals"]["rejected"] == 0
    assert doc["chunks"] >= 20 and doc["distinct_chunks"] <= doc["chunks"]
    assert set(doc["methods"]) == {"trustlens", "raw_encode", "raw_encode_all", "langchain"}
    # every chunk, plus the sentences the episode detector reads that are not a chunk
    assert doc["embedded_texts"] >= doc["distinct_chunks"]
    for m in doc["methods"].values():
        for key in ("seconds", "entries_per_s", "chunks_per_s", "python_peak_mib"):
            assert _positive(m[key]), (key, m)
        assert len(m["seconds_all"]) == 1
        assert m["entries_per_s"] == pytest.approx(20 / m["seconds"])
    for key in ("ratio_vs_raw_encode", "ratio_vs_raw_encode_all", "ratio_vs_langchain"):
        assert _positive(doc[key]), key
    t = doc["methods"]
    assert doc["ratio_vs_raw_encode"] == pytest.approx(
        t["raw_encode"]["seconds"] / t["trustlens"]["seconds"]
    )
    assert doc["ratio_vs_raw_encode_all"] == pytest.approx(
        t["raw_encode_all"]["seconds"] / t["trustlens"]["seconds"]
    )
    assert _positive(doc["max_rss_mib"])
    assert doc["config"]["embedding_batch_size"] > 0
    assert Path(doc["results_file"]).parent == results_dir


def test_bench_ask_json(tmp_path: Path, results_dir: Path) -> None:
    doc = _run(["bench", "ask", "--sizes", "200", "--queries", "3", "--json"], tmp_path)
    assert list(doc["sizes"]) == ["200"]
    r = doc["sizes"]["200"]
    assert r["chunks"] == 200 and r["queries"] == 3
    assert 0 <= r["abstained"] <= 3
    assert set(r["methods"]) == {"trustlens", "raw_chroma", "langchain"}
    for m in r["methods"].values():
        for key in ("p50_ms", "p95_ms", "mean_ms", "python_peak_mib"):
            assert _positive(m[key]), (key, m)
        assert m["p50_ms"] <= m["p95_ms"]
    for key in (
        "p50_ratio_vs_raw_chroma",
        "p95_ratio_vs_raw_chroma",
        "p50_ratio_vs_langchain",
        "p95_ratio_vs_langchain",
        "lexical_build_ms",
        "cold_first_ask_ms",
        "load_seconds",
        "rss_after_load_mib",
    ):
        assert _positive(r[key]), key
    assert _positive(doc["max_rss_mib"])
    assert Path(doc["results_file"]).parent == results_dir


def test_bench_ask_rejects_bad_sizes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "ask", "--sizes", "ten"])
    assert result.exit_code == 2
    assert "--sizes" in result.output


def test_bench_after_write_json(tmp_path: Path, results_dir: Path) -> None:
    doc = _run(["bench", "after-write", "--chunks", "300", "--repeats", "2", "--json"], tmp_path)
    assert doc["chunks"] == 300 + 2 * 5  # one entry of five chunks written per round
    assert doc["same_results"] is True
    assert len(doc["rounds"]) == 2
    for key in ("incremental_ms", "rebuild_ms", "ratio_rebuild_vs_incremental", "load_seconds"):
        assert _positive(doc[key]), key
    assert doc["ratio_rebuild_vs_incremental"] == pytest.approx(
        doc["rebuild_ms"] / doc["incremental_ms"]
    )
    assert all(_positive(v) for v in doc["cold_build_ms"].values())
    assert doc["config"]["chunks"] == 300
    assert Path(doc["results_file"]).parent == results_dir


def test_bench_next_question_json(tmp_path: Path, results_dir: Path) -> None:
    doc = _run(["bench", "next-question", "--chunks", "200", "--repeats", "2", "--json"], tmp_path)
    assert doc["chunks"] == 200 + 2 * 5
    assert len(doc["rounds"]) == 2
    for key in ("baseline_ms", "retrieval_ms", "ask_ms", "load_seconds"):
        assert _positive(doc[key]), key
    assert doc["ratio_retrieval_vs_baseline"] == pytest.approx(
        doc["retrieval_ms"] / doc["baseline_ms"]
    )
    assert doc["ratio_ask_vs_baseline"] == pytest.approx(doc["ask_ms"] / doc["baseline_ms"])
    assert set(doc["cold_ms"]) == {"baseline", "retrieval", "ask"}
    assert "384-dimensional" in doc["config"]["vectors"]
    assert Path(doc["results_file"]).parent == results_dir
