"""End to end over the CLI: the insight engine as a person runs it, with the real model.

One journal (maya's) and a second person (ben) are imported once; then each insight
command runs as a real process and its JSON is checked for shape, grounding (every
quote verbatim from the person's own entries) and isolation (never ben's entries).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.service.cli.test_cli import JOURNAL, maya_entries, run

pytestmark = pytest.mark.model

BEN = [
    {
        "id": "b1",
        "date": "2024-05-05",
        "text": "My brother borrowed my car and returned it empty. I felt betrayed and "
        "didn't answer his calls for a week.",
    }
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("insight-cli")
    ben = d / "ben.jsonl"
    ben.write_text("".join(json.dumps(r) + "\n" for r in BEN))
    for path, user in ((JOURNAL, "maya"), (ben, "ben")):
        p = run(["ingest", str(path), "--user", user, "--json"], d)
        assert p.returncode == 0, p.stderr
    return d


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    return {k: v["text"] for k, v in maya_entries().items()}


def as_json(p: Any) -> dict[str, Any]:
    assert p.returncode == 0, p.stderr[-2000:]
    out = p.stdout.strip()
    return json.loads(out[out.find("{") :])


def assert_own_verbatim(cites: list[dict[str, Any]], texts: dict[str, str]) -> None:
    for c in cites:
        assert c["entry_id"] in texts, f"cites {c['entry_id']}, not maya's"
        assert c["quote"] in texts[c["entry_id"]]


def test_patterns_json_contract(data_dir: Path, texts: dict[str, str]) -> None:
    pat = as_json(run(["patterns", "--user", "maya", "--json"], data_dir))
    assert set(pat) >= {"patterns", "entries"}
    assert pat["patterns"], "maya's journal shows trust patterns"
    for label, p in pat["patterns"].items():
        assert p["count"] == len(p["entries"])
        assert set(p["entries"]) <= set(texts)
        assert_own_verbatim(p["examples"], texts)
        for eid in p["entries"]:
            assert label in pat["entries"][eid]


def test_ask_habit_counts_behaviours_with_citations(data_dir: Path, texts: dict[str, str]) -> None:
    a = as_json(
        run(
            ["ask", "what do I usually do when I feel betrayed?", "--user", "maya", "--json"],
            data_dir,
        )
    )
    assert a["behaviors"], a["answer"]
    for b in a["behaviors"]:
        assert b["count"] == len(b["citations"]) and b["count"] <= b["of"]
        assert_own_verbatim(b["citations"], texts)
    assert a["answer"].startswith("When you feel betrayed, you most often")
    assert_own_verbatim(a["citations"], texts)


def test_reflect_returns_the_origin(data_dir: Path, texts: dict[str, str]) -> None:
    situation = (
        "Chris said he'd call at eight and it's nine thirty and nothing. "
        "I keep staring at my phone and I've already packed my feelings away."
    )
    r = as_json(run(["reflect", situation, "--user", "maya", "--json"], data_dir))
    assert not r["abstained"]
    echoes = r["echoes"]
    assert all({"entry_id", "date", "era", "quote"} <= set(e) for e in echoes)
    assert_own_verbatim(echoes, texts)
    assert "m003" in [e["entry_id"] for e in echoes]  # Dad's Saturdays, the origin
    assert 3 <= len(r["questions"]) <= 5


def test_practice_is_personalised_from_own_entries(data_dir: Path, texts: dict[str, str]) -> None:
    p = as_json(run(["practice", "trust_history", "--user", "maya", "--json"], data_dir))
    assert p["title"] == "Trust History"
    personalised = [q for q in p["questions"] if q["personalised"]]
    assert personalised
    for q in personalised:
        assert_own_verbatim(q["citations"], texts)
        assert q["citations"][0]["quote"] in q["question"]


def test_write_gets_followups_from_own_past_only(data_dir: Path, texts: dict[str, str]) -> None:
    entry = (
        "My friend cancelled on me again at the last minute. I felt let down and went quiet, "
        "and I didn't answer her texts all evening."
    )
    w = as_json(
        run(["write", "--user", "maya", "--date", "2025-07-01", "--json"], data_dir, input=entry)
    )
    assert w["safety"] is None
    assert 1 <= len(w["followups"]) <= 3
    cited = [c for f in w["followups"] for c in f["citations"]]
    assert cited, "maya has related past entries"
    assert_own_verbatim(cited, texts)  # never ben's b1, never the new entry itself
    assert w["entry_id"] not in {c["entry_id"] for c in cited}


def test_experiments_and_progress(data_dir: Path, tmp_path: Path) -> None:
    x = as_json(
        run(
            [
                "experiment",
                "plan",
                "--user",
                "maya",
                "--who",
                "Chris",
                "--json",
                "--risk",
                "Ask him what he meant instead of checking",
                "--success",
                "I ask once",
            ],
            data_dir,
        )
    )
    assert x["status"] == "planned"
    done = as_json(
        run(
            ["experiment", "record", x["id"], "--user", "maya", "--outcome", "as_hoped", "--json"],
            data_dir,
        )
    )
    assert done["status"] == "done" and done["outcome"] == "as_hoped"
    png = tmp_path / "progress.png"
    prog = as_json(run(["progress", "--user", "maya", "--json", "--plot", str(png)], data_dir))
    assert prog["experiments"]["recorded"] == 1
    assert prog["months"][0]["month"] == "2024-01"
    assert sum(m["entries"] for m in prog["months"]) == 51  # 50 imported + 1 written
    assert prog["trend"]["direction"] in {"improving", "worsening", "steady"}
    assert png.read_bytes()[:4] == b"\x89PNG"
