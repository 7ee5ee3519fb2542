"""The API beyond create/read/ask, end to end on the real app and a real store.

Entries update/delete (and the index kept in step), the paged list and its filters,
bulk import (JSON body and files), index status, search, the ask stream, export then
import, /v1/me and key rotation, health and readiness, limits, rate limits and
request ids. SQLite + embedded Chroma with ``WordHashEmbeddings`` unless said otherwise.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY, free_port
from tests.fakes import WordHashEmbeddings
from tests.service.test_api import ADMIN, JOURNAL, assert_problem, bearer, new_user, post_entries


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


@pytest.fixture
def maya(client: TestClient) -> dict[str, str]:
    headers = new_user(client, "maya")
    post_entries(client, headers, JOURNAL)
    return headers


def index_ids(c: Container, user_id: str) -> list[str]:
    got = c.index.collection.get(where={"user_id": user_id}, include=[])
    return sorted(got["ids"])


def user_id_of(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/v1/me", headers=headers).json()["user_id"])


def search(client: TestClient, h: dict[str, str], query: str, **kw: Any) -> list[dict[str, Any]]:
    r = client.post("/v1/search", json={"query": query, **kw}, headers=h)
    assert r.status_code == 200, r.text
    return r.json()["hits"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- update and delete


def test_put_replaces_an_entry_and_reindexes_it(
    client: TestClient, maya: dict[str, str], container: Container
) -> None:
    body = {"date": "2024-01-11", "text": "The tortoise escaped under the fence.", "tags": ["pet"]}
    r = client.put("/v1/entries/j1", json=body, headers=maya)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["id"], got["date"], got["text"], got["tags"], got["status"], got["indexed"]) == (
        "j1",
        "2024-01-11",
        body["text"],
        ["pet"],
        "updated",
        True,
    )
    hits = search(client, maya, "tortoise escaped fence")
    assert hits[0]["entry_id"] == "j1"
    assert hits[0]["text"] == body["text"][hits[0]["start"] : hits[0]["end"]]
    assert all("came home late" not in h["text"] for h in search(client, maya, "came home late"))
    # Omitted tags in a PUT mean none.
    again = {"date": "2024-01-11", "text": body["text"]}
    r = client.put("/v1/entries/j1", json=again, headers=maya)
    assert r.json()["tags"] == []


def test_patch_changes_only_the_fields_given(client: TestClient, maya: dict[str, str]) -> None:
    r = client.patch("/v1/entries/j1", json={"tags": ["jonah", "late"]}, headers=maya)
    assert r.status_code == 200
    got = r.json()
    assert (got["text"], got["date"], got["tags"], got["status"]) == (
        JOURNAL[0]["text"],
        "2024-01-10",
        ["jonah", "late"],
        "updated",
    )
    r = client.patch("/v1/entries/j1", json={}, headers=maya)
    assert (r.status_code, r.json()["status"]) == (200, "unchanged")
    assert_problem(
        client.patch("/v1/entries/j1", json={"date": "tomorrow"}, headers=maya),
        422,
        "date: bad date 'tomorrow'",
    )


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_changing_a_missing_entry_is_404(
    client: TestClient, maya: dict[str, str], method: str
) -> None:
    body = {"date": "2024-01-01", "text": "x"} if method != "delete" else None
    r = client.request(method, "/v1/entries/nope", json=body, headers=maya)
    assert_problem(r, 404, "No entry 'nope' in your journal.")


def test_delete_removes_the_entry_and_its_chunks(
    client: TestClient, maya: dict[str, str], container: Container
) -> None:
    uid = user_id_of(client, maya)
    assert any(i.startswith(f"{uid}/j1/") for i in index_ids(container, uid))
    r = client.delete("/v1/entries/j1", headers=maya)
    assert (r.status_code, r.content) == (204, b"")
    assert_problem(client.get("/v1/entries/j1", headers=maya), 404)
    assert not any(i.startswith(f"{uid}/j1/") for i in index_ids(container, uid))
    assert all(h["entry_id"] != "j1" for h in search(client, maya, "came home late let down"))
    ans = client.post("/v1/ask", json={"question": "came home late"}, headers=maya).json()
    assert all(c["entry_id"] != "j1" for c in ans["citations"])
    assert_problem(client.delete("/v1/entries/j1", headers=maya), 404)
    # The rest is still there.
    assert client.get("/v1/entries/j2", headers=maya).status_code == 200


# ---------------------------------------------------------------------------- list


def test_list_pages_through_everything_once_in_date_order(client: TestClient) -> None:
    h = new_user(client, "ana")
    entries = [
        {"id": f"n{i:02d}", "date": f"2024-0{1 + i % 3}-0{1 + i % 2}", "text": f"note {i}"}
        for i in range(11)
    ]
    post_entries(client, h, entries)
    seen: list[tuple[str, str]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/entries", params=params, headers=h).json()
        pages += 1
        seen += [(e["date"], e["id"]) for e in page["items"]]
        assert all(e["indexed"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted((e["date"], e["id"]) for e in entries)


def test_list_filters_by_date_range_and_tag(client: TestClient, maya: dict[str, str]) -> None:
    def ids(**params: Any) -> list[str]:
        r = client.get("/v1/entries", params=params, headers=maya)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["items"]]

    assert ids() == ["j1", "s1", "j2", "j3"]
    assert ids(since="2024-02-01", until="2024-03-31") == ["s1", "j2"]
    assert ids(since="2024-03-05", until="2024-03-05") == ["j2"]
    assert ids(tag="jonah") == ["j1"]
    assert ids(tag="nobody") == []
    assert ids(tag="jonah", since="2024-02-01") == []
    # A tag filter still pages: one entry per page, then no cursor.
    page = client.get("/v1/entries", params={"tag": "jonah", "limit": 1}, headers=maya).json()
    assert ([e["id"] for e in page["items"]], page["next_cursor"]) == (["j1"], None)


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": 0}, "limit: Input should be greater than or equal to 1"),
        ({"limit": 201}, "limit: at most 200 (TRUSTLENS_MAX_PAGE_SIZE)"),
        ({"cursor": "!!not-a-cursor"}, "cursor: not a cursor this API returned"),
        ({"since": "2024-05-01", "until": "2024-01-01"}, "until: since must not be after"),
        ({"since": "someday"}, "since: Input should be a valid date"),
    ],
)
def test_bad_list_parameters_are_422(
    client: TestClient, maya: dict[str, str], params: dict[str, Any], detail: str
) -> None:
    assert_problem(client.get("/v1/entries", params=params, headers=maya), 422, detail)


# -------------------------------------------------------------------------- import


def test_json_import_reports_each_item_and_imports_the_good_ones(
    client: TestClient, maya: dict[str, str]
) -> None:
    body = {
        "entries": [
            {"id": "b1", "date": "2024-07-01", "text": "A new start with Jonah."},
            {"id": "b2", "date": "2024-13-01", "text": "Bad date."},
            {"id": "j1", **{k: JOURNAL[0][k] for k in ("date", "text", "tags")}},
            {"id": "j2", "date": "2024-03-05", "text": "Jonah forgot again."},
            "not an object",
        ]
    }
    r = client.post("/v1/entries/import", json=body, headers=maya)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["totals"] == {
        "files": 1,
        "imported": 1,
        "updated": 1,
        "unchanged": 1,
        "rejected": 2,
        "failed_files": 0,
        "indexed": 2,
    }
    assert rep["files"][0]["rejected"] == [
        {"source": "request:2", "reason": "bad date '2024-13-01': expected YYYY-MM-DD"},
        {"source": "request:5", "reason": "expected a JSON object, got a string"},
    ]
    assert client.get("/v1/entries/b1/status", headers=maya).json()["indexed"] is True
    assert client.get("/v1/entries/j2", headers=maya).json()["text"] == "Jonah forgot again."


def test_file_import_reads_every_format(client: TestClient, tmp_path: Path) -> None:
    h = new_user(client, "ana")
    jsonl = b'{"id": "l1", "date": "2024-01-01", "text": "From JSON Lines."}\n{"date": "bad"}\n'
    md = b"---\ndate: 2024-02-02\n---\nFrom a Markdown note.\n"
    csv = b"id,date,text,tags\nc1,2024-03-03,From a CSV row.,work\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(
            "Journal.json",
            json.dumps(
                {"entries": [{"uuid": "D1", "creationDate": "2024-04-04T10:00:00Z", "text": "Day"}]}
            ),
        )
    uploads = [
        ("journal.jsonl", jsonl, ("l1", 1, 1)),
        ("../../etc/2024-02-02.md", md, (None, 1, 0)),
        ("rows.csv", csv, ("c1", 1, 0)),
        ("export.zip", buf.getvalue(), ("D1", 1, 0)),
    ]
    for name, data, (eid, imported, rejected) in uploads:
        r = client.post("/v1/entries/import/file", files={"file": (name, data)}, headers=h)
        assert r.status_code == 200, r.text
        rep = r.json()
        assert (rep["totals"]["imported"], rep["totals"]["rejected"]) == (imported, rejected)
        assert str(tmp_path) not in r.text and "trustlens-upload-" not in r.text
        if eid:
            assert client.get(f"/v1/entries/{eid}", headers=h).status_code == 200
    assert client.get("/v1/me", headers=h).json()["entries"] == 4
    r = client.post("/v1/entries/import/file", files={"file": ("x.pdf", b"%PDF")}, headers=h)
    rep = r.json()
    assert rep["totals"]["failed_files"] == 1
    assert "unsupported file type '.pdf'" in rep["files"][0]["error"]


def test_import_limits_are_413(tmp_path: Path, fake_embeddings: WordHashEmbeddings) -> None:
    s = Settings(
        data_dir=tmp_path / "d",
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
        max_batch_entries=2,
        max_upload_bytes=100,
        max_entry_chars=20,
    )
    c = Container(s, embeddings=fake_embeddings)
    try:
        with TestClient(create_app(container=c)) as client:
            h = new_user(client, "ana")
            three = [{"date": f"2024-01-0{i}", "text": f"t{i}"} for i in (1, 2, 3)]
            r = client.post("/v1/entries/import", json={"entries": three}, headers=h)
            assert_problem(r, 413, "3 entries in one import; the limit is 2")
            r = client.post(
                "/v1/entries/import/file", files={"file": ("a.jsonl", b" " * 101)}, headers=h
            )
            assert_problem(r, 413, "file over the limit of 100 bytes")
            long = {"date": "2024-01-01", "text": "x" * 21}
            r = client.post("/v1/entries/import", json={"entries": [long]}, headers=h)
            assert r.json()["files"][0]["rejected"][0]["reason"] == (
                "text longer than the limit of 20 characters"
            )
            r = client.post("/v1/entries", json=long, headers=h)
            assert_problem(r, 422, "text: longer than the limit of 20 characters")
            assert client.get("/v1/me", headers=h).json()["entries"] == 0
    finally:
        c.close()


# -------------------------------------------------------------------------- status


def test_entry_status_says_whether_and_when_it_was_indexed(
    client: TestClient, maya: dict[str, str], container: Container
) -> None:
    st = client.get("/v1/entries/j2/status", headers=maya).json()
    assert st["entry_id"] == "j2" and st["date"] == "2024-03-05"
    assert st["indexed"] is True and st["indexed_at"]
    assert st["chunks"] >= 1 and st["index_chunks"] == st["chunks"]
    assert_problem(client.get("/v1/entries/zz/status", headers=maya), 404)
    # "Was my entry from 2024-03-05 indexed?"
    day = client.get(
        "/v1/index/status", params={"since": "2024-03-05", "until": "2024-03-05"}, headers=maya
    ).json()
    assert [s["entry_id"] for s in day["items"]] == ["j2"]
    assert (day["indexed"], day["pending"]) == (1, 0)
    # An entry committed but not indexed (a crash between the two) shows as pending.
    from ingest.store import UserEntries

    uid = user_id_of(client, maya)
    with container.sessions() as s:
        import datetime as dt

        UserEntries(s, uid).upsert("p1", dt.date(2024, 3, 5), "Not indexed yet.", (), "crash")
        s.commit()
    day = client.get("/v1/index/status", params={"since": "2024-03-05"}, headers=maya).json()
    pending = [s for s in day["items"] if s["entry_id"] == "p1"]
    assert pending == [
        {
            "entry_id": "p1",
            "date": "2024-03-05",
            "indexed": False,
            "indexed_at": None,
            "chunks": 0,
            "index_chunks": None,
            "state": "pending",
            "attempts": 0,
            "last_error": None,
        }
    ]
    assert day["pending"] == 1
    st = client.get("/v1/entries/p1/status", headers=maya).json()
    assert (st["indexed"], st["index_chunks"]) == (False, 0)


# -------------------------------------------------------------------------- search


def test_search_returns_ranked_chunks_with_offsets(
    client: TestClient, maya: dict[str, str]
) -> None:
    hits = search(client, maya, "felt let down by Jonah", k=3)
    assert 1 <= len(hits) <= 3
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    texts = {e["id"]: e["text"] for e in JOURNAL}
    for h in hits:
        assert set(h) == {"entry_id", "date", "text", "start", "end", "score", "similarity"}
        assert texts[h["entry_id"]][h["start"] : h["end"]] == h["text"]
    assert hits[0]["entry_id"] in {"j1", "j2", "j3"}
    ranged = search(client, maya, "felt let down", since="2024-03-01", until="2024-03-31")
    assert {h["entry_id"] for h in ranged} == {"j2"}
    assert all(h["entry_id"] == "s1" for h in search(client, maya, "bike pancakes", mode="bm25"))
    assert_problem(
        client.post("/v1/search", json={"query": "x" * 2001}, headers=maya), 422, "query:"
    )
    assert_problem(client.post("/v1/search", json={"query": "  "}, headers=maya), 422, "query:")


# --------------------------------------------------------------------- ask stream


def parse_sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_ask_stream_sends_steps_then_the_same_answer_as_ask(
    client: TestClient, maya: dict[str, str]
) -> None:
    q = {"question": "what do I do when I felt let down by Jonah?"}
    with client.stream("POST", "/v1/ask/stream", json=q, headers=maya) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        text = r.read().decode()
    events = parse_sse(text)
    assert [e for e, _ in events][-1] == "answer"
    steps = [d["step"] for e, d in events if e == "step"]
    assert steps == ["plan", "retrieve", "draft", "check"]
    retrieved = next(d for e, d in events if e == "step" and d["step"] == "retrieve")
    assert retrieved["chunks"] > 0
    plain = client.post("/v1/ask", json=q, headers=maya).json()
    assert events[-1][1] == plain
    assert_problem(client.post("/v1/ask/stream", json={"question": ""}, headers=maya), 422)


# ------------------------------------------------------------------ export/import


def test_export_then_import_into_a_fresh_user_reproduces_the_entries(
    client: TestClient, maya: dict[str, str], tmp_path: Path, container: Container
) -> None:
    client.patch("/v1/entries/j3", json={"tags": ["jonah", "repair"]}, headers=maya)
    doc = client.get("/v1/export", headers=maya).json()
    assert doc["format"] == "trustlens-export" and doc["version"] == 1
    assert doc["user"]["name"] == "maya"
    assert len(doc["entries"]) == len(JOURNAL)

    def entries(h: dict[str, str]) -> list[tuple[Any, ...]]:
        items = client.get("/v1/entries", params={"limit": 200}, headers=h).json()["items"]
        return [(e["id"], e["date"], e["text"], e["tags"]) for e in items]

    # The whole document as the JSON body of a bulk import.
    fresh = new_user(client, "maya2")
    r = client.post("/v1/entries/import", json=doc, headers=fresh)
    assert r.json()["totals"]["imported"] == len(JOURNAL)
    assert entries(fresh) == entries(maya)
    # The document as an uploaded file.
    fresh2 = new_user(client, "maya3")
    r = client.post(
        "/v1/entries/import/file",
        files={"file": ("export.json", json.dumps(doc).encode())},
        headers=fresh2,
    )
    assert r.json()["totals"]["imported"] == len(JOURNAL), r.text
    assert entries(fresh2) == entries(maya)
    # And as a file through the path `trustlens ingest` runs (Importer.import_path).
    path = tmp_path / "maya-export.json"
    path.write_text(json.dumps(doc))
    key = client.post("/v1/users", json={"name": "maya4"}, headers=ADMIN).json()["api_key"]
    report = container.importer.import_path(user_id_of(client, bearer(key)), path)
    assert report.totals["imported"] == len(JOURNAL)
    assert entries(bearer(key)) == entries(maya)


# ---------------------------------------------------------------------- me and keys


def test_me_names_the_caller(client: TestClient, maya: dict[str, str]) -> None:
    me = client.get("/v1/me", headers=maya).json()
    assert (me["name"], me["entries"], me["active_keys"]) == ("maya", len(JOURNAL), 1)
    assert len(me["user_id"]) == 32


def test_rotating_a_key_revokes_the_old_one(client: TestClient, maya: dict[str, str]) -> None:
    r = client.post("/v1/me/keys/rotate", headers=maya)
    assert r.status_code == 200
    new = r.json()
    assert new["revoked"] == 1 and new["api_key"].startswith("tl_")
    assert_problem(client.get("/v1/me", headers=maya), 401, "Unknown or revoked API key.")
    h = bearer(new["api_key"])
    assert client.get("/v1/entries/j1", headers=h).status_code == 200
    # Keeping the old key is a choice.
    r = client.post("/v1/me/keys/rotate", json={"revoke_others": False}, headers=h)
    assert r.json()["revoked"] == 0
    assert client.get("/v1/me", headers=h).json()["active_keys"] == 2
    assert client.get("/v1/me", headers=bearer(r.json()["api_key"])).status_code == 200


def test_admin_issues_keys_and_can_revoke_the_existing_ones(
    client: TestClient, maya: dict[str, str]
) -> None:
    r = client.post("/v1/users/maya/keys", json={}, headers=ADMIN)
    assert r.status_code == 201
    assert r.json()["revoked"] == 0
    second = bearer(r.json()["api_key"])
    assert client.get("/v1/me", headers=maya).status_code == 200
    r = client.post("/v1/users/maya/keys", json={"revoke_existing": True}, headers=ADMIN)
    assert r.json()["revoked"] == 2
    for old in (maya, second):
        assert_problem(client.get("/v1/me", headers=old), 401)
    assert client.get("/v1/me", headers=bearer(r.json()["api_key"])).json()["name"] == "maya"
    assert_problem(client.post("/v1/users/nobody/keys", headers=ADMIN), 404, "No user named")
    assert_problem(client.post("/v1/users/maya/keys", headers=maya), 403)
    assert_problem(client.post("/v1/users/maya/keys"), 401)


def test_keys_are_stored_hashed(client: TestClient, container: Container) -> None:
    r = client.post("/v1/users", json={"name": "ana"}, headers=ADMIN)
    key = r.json()["api_key"]
    from sqlalchemy import text

    with container.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).fetchall()
    assert rows and all(key not in str(tuple(row)) for row in rows)


# ------------------------------------------------------------------- health/ready


def test_readyz_checks_the_database_and_the_index(client: TestClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    checks = {"database": "ok", "index": "ok", "storage": "ok"}  # storage: the data folder
    assert r.json() == {"status": "ready", "checks": checks}


def test_readyz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    c = Container(Settings(data_dir=tmp_path / "d"), embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as client:
            db = tmp_path / "d" / "trustlens.db"
            for p in tmp_path.glob("d/trustlens.db*"):
                p.unlink()
            db.mkdir()  # a folder where the database file was: it cannot be opened
            # Dispose only now: a connection the background indexer opened before the file
            # went would still read the unlinked file; after this every connection is new.
            c.engine.dispose()
            r = client.get("/readyz")
            body = assert_problem(r, 503, "Not ready: database down.")
            assert body["checks"]["database"].startswith("down (")
            assert body["checks"]["index"] == "ok"
            assert client.get("/healthz").status_code == 200
    finally:
        c.close()


@pytest.mark.chroma_server
def test_readyz_is_503_when_the_chroma_server_is_down(tmp_path: Path) -> None:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.time() < deadline, "chroma did not start"
            time.sleep(0.2)
        s = Settings(data_dir=tmp_path / "d", chroma_url=url)
        c = Container(s, embeddings=WordHashEmbeddings())
        with TestClient(create_app(container=c)) as client:
            assert client.get("/readyz").status_code == 200
            proc.terminate()
            proc.wait(20)
            body = assert_problem(client.get("/readyz"), 503, "Not ready: index down.")
            assert body["checks"]["database"] == "ok"
        c.close()
    finally:
        if proc.poll() is None:
            proc.kill()


# --------------------------------------------------- errors, limits, rate, request ids


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404, "No such route")
    assert_problem(client.put("/v1/entries"), 405, "does not take that method")
    assert_problem(client.get("/v1/search"), 405)


def test_question_limit_is_a_setting(tmp_path: Path) -> None:
    s = Settings(
        data_dir=tmp_path / "d",  # type: ignore[arg-type]
        admin_key=ADMIN_KEY,
        max_question_chars=10,
        max_situation_chars=10,
    )
    c = Container(s, embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as client:
            h = new_user(client, "ana")
            for path, key in (
                ("/v1/search", "query"),
                ("/v1/ask", "question"),
                ("/v1/ask/stream", "question"),
                ("/v1/reflect", "situation"),
            ):
                r = client.post(path, json={key: "x" * 11}, headers=h)
                assert_problem(r, 422, f"{key}: at most 10 characters")
                assert_problem(
                    client.post(path, json={key: "   "}, headers=h), 422, f"{key}: is empty"
                )
            assert client.post("/v1/search", json={"query": "x" * 10}, headers=h).status_code == 200
    finally:
        c.close()


def test_rate_limit_is_per_key_and_a_problem(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d", admin_key=ADMIN_KEY, rate_limit="3/minute")  # type: ignore[arg-type]
    c = Container(s, embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as client:
            a = new_user(client, "ana")
            b = new_user(client, "bo")  # admin key: 2 of its 3
            codes = [client.get("/v1/me", headers=a).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            r = client.get("/v1/me", headers=a)
            assert_problem(r, 429, "Rate limit of 3 per 1 minute for this key exceeded")
            assert 1 <= int(r.headers["retry-after"]) <= 60
            assert client.get("/v1/me", headers=b).status_code == 200  # another key
            assert client.get("/healthz").status_code == 200  # probes are not limited
    finally:
        c.close()


def test_every_response_has_a_request_id(client: TestClient) -> None:
    r = client.get("/healthz")
    rid = r.headers["x-request-id"]
    assert len(rid) == 32
    mine = uuid.uuid4().hex
    r = client.get("/v1/me", headers={"X-Request-ID": mine})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == mine


# ------------------------------------------------------------- patterns and labels


def correct(c: Container, user_id: str, entry_id: str, label: str, verdict: str) -> None:
    from ingest.labels_store import UserLabels

    with c.sessions() as s:
        UserLabels(s, user_id).correct(entry_id, label, verdict)  # type: ignore[arg-type]
        s.commit()


def test_list_filters_by_pattern_with_corrections(
    client: TestClient, maya: dict[str, str], container: Container
) -> None:
    uid = user_id_of(client, maya)
    correct(container, uid, "j1", "avoidance", "confirm")
    correct(container, uid, "j3", "avoidance", "confirm")
    correct(container, uid, "j2", "avoidance", "reject")

    def ids(**params: Any) -> list[str]:
        r = client.get("/v1/entries", params=params, headers=maya)
        assert r.status_code == 200, r.text
        return [e["id"] for e in r.json()["items"]]

    assert ids(pattern="avoidance") == ["j1", "j3"]
    assert ids(pattern="avoidance", since="2024-02-01") == ["j3"]
    assert ids(pattern="avoidance", tag="jonah") == ["j1"]
    page = client.get("/v1/entries", params={"pattern": "avoidance", "limit": 1}, headers=maya)
    nxt = client.get(
        "/v1/entries",
        params={"pattern": "avoidance", "limit": 1, "cursor": page.json()["next_cursor"]},
        headers=maya,
    )
    assert [e["id"] for e in nxt.json()["items"]] == ["j3"]
    assert ids(pattern="projection") == []
    assert_problem(
        client.get("/v1/entries", params={"pattern": "grumpiness"}, headers=maya),
        422,
        "pattern: unknown pattern 'grumpiness'",
    )
    # Deleting an entry takes its corrections with it.
    assert client.delete("/v1/entries/j1", headers=maya).status_code == 204
    doc = client.get("/v1/export", headers=maya).json()
    assert {c["entry_id"] for c in doc["sections"]["label_corrections"]} == {"j2", "j3"}


def test_export_carries_label_corrections_and_import_restores_them(
    client: TestClient, maya: dict[str, str], container: Container
) -> None:
    uid = user_id_of(client, maya)
    correct(container, uid, "j1", "avoidance", "confirm")
    correct(container, uid, "s1", "betrayal", "reject")
    doc = client.get("/v1/export", headers=maya).json()
    got = [(c["entry_id"], c["label"], c["verdict"]) for c in doc["sections"]["label_corrections"]]
    assert got == [("j1", "avoidance", "confirm"), ("s1", "betrayal", "reject")]
    doc["sections"]["label_corrections"].append({"entry_id": "zz", "label": "x", "verdict": "no"})
    for i, send in enumerate(("json", "file")):
        fresh = new_user(client, f"restored{i}")
        if send == "json":
            r = client.post("/v1/entries/import", json=doc, headers=fresh)
        else:
            blob = json.dumps(doc).encode()
            r = client.post(
                "/v1/entries/import/file", files={"file": ("e.json", blob)}, headers=fresh
            )
        rep = r.json()["sections"]["label_corrections"]
        assert rep["applied"] == 2
        assert rep["rejected"] == [
            {"source": "label_corrections:3", "reason": "needs a label and a verdict"}
        ]
        again = client.get("/v1/export", headers=fresh).json()["sections"]["label_corrections"]
        assert [(c["entry_id"], c["label"], c["verdict"]) for c in again] == got
        listed = client.get("/v1/entries", params={"pattern": "avoidance"}, headers=fresh)
        assert [e["id"] for e in listed.json()["items"]] == ["j1"]
