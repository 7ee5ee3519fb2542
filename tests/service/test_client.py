"""The typed client against the real app (FastAPI's TestClient is an ``httpx.Client``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.client import ApiError, TrustlensClient
from service.container import Container
from tests.conftest import ADMIN_KEY
from tests.service.test_api import JOURNAL


@pytest.fixture
def http(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


@pytest.fixture
def admin(http: TestClient) -> TrustlensClient:
    return TrustlensClient(admin_key=ADMIN_KEY, http=http)


@pytest.fixture
def maya(http: TestClient, admin: TrustlensClient) -> TrustlensClient:
    created = admin.create_user("maya")
    tl = TrustlensClient(api_key=created.api_key, http=http)
    for e in JOURNAL:
        tl.create_entry(**e)
    return tl


def test_entries_round_trip(maya: TrustlensClient, tmp_path: Path) -> None:
    assert maya.healthy() and maya.ready()
    e = maya.get_entry("j2")
    assert (e.date, e.text, e.indexed) == ("2024-03-05", JOURNAL[1]["text"], True)
    assert maya.update_entry("j2", tags=["cabin"]).tags == ["cabin"]
    assert maya.replace_entry("j2", date="2024-03-06", text="Rewritten.").tags == []
    assert [x.id for x in maya.list_entries(limit=2).items] == ["j1", "s1"]
    assert [x.id for x in maya.iter_entries(limit=1)] == ["j1", "s1", "j2", "j3"]
    assert [x.id for x in maya.iter_entries(tag="jonah")] == ["j1"]
    st = maya.entry_status("j2")
    assert st.indexed and st.chunks >= 1
    day = maya.index_status(since="2024-03-06", until="2024-03-06")
    assert [s.entry_id for s in day.items] == ["j2"]
    maya.delete_entry("j2")
    with pytest.raises(ApiError) as err:
        maya.get_entry("j2")
    assert err.value.status == 404 and "No entry 'j2'" in err.value.detail
    rep = maya.import_entries([{"id": "k1", "date": "2024-08-01", "text": "Kept."}, {"x": 1}])
    assert (rep.totals.imported, rep.totals.rejected) == (1, 1)
    f = tmp_path / "more.jsonl"
    f.write_text('{"id": "k2", "date": "2024-08-02", "text": "From a file."}\n')
    assert maya.import_file(f).totals.imported == 1
    assert maya.me().entries == len(JOURNAL) - 1 + 2


def test_search_ask_and_stream(maya: TrustlensClient) -> None:
    hits = maya.search("felt let down by Jonah", k=3).hits
    assert hits and all(h.entry_id in {"j1", "j2", "j3", "s1"} for h in hits)
    q = "what do I do when I felt let down by Jonah?"
    events = list(maya.ask_stream(q))
    assert [e for e, _ in events][-1] == "answer"
    assert [d["step"] for e, d in events if e == "step"] == ["plan", "retrieve", "draft", "check"]
    assert events[-1][1] == maya.ask(q)
    with pytest.raises(ApiError) as err:
        maya.ask("")
    assert err.value.status == 422


def test_export_into_a_fresh_account_and_keys(
    maya: TrustlensClient, admin: TrustlensClient, http: TestClient
) -> None:
    doc = maya.export()
    fresh = TrustlensClient(api_key=admin.create_user("maya2").api_key, http=http)
    assert fresh.import_export(doc).totals.imported == len(JOURNAL)

    def rows(tl: TrustlensClient) -> list[tuple[str, str, str, list[str]]]:
        return [(e.id, e.date, e.text, e.tags) for e in tl.iter_entries()]

    assert rows(fresh) == rows(maya)
    old = maya.api_key
    assert maya.rotate_key().revoked == 1
    assert maya.me().name == "maya"
    with pytest.raises(ApiError) as err:
        TrustlensClient(api_key=old, http=http).me()
    assert err.value.status == 401
    issued = admin.issue_key("maya2", revoke_existing=True)
    assert issued.revoked == 1
    with pytest.raises(ApiError):
        fresh.me()
    fresh.api_key = issued.api_key
    fresh.delete_me()
    with pytest.raises(ApiError) as err:
        fresh.me()
    assert err.value.status == 401
    assert maya.me().entries == len(JOURNAL)


def test_patterns_and_labels(maya: TrustlensClient) -> None:
    assert maya.set_label("j1", "avoidance", "confirm")
    assert [e.id for e in maya.iter_entries(pattern="avoidance")] == ["j1"]
    labels = maya.entry_labels("j1")
    assert "avoidance" in json.dumps(labels)
    assert isinstance(maya.patterns(), dict)
    maya.set_label("j1", "avoidance", "reject")
    assert "j1" not in [e.id for e in maya.iter_entries(pattern="avoidance")]
    assert isinstance(maya.clear_label("j1", "avoidance"), dict)  # the model decides again
    with pytest.raises(ApiError) as err:
        maya.set_label("nope", "avoidance", "confirm")
    assert err.value.status == 404


def test_insight_routes_through_the_client(maya: TrustlensClient, http: TestClient) -> None:
    paths = set(http.get("/openapi.json").json()["paths"])
    if "/v1/experiments" not in paths:
        # Not in this build of the app: the client gets a 404 problem, not a crash.
        with pytest.raises(ApiError) as err:
            maya.experiments()
        assert err.value.status == 404 and "No such route" in err.value.detail
        return
    x = maya.plan_experiment(who="Jonah", risk="tell him I felt let down", success="he listens")
    assert maya.experiment(x["id"])["who"] == "Jonah"
    assert [e["id"] for e in maya.experiments()["data"]] == [x["id"]]
    assert maya.record_experiment(x["id"], outcome="as_hoped")["status"] == "done"
    assert maya.practices()["count"] >= 1
    assert isinstance(maya.progress(), dict) and isinstance(maya.episodes(), dict)
    assert isinstance(maya.reflect("Jonah is late again and hasn't texted."), dict)
    assert x["id"] in json.dumps(maya.export().sections.get("experiments"))
