"""``trustlens safety check FILE --json``: one level per id, texts never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import common, main
from service.container import Container


@pytest.fixture
def cli_container(container: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    monkeypatch.setattr(common, "container", lambda: container)
    monkeypatch.setattr(container, "close", lambda: None)
    return container


def test_check_prints_a_level_per_id(cli_container: Container, tmp_path: Path) -> None:
    f = tmp_path / "texts.jsonl"
    rows = [
        {"id": "s1", "text": "I want to end my life tonight."},
        {"id": 2, "text": "Made soup and watched the rain."},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    r = CliRunner().invoke(main.app, ["safety", "check", str(f), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {
        "results": [{"id": "s1", "level": "crisis"}, {"id": "2", "level": None}]
    }
    assert "soup" not in r.output and "end my life" not in r.output


def test_a_bad_line_is_named_and_exits_2(cli_container: Container, tmp_path: Path) -> None:
    f = tmp_path / "texts.jsonl"
    f.write_text('{"id": "a", "text": "fine"}\n{"text": "no id"}\n')
    r = CliRunner().invoke(main.app, ["safety", "check", str(f), "--json"])
    assert r.exit_code == 2 and "line 2" in r.output
