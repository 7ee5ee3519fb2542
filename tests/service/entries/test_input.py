"""Odd input gets the same clear answer on every store, never a 500: text or ids that a
store cannot keep (NUL, unpaired surrogates), ids that could not be routed ("/"), and
upload file names that look like paths."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.entries.service import upload_name
from service.settings import Settings
from tests.fakes import WordHashEmbeddings
from tests.service.test_api import ADMIN_KEY, assert_problem, new_user


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    values: dict[str, object] = {"data_dir": tmp_path / "data", "admin_key": ADMIN_KEY}
    if request.param == "postgres":
        values["database_url"] = request.getfixturevalue("pg_url")
        values["chroma_collection"] = f"input_{uuid.uuid4().hex[:12]}"
    c = Container(Settings(**values), embeddings=WordHashEmbeddings())  # type: ignore[arg-type]
    with TestClient(create_app(container=c)) as client:
        yield client
    c.close()


@pytest.mark.parametrize(
    ("entry", "detail"),
    [
        (
            {"date": "2024-01-01", "text": "a\u0000b"},
            "text: text contains a NUL character (U+0000), which cannot be stored",
        ),
        (
            # Refused by the request parser already (file imports by ingest's check).
            {"date": "2024-01-01", "text": "a\ud800b"},
            "text: Input should be a valid string",
        ),
        ({"id": "a/b", "date": "2024-01-01", "text": "x"}, "id: id must not contain '/'"),
        ({"id": "a\u0000", "date": "2024-01-01", "text": "x"}, "id: id contains a NUL"),
        (
            {"date": "2024-01-01", "text": "x", "tags": ["ok", "b\u0000"]},
            "tags: a tag contains a NUL",
        ),
    ],
)
def test_unstorable_input_is_a_clear_422_on_every_store(
    api: TestClient, entry: dict[str, object], detail: str
) -> None:
    h = new_user(api, "ana")
    body = json.dumps(entry)  # keeps the escapes exactly as a client would send them
    r = api.post("/v1/entries", content=body, headers={**h, "Content-Type": "application/json"})
    assert_problem(r, 422)
    assert r.json()["detail"].startswith(detail)
    assert api.get("/v1/entries", headers=h).json()["items"] == []


@pytest.mark.parametrize("name", ["..", "a/../..", "x" * 300 + ".jsonl", "../../etc/passwd"])
def test_upload_names_are_never_paths(api: TestClient, name: str, tmp_path: Path) -> None:
    h = new_user(api, "ana")
    data = json.dumps({"id": "u1", "date": "2024-01-01", "text": "Uploaded."}) + "\n"
    files = {"file": (name, data.encode(), "application/octet-stream")}
    r = api.post("/v1/entries/import/file", files=files, headers=h)
    assert r.status_code == 200, r.text
    reported = r.json()["files"][0]["path"]
    assert "/" not in reported and ".." not in reported and len(reported) <= 200


def test_upload_name_rules() -> None:
    assert upload_name("journal.jsonl") == "journal.jsonl"
    assert upload_name("C:\\notes\\my notes.md") == "my notes.md"
    assert upload_name("..") == "upload"
    assert upload_name(".hidden.json") == "upload.json"
    assert upload_name("x" * 300 + ".jsonl") == "upload.jsonl"
    assert upload_name("a\u0000.md") == "upload.md"


def test_file_import_rejects_unstorable_items_and_keeps_the_rest(api: TestClient) -> None:
    h = new_user(api, "ana")
    lines = [
        {"id": "ok", "date": "2024-01-01", "text": "A plain entry."},
        {"id": "nul", "date": "2024-01-02", "text": "a\u0000b"},
        {"id": "x/y", "date": "2024-01-03", "text": "Slash id."},
    ]
    data = "".join(json.dumps(x) + "\n" for x in lines).encode()
    r = api.post("/v1/entries/import/file", files={"file": ("j.jsonl", data)}, headers=h)
    assert r.status_code == 200, r.text
    report = r.json()["files"][0]
    assert report["imported"] == 1
    reasons = sorted(x["reason"] for x in report["rejected"])
    assert reasons == [
        "id must not contain '/'",
        "text contains a NUL character (U+0000), which cannot be stored",
    ]


@pytest.mark.parametrize("bad", [True, False, 1.5, [], {}])
def test_an_id_is_a_string_or_an_integer_never_a_boolean(api: TestClient, bad: object) -> None:
    h = new_user(api, "ana")
    assert (
        api.post(
            "/v1/entries", json={"id": "1", "date": "2024-01-01", "text": "One."}, headers=h
        ).status_code
        == 201
    )
    r = api.post("/v1/entries", json={"id": bad, "date": "2024-01-02", "text": "Other."}, headers=h)
    assert_problem(r, 422)
    assert r.json()["detail"].startswith("id")  # "id.str: ...; id.int: ..."
    assert api.get("/v1/entries/1", headers=h).json()["text"] == "One."
