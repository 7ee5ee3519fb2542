"""The insight routes on the real app (SQLite + embedded Chroma, deterministic embeddings):
reflect, practices, episodes, trust experiments, progress, and follow-ups on new
entries. Quality is measured with the real model elsewhere; here: contracts, grounding
(every quote verbatim from the caller's own entries), errors and isolation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from tests.conftest import ADMIN_KEY

ALICE = {
    "a1": (
        "2023-02-01",
        "When I was nine my mother promised to come to my recital and never "
        "showed. I kept looking at the door. I stopped asking her to come to things after that.",
    ),
    "a2": (
        "2024-06-10",
        "Rui forgot our plans again. I didn't answer his messages for three "
        "days. I told myself I didn't care, but I checked whether he'd posted anything.",
    ),
    "a3": (
        "2025-01-15",
        "I told Rui I was scared he'd drift away. Small risk. He listened and "
        "we made a plan for Sundays.",
    ),
}
BOB = {
    "b1": (
        "2024-05-05",
        "My brother borrowed my car and returned it empty. I felt let "
        "down and didn't answer his calls for a week.",
    )
}


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


def person(client: TestClient, name: str, entries: dict[str, tuple[str, str]]) -> dict[str, str]:
    r = client.post(
        "/v1/users", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert r.status_code == 201, r.text
    h = {"Authorization": f"Bearer {r.json()['api_key']}"}
    for eid, (date, text) in entries.items():
        assert (
            client.post(
                "/v1/entries", json={"id": eid, "date": date, "text": text}, headers=h
            ).status_code
            == 201
        )
    return h


@pytest.fixture
def alice(client: TestClient) -> dict[str, str]:
    return person(client, "alice", ALICE)


@pytest.fixture
def bob(client: TestClient, alice: dict[str, str]) -> dict[str, str]:
    return person(client, "bob", BOB)


def own_verbatim(cites: list[dict[str, Any]], entries: dict[str, tuple[str, str]]) -> None:
    for c in cites:
        assert c["entry_id"] in entries, f"{c['entry_id']} is not the caller's entry"
        date, text = entries[c["entry_id"]]
        assert c["date"] == date and c["quote"] in text


def test_new_entry_gets_followups_citing_own_past_only(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    r = client.post(
        "/v1/entries",
        json={
            "id": "b2",
            "date": "2024-06-01",
            "text": "My brother forgot my birthday. I didn't answer his messages for days.",
        },
        headers=bob,
    )
    assert r.status_code == 201
    body = r.json()
    assert body["safety"] is None
    fs = body["followups"]
    assert 1 <= len(fs) <= 3
    for f in fs:
        assert f["question"]
        own_verbatim(f["citations"], BOB)  # never Alice's entries, never b2 itself


def test_new_entry_with_crisis_language_gets_safety_and_no_followups(
    client: TestClient, alice: dict[str, str]
) -> None:
    r = client.post(
        "/v1/entries",
        json={"id": "a9", "date": "2025-02-01", "text": "I want to end my life tonight."},
        headers=alice,
    )
    assert r.status_code == 201  # saved all the same
    body = r.json()
    assert body["safety"]["resources"] and not body["followups"]


def test_reflect_shape_grounding_and_validation(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    r = client.post(
        "/v1/reflect", json={"situation": "Rui is late again and hasn't texted."}, headers=alice
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"situation", "echoes", "same", "different", "questions", "abstained"}
    for e in body["echoes"]:
        assert {"entry_id", "date", "era", "quote"} <= set(e)
        assert e["era"] in {"origin", "recent", "present"}
    own_verbatim(body["echoes"], ALICE)
    for s in body["same"] + body["different"]:
        own_verbatim(s["citations"], ALICE)
    assert 3 <= len(body["questions"]) <= 5
    theirs = client.post("/v1/reflect", json={"situation": "Rui is late again."}, headers=bob)
    own_verbatim(theirs.json()["echoes"], BOB)
    bad = client.post("/v1/reflect", json={"situation": ""}, headers=alice)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )


def test_reflect_on_crisis_language_returns_safety_only(
    client: TestClient, alice: dict[str, str]
) -> None:
    r = client.post("/v1/reflect", json={"situation": "I want to kill myself."}, headers=alice)
    body = r.json()
    assert body["safety"] and body["echoes"] == [] and body["questions"] == []


def test_practices_list_and_personalised_questions(
    client: TestClient, alice: dict[str, str]
) -> None:
    listed = client.get("/v1/practices", headers=alice).json()
    assert listed["count"] == 4
    assert {p["name"] for p in listed["data"]} == {
        "trust_history",
        "pattern_recognition",
        "trust_experiment",
        "self_trust_rebuild",
    }
    for p in listed["data"]:
        got = client.get(f"/v1/practices/{p['name']}", headers=alice)
        assert got.status_code == 200
        for q in got.json()["questions"]:
            own_verbatim(q["citations"], ALICE)
            assert q["personalised"] == bool(q["citations"])
            if not q["personalised"]:
                assert q["question"] == q["plain"]
    missing = client.get("/v1/practices/astrology", headers=alice)
    assert missing.status_code == 404 and "trust_history" in missing.json()["detail"]


def test_experiments_plan_record_list_and_isolation(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    spec = {
        "who": "Rui",
        "risk": "Ask him directly instead of checking.",
        "success": "I ask once and listen.",
        "planned_for": "2025-02-01",
    }
    x = client.post("/v1/experiments", json=spec, headers=alice)
    assert x.status_code == 201
    xid = x.json()["id"]
    assert x.json()["status"] == "planned" and x.json()["outcome"] is None
    assert client.get(f"/v1/experiments/{xid}", headers=bob).status_code == 404
    assert (
        client.patch(
            f"/v1/experiments/{xid}", json={"outcome": "as_hoped"}, headers=bob
        ).status_code
        == 404
    )
    assert client.get("/v1/experiments", headers=bob).json() == {"data": [], "count": 0}
    done = client.patch(
        f"/v1/experiments/{xid}",
        json={"outcome": "mixed", "note": "He listened, I still worried."},
        headers=alice,
    )
    assert done.status_code == 200
    assert done.json()["status"] == "done" and done.json()["outcome"] == "mixed"
    listed = client.get("/v1/experiments", headers=alice).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == xid
    bad = client.patch(f"/v1/experiments/{xid}", json={"outcome": "great"}, headers=alice)
    assert bad.status_code == 422
    empty = client.post("/v1/experiments", json={**spec, "who": ""}, headers=alice)
    assert empty.status_code == 422
    prog = client.get("/v1/progress", headers=alice).json()
    assert prog["experiments"]["planned"] == 1 and prog["experiments"]["mixed"] == 1


def test_progress_and_episodes_count_only_own_entries(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    prog = client.get("/v1/progress", headers=bob).json()
    assert sum(m["entries"] for m in prog["months"]) == len(BOB)
    for m in prog["months"]:
        for c in [*m["patterns"].values(), *m["repair"].values()]:
            assert set(c["entries"]) <= set(BOB)
    eps = client.get("/v1/episodes", headers=alice).json()
    assert eps["count"] == len(eps["data"])
    for e in eps["data"]:
        assert e["entry_id"] in ALICE
        for part in [e["trigger"], e["feeling"], e["outcome"], *e["responses"]]:
            if part is not None:
                assert part["quote"] in ALICE[e["entry_id"]][1]


def test_insight_routes_need_a_key(client: TestClient) -> None:
    for method, path in (
        ("post", "/v1/reflect"),
        ("get", "/v1/practices"),
        ("get", "/v1/progress"),
        ("get", "/v1/experiments"),
        ("get", "/v1/episodes"),
    ):
        assert getattr(client, method)(path).status_code == 401


def test_episodes_are_the_ones_found_at_ingest(client: TestClient, alice: dict[str, str]) -> None:
    """``/v1/episodes`` lists the stored episodes a habit question counts: each has the
    trigger the detector found, quoted from the entry, and who it was about if known."""
    eps = client.get("/v1/episodes", headers=alice).json()
    assert eps["count"] == len(eps["data"]) > 0
    dates = [e["date"] for e in eps["data"]]
    assert dates == sorted(dates)
    for e in eps["data"]:
        assert set(e) >= {"entry_id", "date", "era", "trigger", "responses", "outcome", "by"}
        assert e["trigger"]["quote"] in ALICE[e["entry_id"]][1]
        assert len(e["trigger"]["quote"].split()) >= 5 or e["trigger"]["quote"].endswith(".")
        for r in e["responses"]:
            assert r["label"] is None or isinstance(r["label"], str)


def test_a_concern_sits_beside_the_reflection_and_the_followups(
    client: TestClient, alice: dict[str, str]
) -> None:
    """``concern`` (here: a past told as past) shows resources without replacing the
    insight; the notice names which text raised it and never quotes it."""
    situation = "Rui is late again. Years ago I used to self-harm when I felt left."
    body = client.post("/v1/reflect", json={"situation": situation}, headers=alice).json()
    assert body["safety"]["level"] == "concern" and body["safety"]["about"] == "situation"
    assert "your situation" in body["safety"]["message"]
    assert "self-harm when" not in body["safety"]["message"]
    assert 3 <= len(body["questions"]) <= 5  # the reflection is still given
    entry = {"id": "a10", "date": "2025-02-02", "text": situation}
    body = client.post("/v1/entries", json=entry, headers=alice).json()
    assert body["safety"]["level"] == "concern" and body["safety"]["about"] == "entry"
    assert body["followups"]  # still suggested beside the resources
    r = client.post("/v1/reflect", json={"situation": "I want to kill myself."}, headers=alice)
    assert r.json()["safety"]["about"] == "situation" and r.json()["questions"] == []
