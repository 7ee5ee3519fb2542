"""Request limits as problems: the expected content type is named (415), JSON bodies
have a size limit (413), the batch limit counts every item sent, and failed
authentication spends a per-address budget, in memory or shared through Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY, free_port
from tests.fakes import WordHashEmbeddings
from tests.service.test_api import assert_problem, bearer, new_user

REDIS = "redis://127.0.0.1:6379"


def make_container(tmp_path: Path, **extra: Any) -> Container:
    s = Settings(data_dir=tmp_path / "data", admin_key=ADMIN_KEY, **extra)  # type: ignore[arg-type]
    return Container(s, embeddings=WordHashEmbeddings())


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    c = make_container(tmp_path, max_json_bytes=2000, max_batch_entries=3)
    with TestClient(create_app(container=c)) as client:
        yield client
    c.close()


def test_wrong_content_type_names_the_expected_one(api: TestClient) -> None:
    h = new_user(api, "ana")
    body = json.dumps({"date": "2024-01-01", "text": "hello"})
    r = api.post("/v1/entries", content=body, headers={**h, "Content-Type": "text/plain"})
    assert_problem(r, 415, "This route takes Content-Type: application/json", "text/plain")
    r = api.post("/v1/entries", data={"date": "2024-01-01", "text": "x"}, headers=h)
    assert_problem(r, 415, "application/json", "application/x-www-form-urlencoded")
    r = api.post("/v1/entries/import/file", json={"entries": []}, headers=h)
    assert_problem(r, 415, "This route takes Content-Type: multipart/form-data")
    # JSON types with a suffix or parameters are JSON.
    ok = {**h, "Content-Type": "application/json; charset=utf-8"}
    assert api.post("/v1/entries", content=body, headers=ok).status_code == 201
    spec = api.get("/openapi.json").json()
    assert "415" in spec["paths"]["/v1/entries"]["post"]["responses"]
    assert "507" in spec["paths"]["/v1/entries"]["post"]["responses"]
    assert "507" not in spec["paths"]["/v1/ask"]["post"]["responses"]


def test_json_bodies_have_a_size_limit(api: TestClient) -> None:
    h = new_user(api, "ana")
    big = {"date": "2024-01-01", "text": "x" * 3000}
    r = api.post("/v1/entries", json=big, headers=h)
    assert_problem(r, 413, "over the limit of 2000 bytes (TRUSTLENS_MAX_JSON_BYTES)")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        data = json.dumps(big).encode()
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    r = api.post("/v1/entries", content=chunks(), headers={**h, "Content-Type": "application/json"})
    assert_problem(r, 413, "TRUSTLENS_MAX_JSON_BYTES")
    assert api.get("/v1/entries", headers=h).json()["items"] == []
    small = {"date": "2024-01-01", "text": "x" * 100}
    assert api.post("/v1/entries", json=small, headers=h).status_code == 201


def test_the_batch_limit_counts_invalid_items_too(api: TestClient) -> None:
    h = new_user(api, "ana")
    good = [{"id": f"g{i}", "date": "2024-01-01", "text": "ok"} for i in range(2)]
    bad = [{"date": "soon", "text": "bad"}, {"text": "no date"}]
    r = api.post("/v1/entries/import", json={"entries": good + bad}, headers=h)
    assert_problem(r, 413, "4 entries in one import; the limit is 3")
    assert api.get("/v1/entries", headers=h).json()["items"] == []
    r = api.post("/v1/entries/import", json={"entries": good + bad[:1]}, headers=h)
    assert r.status_code == 200, r.text


def test_a_new_bogus_key_per_request_is_rate_limited(tmp_path: Path) -> None:
    c = make_container(tmp_path, auth_fail_limit="5/minute", rate_limit="1000/minute")
    try:
        app = create_app(container=c)
        with TestClient(app, client=("10.0.0.1", 5000)) as attacker:
            codes = [
                attacker.get("/v1/me", headers=bearer(f"bogus-{i}")).status_code for i in range(8)
            ]
            assert codes == [401] * 5 + [429] * 3
            r = attacker.get("/v1/me", headers=bearer("bogus-x"))
            body = assert_problem(r, 429, "failed authentications from this address")
            assert int(r.headers["Retry-After"]) >= 1 and body["status"] == 429
        with TestClient(app, client=("10.0.0.2", 5000)) as other:
            h = new_user(other, "ana")  # another address keeps its own budget
            assert other.get("/v1/me", headers=h).status_code == 200
    finally:
        c.close()


def test_limits_are_shared_through_redis_between_workers(tmp_path: Path) -> None:
    """Two apps (as two workers would be) on one Redis spend one budget."""
    addr = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    c = make_container(
        tmp_path, rate_limit="4/minute", auth_fail_limit="3/minute", rate_limit_storage=REDIS
    )
    try:
        one, two = create_app(container=c), create_app(container=c)
        with (
            TestClient(one, client=(addr, 1)) as w1,
            TestClient(two, client=(addr, 2)) as w2,
        ):
            key = w1.post("/v1/users", json={"name": "ana"}, headers=bearer(ADMIN_KEY)).json()
            h = bearer(key["api_key"])
            codes = [(w1, w2)[i % 2].get("/v1/me", headers=h).status_code for i in range(6)]
            assert codes == [200, 200, 200, 200, 429, 429]
            token = uuid.uuid4().hex
            fails = [
                (w1, w2)[i % 2].get("/v1/me", headers=bearer(f"{token}{i}")).status_code
                for i in range(5)
            ]
            assert fails == [401, 401, 401, 429, 429]
    finally:
        c.close()


def test_an_unreachable_redis_is_a_503_naming_the_setting(tmp_path: Path) -> None:
    c = make_container(tmp_path, rate_limit_storage=f"redis://127.0.0.1:{free_port()}")
    try:
        with TestClient(create_app(container=c)) as client:
            r = client.get("/v1/me", headers=bearer("whatever"))
            assert_problem(r, 503, "TRUSTLENS_RATE_LIMIT_STORAGE")
            assert client.get("/healthz").status_code == 200
    finally:
        c.close()
