"""The ``trustlens`` command as a person runs it: a real process, the real model.

Only two invocations load the model (``ingest`` and one ``ask``); the failures are all
caught before the model would be needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

# The console script installed beside this interpreter (.venv/bin/trustlens).
EXE = Path(sys.executable).parent / "trustlens"
if not EXE.exists():
    EXE = Path(shutil.which("trustlens") or ROOT / ".venv" / "bin" / "trustlens")
JOURNAL = ROOT / "examples" / "maya" / "journal.jsonl"
CONTRACT_KEYS = {"question", "answer", "abstained", "mode", "citations"}

pytestmark = pytest.mark.model


def run(
    args: list[str], data_dir: Path, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTLENS_")}
    base.update(
        TRUSTLENS_DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        COLUMNS="250",  # rich wraps at the terminal width; keep messages on one line
        NO_COLOR="1",
    )
    base.update(env)
    return subprocess.run(
        [str(EXE), *args],
        cwd=ROOT,
        env=base,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line(text: str) -> str:
    return " ".join(text.split())


def maya_entries() -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in JOURNAL.read_text().splitlines() if line.strip()]
    return {r["id"]: r for r in rows}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


@pytest.fixture(scope="module")
def ingested(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return run(["ingest", str(JOURNAL.relative_to(ROOT)), "--user", "maya"], data_dir)


def test_ingest_prints_the_report(ingested: subprocess.CompletedProcess[str]) -> None:
    assert ingested.returncode == 0, ingested.stderr
    n = len(maya_entries())
    assert n == 50
    out = one_line(ingested.stdout)
    assert (
        f"{n} imported, 0 updated, 0 unchanged, 0 rejected, 0 unreadable files; "
        f"{n} entries indexed." in out
    )
    header = "file ┃ imported ┃ updated ┃ unchanged ┃ rejected ┃ problem"
    assert header in out
    assert f"examples/maya/journal.jsonl │ {n} │ 0 │ 0 │ 0 │" in out


def test_ask_json_prints_one_grounded_object(
    ingested: subprocess.CompletedProcess[str], data_dir: Path
) -> None:
    assert ingested.returncode == 0
    q = "what do I do when I feel let down by Jonah?"
    r = run(
        ["ask", q, "--user", "maya", "--json", "--since", "2024-06-01", "--until", "2024-12-31"],
        data_dir,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    answer = json.loads(lines[0])
    assert set(answer) >= CONTRACT_KEYS
    assert answer.get("safety") is None  # no crisis language in the question
    assert answer["question"] == q
    assert answer["mode"] == "extractive"
    assert answer["abstained"] is False
    assert answer["citations"]
    entries = maya_entries()
    for c in answer["citations"]:
        assert set(c) == {"entry_id", "date", "quote"}
        entry = entries[c["entry_id"]]
        assert c["date"] == entry["date"]
        assert "2024-06-01" <= c["date"] <= "2024-12-31"
        assert c["quote"] and c["quote"] in entry["text"]
        assert f'{c["date"]}: "{c["quote"]}"' in answer["answer"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--since", "2024-13-01"], "--since must be a date like 2024-03-02, got '2024-13-01'"),
        (["--until", "tomorrow"], "--until must be a date like 2024-03-02, got 'tomorrow'"),
        (
            ["--since", "2024-05-01", "--until", "2024-01-01"],
            "--since (2024-05-01) must not be after --until (2024-01-01)",
        ),
    ],
)
def test_ask_bad_dates_exit_2(tmp_path: Path, flags: list[str], message: str) -> None:
    r = run(["ask", "anything?", "--user", "maya", "--json", *flags], tmp_path)
    assert r.returncode == 2
    assert message in one_line(r.stderr)
    assert r.stdout == ""


def test_ask_for_an_unknown_user_fails_clearly(
    ingested: subprocess.CompletedProcess[str], data_dir: Path
) -> None:
    r = run(["ask", "anything?", "--user", "nobody", "--json"], data_dir)
    assert r.returncode == 1
    assert "No user named 'nobody'. Import a journal first." in one_line(r.stderr)
    assert r.stdout == ""


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TRUSTLENS_DATABASE_URL": "mysql://x"},
            "Invalid setting TRUSTLENS_DATABASE_URL: TRUSTLENS_DATABASE_URL must be "
            "sqlite:///... or postgresql+psycopg://..., got scheme 'mysql'",
        ),
        (
            {"TRUSTLENS_LLM": "openai"},
            "Invalid settings: TRUSTLENS_LLM=openai needs TRUSTLENS_LLM_BASE_URL and "
            "TRUSTLENS_LLM_MODEL",
        ),
        (
            {"TRUSTLENS_CHROMA_URL": "localhost:8000"},
            "Invalid setting TRUSTLENS_CHROMA_URL: TRUSTLENS_CHROMA_URL must look like "
            "http://host:port, got 'localhost:8000'",
        ),
        ({"TRUSTLENS_RETRIEVAL_K": "0"}, "Invalid setting TRUSTLENS_RETRIEVAL_K:"),
    ],
)
def test_invalid_settings_exit_2_naming_the_setting(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    r = run(["ask", "anything?", "--user", "maya"], tmp_path, **env)
    assert r.returncode == 2
    assert message in one_line(r.stderr)
    assert "Traceback" not in r.stderr
