"""Logs never contain journal text or questions, and the access log is structured.

Every route is exercised with distinctive words in entries, questions, queries, tags,
ids and uploaded files, while every log record (all loggers at INFO, trustlens's own
at DEBUG) and everything written to stdout/stderr is captured; none of the words may
appear. The access log lines are checked for their fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.middleware import JsonFormatter, user_hash
from tests.service.test_api import ADMIN, bearer

SECRET_TEXT = "Quetzalcoatl whispered about the marmalade betrayal"
SECRET_QUESTION = "why did Thelonious hide the xylograph"
SECRET_QUERY = "vermilion gazebo confession"
SECRET_TAG = "ultramarine-tag"
SECRET_FILE_TEXT = "Perpendicular kumquat apology"
SECRETS = [
    "Quetzalcoatl",
    "marmalade",
    "Thelonious",
    "xylograph",
    "vermilion",
    "gazebo",
    "ultramarine",
    "kumquat",
    "Perpendicular",
]


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.fmt = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("httpx"):
            return  # the test's own HTTP client logging its request URLs, not the service
        self.records.append(record)
        self.lines.append(self.fmt.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def captured() -> Iterator[Capture]:
    cap = Capture()
    root = logging.getLogger()
    old = root.level
    root.addHandler(cap)
    root.setLevel(logging.INFO)
    logging.getLogger("trustlens").setLevel(logging.DEBUG)
    yield cap
    root.removeHandler(cap)
    root.setLevel(old)
    logging.getLogger("trustlens").setLevel(logging.INFO)


def exercise_every_route(client: TestClient) -> tuple[str, list[str]]:
    """Call every route with the secret words; returns the user id and routes called."""
    r = client.post("/v1/users", json={"name": "logger"}, headers=ADMIN)
    h = bearer(r.json()["api_key"])
    entry = {"id": "s1", "date": "2024-03-15", "text": SECRET_TEXT, "tags": [SECRET_TAG]}
    calls = [
        ("GET", "/healthz", {}),
        ("GET", "/readyz", {}),
        ("POST", "/v1/entries", {"json": entry}),
        ("GET", "/v1/entries/s1", {}),
        ("PUT", "/v1/entries/s1", {"json": {**entry, "text": SECRET_TEXT + " again"}}),
        ("PATCH", "/v1/entries/s1", {"json": {"text": SECRET_TEXT}}),
        ("GET", "/v1/entries", {"params": {"tag": SECRET_TAG, "limit": 1}}),
        ("GET", "/v1/entries/s1/status", {}),
        ("GET", "/v1/index/status", {"params": {"since": "2024-03-15"}}),
        (
            "POST",
            "/v1/entries/import",
            {"json": {"entries": [{"id": "s2", "date": "2024-03-16", "text": SECRET_TEXT}]}},
        ),
        (
            "POST",
            "/v1/entries/import/file",
            {"files": {"file": ("n.md", f"---\ndate: 2024-03-17\n---\n{SECRET_FILE_TEXT}\n")}},
        ),
        ("POST", "/v1/search", {"json": {"query": SECRET_QUERY}}),
        ("POST", "/v1/ask", {"json": {"question": SECRET_QUESTION}}),
        ("POST", "/v1/ask/stream", {"json": {"question": SECRET_QUESTION}}),
        ("GET", "/v1/export", {}),
        ("GET", "/v1/me", {}),
        # Failures must not echo the body into a log either.
        ("POST", "/v1/entries", {"json": {"date": SECRET_QUERY, "text": SECRET_TEXT}}),
        ("POST", "/v1/ask", {"json": {"question": SECRET_QUESTION * 200}}),
        ("GET", f"/v1/entries/{SECRET_TAG}", {}),
        ("DELETE", "/v1/entries/s2", {}),
        ("POST", "/v1/users/logger/keys", {"json": {}, "headers": ADMIN}),
    ]
    uid = client.get("/v1/me", headers=h).json()["user_id"]
    for method, path, kw in calls:
        headers = kw.pop("headers", h)
        r = client.request(method, path, headers=headers, **kw)
        assert r.status_code < 500, (path, r.text)
    r = client.post("/v1/me/keys/rotate", headers=h)
    h = bearer(r.json()["api_key"])
    assert client.delete("/v1/me", headers=h).status_code == 204
    routes = [p for _, p, _ in calls] + ["/v1/me/keys/rotate", "/v1/me"]
    return uid, routes


def test_logs_never_contain_journal_text_or_questions(
    container: Container, captured: Capture, capfd: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(container=container)) as client:
        uid, _ = exercise_every_route(client)
    out, err = capfd.readouterr()
    everything = "\n".join([*captured.lines, out, err])
    assert captured.records, "nothing was logged: the capture is not working"
    for word in SECRETS:
        assert word.lower() not in everything.lower(), f"{word!r} reached the logs"
    # Nor the user id or name (a hash stands in for the person).
    assert uid not in everything


def test_access_log_is_one_json_line_per_request(container: Container, captured: Capture) -> None:
    with TestClient(create_app(container=container)) as client:
        uid, routes = exercise_every_route(client)
    access = [json.loads(line) for line in captured.lines if '"trustlens.access"' in line]
    assert len(access) >= len(routes)
    for rec in access:
        assert set(rec) >= {"request_id", "method", "route", "status", "duration_ms", "user"}
        assert len(rec["request_id"]) == 32
    logged = {(a["method"], a["route"], a["status"]) for a in access}
    assert ("GET", "/v1/entries/{entry_id}", 200) in logged
    assert ("GET", "/v1/entries/{entry_id}", 404) in logged  # the template, not the id
    assert ("POST", "/v1/ask", 422) in logged
    assert ("DELETE", "/v1/me", 204) in logged
    users = {a["user"] for a in access if a["route"].startswith("/v1/entries")}
    assert users == {user_hash(uid)}
    assert len({a["request_id"] for a in access}) == len(access)
