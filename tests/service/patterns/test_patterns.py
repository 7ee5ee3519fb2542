"""``trustlens patterns`` / ``label`` and the pattern routes (fake embeddings, in-process)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import common, main
from service.container import Container
from service.patterns.service import pattern_labels
from tests.conftest import ADMIN_KEY

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
JOURNAL = [
    {"id": "p1", "date": "2024-03-01",
     "text": "Jonah was late again. I checked his location four times. Then I made tea."},
    {"id": "p2", "date": "2024-03-05",
     "text": "I made soup with the last of the carrots. The cat watched the pigeons."},
    {"id": "p3", "date": "2024-03-09",
     "text": "He called and I let it go to voicemail. I didn't answer his texts for two days."},
]  # fmt: skip
NINE = {
    "hypervigilance", "avoidance", "testing", "preemptive_withdrawal", "oscillation",
    "self_distrust", "projection", "trust_experiment", "self_trust",
}  # fmt: skip


def assert_patterns_contract(report: dict[str, Any], texts: dict[str, str]) -> None:
    assert set(report) == {"patterns", "entries"}
    assert set(report["patterns"]) == NINE == set(pattern_labels())
    for label, p in report["patterns"].items():
        assert set(p) == {"count", "entries", "examples"}
        assert p["count"] == len(p["entries"]) and isinstance(p["count"], int)
        for ex in p["examples"]:
            assert set(ex) == {"entry_id", "date", "quote"}
            assert ex["entry_id"] in p["entries"]
            assert ex["quote"] and ex["quote"] in texts[ex["entry_id"]]
        for eid in p["entries"]:
            assert label in report["entries"][eid]
    assert set(report["entries"]) == set(texts)
    for eid, labs in report["entries"].items():
        assert set(labs) <= NINE
        assert all(eid in report["patterns"][lab]["entries"] for lab in labs)


# --------------------------------------------------------------------------- API


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


def new_user(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/v1/users", json={"name": name}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['api_key']}"}


@pytest.fixture
def maya(client: TestClient) -> dict[str, str]:
    h = new_user(client, "maya")
    for e in JOURNAL:
        assert client.post("/v1/entries", json=e, headers=h).status_code == 201
    return h


def test_get_patterns_counts_entries_with_verbatim_quotes(
    client: TestClient, maya: dict[str, str]
) -> None:
    r = client.get("/v1/patterns", headers=maya)
    assert r.status_code == 200, r.text
    report = r.json()
    assert_patterns_contract(report, {e["id"]: e["text"] for e in JOURNAL})
    assert "p1" in report["patterns"]["hypervigilance"]["entries"]
    assert "p3" in report["patterns"]["avoidance"]["entries"]
    assert report["entries"]["p2"] == []


def test_put_and_delete_a_label(client: TestClient, maya: dict[str, str]) -> None:
    r = client.put("/v1/entries/p1/labels/hypervigilance", json={"verdict": "reject"}, headers=maya)
    assert r.status_code == 200, r.text
    assert "hypervigilance" not in {x["label"] for x in r.json()["labels"]}
    assert r.json()["corrections"] == [{"label": "hypervigilance", "verdict": "reject"}]
    r = client.put("/v1/entries/p2/labels/self_trust", json={"verdict": "confirm"}, headers=maya)
    conf = next(x for x in r.json()["labels"] if x["label"] == "self_trust")
    assert conf["source"] == "confirmed" and conf["quote"] in JOURNAL[1]["text"]
    report = client.get("/v1/patterns", headers=maya).json()
    assert "p1" not in report["patterns"]["hypervigilance"]["entries"]
    assert report["entries"]["p2"] == ["self_trust"]
    r = client.delete("/v1/entries/p1/labels/hypervigilance", headers=maya)
    assert r.status_code == 200 and r.json()["corrections"] == []
    got = client.get("/v1/entries/p1/labels", headers=maya).json()
    assert got["entry_id"] == "p1" and got["era"] in ("origin", "recent", "present")
    assert "hypervigilance" in {x["label"] for x in got["labels"]}
    for x in got["labels"]:
        assert JOURNAL[0]["text"][x["start"] : x["end"]] == x["quote"]


def test_label_routes_errors_and_isolation(client: TestClient, maya: dict[str, str]) -> None:
    theo = new_user(client, "theo")
    put = {"verdict": "reject"}
    r = client.put("/v1/entries/p1/labels/avoidance", json=put, headers=theo)
    assert r.status_code == 404
    assert client.get("/v1/entries/p1/labels", headers=theo).status_code == 404
    assert client.get("/v1/patterns", headers=theo).json()["entries"] == {}
    r = client.put("/v1/entries/p1/labels/sulking", json=put, headers=maya)
    assert r.status_code == 422 and "unknown label" in r.json()["detail"]
    r = client.put("/v1/entries/p1/labels/avoidance", json={"verdict": "maybe"}, headers=maya)
    assert r.status_code == 422
    assert client.get("/v1/patterns").status_code == 401


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_container(container: Container, monkeypatch: pytest.MonkeyPatch) -> Container:
    """The CLI's container is the test's (fake embeddings); closing it is a no-op here."""
    monkeypatch.setattr(common, "container", lambda: container)
    monkeypatch.setattr(container, "close", lambda: None)
    return container


def test_cli_patterns_json_and_label_commands(cli_container: Container, tmp_path: Any) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in JOURNAL))
    runner = CliRunner()
    r = runner.invoke(main.app, ["ingest", str(path), "--user", "maya"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main.app, ["patterns", "--user", "maya", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert_patterns_contract(report, {e["id"]: e["text"] for e in JOURNAL})
    assert "avoidance" in report["entries"]["p3"]

    r = runner.invoke(main.app, ["label", "reject", "p3", "avoidance", "--user", "maya"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main.app, ["label", "confirm", "p2", "testing", "--user", "maya"])
    assert r.exit_code == 0 and "testing (confirmed)" in r.stdout
    report = json.loads(runner.invoke(main.app, ["patterns", "-u", "maya", "--json"]).stdout)
    assert "avoidance" not in report["entries"]["p3"]
    assert report["patterns"]["testing"]["entries"] == ["p2"]
    r = runner.invoke(main.app, ["label", "clear", "p3", "avoidance", "--user", "maya"])
    assert r.exit_code == 0
    report = json.loads(runner.invoke(main.app, ["patterns", "-u", "maya", "--json"]).stdout)
    assert "avoidance" in report["entries"]["p3"]

    r = runner.invoke(main.app, ["label", "reject", "nope", "avoidance", "--user", "maya"])
    assert r.exit_code == 1 and "no entry 'nope'" in r.output
    r = runner.invoke(main.app, ["label", "reject", "p3", "sulking", "--user", "maya"])
    assert r.exit_code == 2 and "unknown label" in r.output
    r = runner.invoke(main.app, ["patterns", "--user", "nobody"])
    assert r.exit_code == 1
