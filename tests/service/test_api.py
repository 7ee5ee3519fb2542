"""The HTTP API end to end: users, entries, ask, errors as problem details, OpenAPI.

Every test runs the real app (lifespan included) on SQLite + embedded Chroma with the
deterministic ``WordHashEmbeddings``; one runs it on PostgreSQL + a Chroma server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.store import UserEntries, create_user, issue_api_key
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import WordHashEmbeddings

PROBLEM = "application/problem+json"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
# The ask contract's keys; features may add more (e.g. behaviours, safety), never fewer.
CONTRACT_KEYS = {"question", "answer", "abstained", "mode", "citations"}

JOURNAL = [
    {
        "id": "j1",
        "date": "2024-01-10",
        "text": "Jonah came home late again and I felt let down. "
        "I went quiet and went to bed without a word.",
        "tags": ["jonah"],
    },
    {
        "id": "j2",
        "date": "2024-03-05",
        "text": "Jonah forgot the cabin booking. "
        "I felt let down again and I went quiet for the whole evening.",
    },
    {
        "id": "j3",
        "date": "2024-06-20",
        "text": "Jonah apologised and we talked for hours. "
        "Rebuilding trust felt possible after I felt let down for months.",
    },
    {
        "id": "s1",
        "date": "2024-02-14",
        "text": "Sam borrowed my bike and returned it broken. We laughed about it over pancakes.",
    },
]
LET_DOWN = "what do I do when I felt let down by Jonah?"
UNANSWERABLE = "xylophone zeppelin quasar"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_user(client: TestClient, name: str) -> dict[str, str]:
    r = client.post("/v1/users", json={"name": name}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return bearer(r.json()["api_key"])


def post_entries(
    client: TestClient, headers: dict[str, str], entries: list[dict[str, Any]]
) -> None:
    for e in entries:
        r = client.post("/v1/entries", json=e, headers=headers)
        assert r.status_code == 201, r.text


def assert_problem(r: Any, status: int, *detail_parts: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    for part in detail_parts:
        assert part in body["detail"], body
    return body  # type: ignore[no-any-return]


def assert_grounded(client: TestClient, headers: dict[str, str], answer: dict[str, Any]) -> None:
    """The ask contract: exact keys, and every quote verbatim in the cited entry."""
    assert set(answer) >= CONTRACT_KEYS
    for c in answer["citations"]:
        assert set(c) == {"entry_id", "date", "quote"}
        r = client.get(f"/v1/entries/{c['entry_id']}", headers=headers)
        assert r.status_code == 200
        entry = r.json()
        assert c["date"] == entry["date"]
        assert c["quote"] and c["quote"] in entry["text"]


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


@pytest.fixture
def maya(client: TestClient) -> dict[str, str]:
    """A user with the small journal above, through the API."""
    headers = new_user(client, "maya")
    post_entries(client, headers, JOURNAL)
    return headers


# -------------------------------------------------------------------------- health


def test_healthz_needs_no_key(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_openapi_lists_every_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routes = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes >= {
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/v1/users", "post"),
        ("/v1/users/{name}/keys", "post"),
        ("/v1/me", "get"),
        ("/v1/me", "delete"),
        ("/v1/me/keys/rotate", "post"),
        ("/v1/entries", "post"),
        ("/v1/entries", "get"),
        ("/v1/entries/import", "post"),
        ("/v1/entries/import/file", "post"),
        ("/v1/entries/{entry_id}", "get"),
        ("/v1/entries/{entry_id}", "put"),
        ("/v1/entries/{entry_id}", "patch"),
        ("/v1/entries/{entry_id}", "delete"),
        ("/v1/entries/{entry_id}/status", "get"),
        ("/v1/index/status", "get"),
        ("/v1/search", "post"),
        ("/v1/ask", "post"),
        ("/v1/ask/stream", "post"),
        ("/v1/export", "get"),
    }
    assert spec["info"]["title"] == "trustlens"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    ask_props = spec["components"]["schemas"]["AskResponse"]["properties"]
    assert set(ask_props) >= CONTRACT_KEYS
    citation = spec["components"]["schemas"]["Citation"]["properties"]
    assert set(citation) == {"entry_id", "date", "quote"}
    assert set(spec["components"]["schemas"]["UserCreated"]["properties"]) == {
        "user_id",
        "api_key",
    }


# --------------------------------------------------------------------------- users


def test_create_user_returns_id_and_a_working_key(client: TestClient) -> None:
    r = client.post("/v1/users", json={"name": "ana"}, headers=ADMIN)
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"user_id", "api_key"}
    assert len(body["user_id"]) == 32
    assert body["api_key"].startswith("tl_")
    r = client.post(
        "/v1/entries",
        json={"date": "2024-01-01", "text": "hello there"},
        headers=bearer(body["api_key"]),
    )
    assert r.status_code == 201


def test_create_user_without_a_key_is_401(client: TestClient) -> None:
    r = client.post("/v1/users", json={"name": "ana"})
    assert_problem(r, 401, "Missing bearer admin key")
    assert r.headers["www-authenticate"] == "Bearer"


def test_create_user_with_the_wrong_key_is_403(client: TestClient) -> None:
    r = client.post("/v1/users", json={"name": "ana"}, headers=bearer("not-the-admin-key"))
    assert_problem(r, 403, "Not the admin key.")


def test_a_user_key_is_not_an_admin_key(client: TestClient) -> None:
    user = new_user(client, "ana")
    r = client.post("/v1/users", json={"name": "bo"}, headers=user)
    assert_problem(r, 403, "Not the admin key.")


def test_create_user_is_off_without_an_admin_key(tmp_path: Path) -> None:
    c = Container(Settings(data_dir=tmp_path / "d"), embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as client:
            r = client.post("/v1/users", json={"name": "ana"}, headers=ADMIN)
            assert_problem(r, 403, "Admin routes are off: set TRUSTLENS_ADMIN_KEY.")
            r = client.post("/v1/users", json={"name": "ana"})
            assert_problem(r, 403, "Admin routes are off")
    finally:
        c.close()


def test_duplicate_user_name_is_409(client: TestClient) -> None:
    new_user(client, "ana")
    r = client.post("/v1/users", json={"name": "ana"}, headers=ADMIN)
    assert_problem(r, 409, "A user named 'ana' exists.")
    # Surrounding spaces are trimmed, so this is the same name.
    r = client.post("/v1/users", json={"name": "  ana "}, headers=ADMIN)
    assert_problem(r, 409, "exists")


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 5}])
def test_create_user_validates_the_name(client: TestClient, body: dict[str, Any]) -> None:
    body_ = assert_problem(client.post("/v1/users", json=body, headers=ADMIN), 422, "name")
    assert body_["errors"][0]["field"] == "name"


# ------------------------------------------------------------------------ entries


def test_post_entry_then_get_it(client: TestClient) -> None:
    h = new_user(client, "ana")
    r = client.post(
        "/v1/entries",
        json={"id": "a1", "date": "2024-03-02", "text": "I trusted her.", "tags": ["trust"]},
        headers=h,
    )
    assert r.status_code == 201
    body = r.json()
    # Follow-up questions come with a saved entry (tests/test_insight*.py check their content).
    assert isinstance(body.pop("followups"), list)
    assert body == {
        "id": "a1",
        "date": "2024-03-02",
        "text": "I trusted her.",
        "tags": ["trust"],
        "source": "api",
        "indexed": True,
        "status": "imported",
        "safety": None,  # set only when the text has crisis language (tests/test_safety.py)
    }
    r = client.get("/v1/entries/a1", headers=h)
    assert r.status_code == 200
    assert {k: v for k, v in r.json().items() if k != "followups"} == {
        "id": "a1",
        "date": "2024-03-02",
        "text": "I trusted her.",
        "tags": ["trust"],
        "source": "api",
        "indexed": True,
        "status": None,
        "safety": None,
    }


def test_same_entry_again_is_200_unchanged(client: TestClient) -> None:
    h = new_user(client, "ana")
    entry = {"id": "a1", "date": "2024-03-02", "text": "I trusted her."}
    assert client.post("/v1/entries", json=entry, headers=h).status_code == 201
    r = client.post("/v1/entries", json=entry, headers=h)
    assert r.status_code == 200
    assert r.json()["status"] == "unchanged"
    assert r.json()["indexed"] is True


def test_changed_entry_is_200_updated_and_reindexed(client: TestClient) -> None:
    h = new_user(client, "ana")
    old = {"id": "a1", "date": "2024-03-02", "text": "The parrot escaped through the window."}
    assert client.post("/v1/entries", json=old, headers=h).status_code == 201
    new = {"id": "a1", "date": "2024-03-03", "text": "The tortoise escaped under the fence."}
    r = client.post("/v1/entries", json=new, headers=h)
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["indexed"], r.json()["date"]) == (
        "updated",
        True,
        "2024-03-03",
    )
    got = client.get("/v1/entries/a1", headers=h).json()
    assert (got["text"], got["date"], got["indexed"]) == (new["text"], "2024-03-03", True)
    # The index holds the new version only.
    ans = client.post("/v1/ask", json={"question": "tortoise escaped fence"}, headers=h).json()
    assert ans["citations"] == [
        {"entry_id": "a1", "date": "2024-03-03", "quote": "The tortoise escaped under the fence."}
    ]
    ans = client.post("/v1/ask", json={"question": "parrot window"}, headers=h).json()
    assert ans["abstained"] is True


def test_entry_without_id_gets_a_stable_derived_id(client: TestClient) -> None:
    h = new_user(client, "ana")
    entry = {"date": "2024-03-02", "text": "No id on this one."}
    first = client.post("/v1/entries", json=entry, headers=h)
    assert first.status_code == 201
    eid = first.json()["id"]
    assert eid.startswith("e") and len(eid) == 16
    again = client.post("/v1/entries", json=entry, headers=h)
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (
        200,
        eid,
        "unchanged",
    )
    assert client.get(f"/v1/entries/{eid}", headers=h).json()["text"] == "No id on this one."


def test_entry_ids_tags_and_text_are_normalised(client: TestClient) -> None:
    h = new_user(client, "ana")
    r = client.post(
        "/v1/entries",
        json={
            "id": 42,
            "date": "2024-01-02T23:30:00+05:00",
            "text": "\n\n  Indented first line.\nSecond line.  \n",
            "tags": [" trust ", "trust", "", "family"],
        },
        headers=h,
    )
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == "42"
    assert body["date"] == "2024-01-02"
    assert body["text"] == "  Indented first line.\nSecond line."
    assert body["tags"] == ["trust", "family"]
    assert client.get("/v1/entries/42", headers=h).json()["text"] == body["text"]


def test_unknown_entry_is_404(client: TestClient) -> None:
    h = new_user(client, "ana")
    assert_problem(
        client.get("/v1/entries/nope", headers=h), 404, "No entry 'nope' in your journal."
    )


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"date": "2024-01-02", "text": ""}, "text", "text: empty text"),
        ({"date": "2024-01-02", "text": "  \n\t "}, "text", "text: empty text"),
        ({"date": "2024-01-02"}, "text", "text: Field required"),
        ({"date": "2024-01-02", "text": 5}, "text", "text: Input should be a valid string"),
        ({"date": "2024-01-02", "text": None}, "text", "text: Input should be a valid string"),
        ({"text": "hi"}, "date", "date: Field required"),
        ({"date": "", "text": "hi"}, "date", "date: missing date"),
        (
            {"date": "02/01/2024", "text": "hi"},
            "date",
            "date: bad date '02/01/2024': expected YYYY-MM-DD",
        ),
        (
            {"date": "2024-02-30", "text": "hi"},
            "date",
            "date: bad date '2024-02-30': expected YYYY-MM-DD",
        ),
        ({"date": 20240102, "text": "hi"}, "date", "date: Input should be a valid string"),
        ({"date": "2024-01-02", "text": "hi", "id": ""}, "id", "id: id must not be empty"),
        ({"date": "2024-01-02", "text": "hi", "id": "x" * 129}, "id", "id: id is too long"),
        ({"date": "2024-01-02", "text": "hi", "id": [1]}, "id", "id"),
        ({"date": "2024-01-02", "text": "hi", "tags": "a,b"}, "tags", "tags: Input should be"),
        ({"date": "2024-01-02", "text": "hi", "tags": [1]}, "tags", "tags.0: Input should be"),
    ],
)
def test_bad_entries_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str, detail: str
) -> None:
    h = new_user(client, "ana")
    problem = assert_problem(client.post("/v1/entries", json=body, headers=h), 422, detail)
    assert problem["title"] == "Unprocessable Entity"
    assert problem["detail"].startswith(field)


def test_text_over_the_limit_is_422(client: TestClient) -> None:
    h = new_user(client, "ana")
    r = client.post("/v1/entries", json={"date": "2024-01-02", "text": "a" * 100_001}, headers=h)
    assert_problem(r, 422, "text:")


def test_body_that_is_not_json_is_400_with_the_position(client: TestClient) -> None:
    h = new_user(client, "ana")
    r = client.post(
        "/v1/entries",
        content=b"{not json",
        headers={**h, "content-type": "application/json"},
    )
    body = assert_problem(r, 400)
    assert body["detail"].startswith("body: invalid JSON at character 1: ")
    r = client.post(
        "/v1/entries",
        content=b'{"date": "2024-01-01", "text": x}',
        headers={**h, "content-type": "application/json"},
    )
    assert assert_problem(r, 400)["detail"].startswith("body: invalid JSON at character 31")


def test_nothing_is_stored_for_a_rejected_entry(client: TestClient) -> None:
    h = new_user(client, "ana")
    r = client.post("/v1/entries", json={"id": "z", "date": "bad", "text": "hi"}, headers=h)
    assert r.status_code == 422
    assert_problem(client.get("/v1/entries/z", headers=h), 404)


# ---------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/v1/entries", {"date": "2024-01-02", "text": "hi"}),
        ("get", "/v1/entries/a1", None),
        ("post", "/v1/ask", {"question": "anything?"}),
    ],
)
@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Missing bearer API key (Authorization: Bearer <key>)."),
        (bearer("tl_unknown"), "Unknown or revoked API key."),
        (ADMIN, "Unknown or revoked API key."),  # the admin key reads no journal
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "Missing bearer API key"),
    ],
)
def test_user_routes_need_a_user_key(
    client: TestClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    detail: str,
) -> None:
    r = client.request(method, path, json=body, headers=headers)
    assert_problem(r, 401, detail)
    assert r.headers["www-authenticate"] == "Bearer"


# ----------------------------------------------------------------------------- ask


def test_ask_answers_with_verbatim_dated_quotes(client: TestClient, maya: dict[str, str]) -> None:
    r = client.post("/v1/ask", json={"question": LET_DOWN}, headers=maya)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    ans = r.json()
    assert set(ans) >= CONTRACT_KEYS
    assert ans["question"] == LET_DOWN
    assert ans["abstained"] is False
    assert ans["mode"] == "extractive"
    assert ans["citations"] == [
        {
            "entry_id": "j1",
            "date": "2024-01-10",
            # the matching sentence and the one after it: what happened, then what I did
            "quote": "Jonah came home late again and I felt let down. "
            "I went quiet and went to bed without a word.",
        },
        {
            "entry_id": "j2",
            "date": "2024-03-05",
            "quote": "Jonah forgot the cabin booking. "
            "I felt let down again and I went quiet for the whole evening.",
        },
        {
            "entry_id": "j3",
            "date": "2024-06-20",
            "quote": "Jonah apologised and we talked for hours. "
            "Rebuilding trust felt possible after I felt let down for months.",
        },
    ]
    # A habit question: the counted behaviours (if any were tagged) come first.
    assert (
        "Here is what you wrote about this in 3 entries, from 2024-01-10 to 2024-06-20:"
        in ans["answer"]
    )
    for b in ans["behaviors"]:
        assert b["count"] == len(b["citations"]) and b["of"] == 3
        assert ans["answer"].startswith("When you felt let down by Jonah you ")
    for c in ans["citations"]:
        assert f'{c["date"]}: "{c["quote"]}"' in ans["answer"]
    assert_grounded(client, maya, ans)


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2024-02-01", "2024-04-30", ["j2"]),
        ("2024-03-05", "2024-03-05", ["j2"]),  # both ends are inclusive
        ("2024-03-06", None, ["j3"]),
        (None, "2024-03-05", ["j1", "j2"]),
    ],
)
def test_ask_since_until_restrict_citations(
    client: TestClient,
    maya: dict[str, str],
    since: str | None,
    until: str | None,
    expected: list[str],
) -> None:
    body = {"question": LET_DOWN, "since": since, "until": until}
    ans = client.post("/v1/ask", json=body, headers=maya).json()
    assert ans["abstained"] is False
    assert [c["entry_id"] for c in ans["citations"]] == expected
    for c in ans["citations"]:
        assert (since or "0000") <= c["date"] <= (until or "9999")
    assert_grounded(client, maya, ans)


def test_ask_range_with_nothing_in_it_abstains(client: TestClient, maya: dict[str, str]) -> None:
    body = {"question": LET_DOWN, "since": "2023-01-01", "until": "2023-12-31"}
    ans = client.post("/v1/ask", json=body, headers=maya).json()
    assert (ans["abstained"], ans["citations"]) == (True, [])


def test_ask_since_after_until_is_422(client: TestClient, maya: dict[str, str]) -> None:
    body = {"question": LET_DOWN, "since": "2024-05-01", "until": "2024-01-01"}
    problem = assert_problem(
        client.post("/v1/ask", json=body, headers=maya),
        422,
        "until: Value error, since must not be after until",
    )
    assert problem["errors"][0]["field"] == "until"


def test_unanswerable_question_abstains(client: TestClient, maya: dict[str, str]) -> None:
    r = client.post("/v1/ask", json={"question": UNANSWERABLE}, headers=maya)
    assert r.status_code == 200
    assert {k: r.json()[k] for k in CONTRACT_KEYS} == {
        "question": UNANSWERABLE,
        "answer": "I couldn't find anything in your journal about "
        '"xylophone", "zeppelin" or "quasar".',
        "abstained": True,
        "mode": "extractive",
        "citations": [],
    }


def test_ask_with_an_empty_journal_abstains(client: TestClient) -> None:
    h = new_user(client, "empty")
    q = "did I feel let down by Jonah?"
    ans = client.post("/v1/ask", json={"question": q}, headers=h).json()
    assert ans["abstained"] is True
    assert ans["citations"] == []
    assert ans["answer"] == ('I couldn\'t find anything in your journal about "Jonah".')


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "question: Field required"),
        ({"question": ""}, "question: String should have at least 1 character"),
        ({"question": "   "}, "question: is empty"),
        ({"question": "x" * 2001}, "question: String should have at most 2000 characters"),
        ({"question": 7}, "question: Input should be a valid string"),
        ({"question": "q?", "since": "2024-13-01"}, "since: Input should be a valid date"),
        ({"question": "q?", "until": "soon"}, "until: Input should be a valid date"),
    ],
)
def test_bad_ask_requests_are_422(
    client: TestClient, maya: dict[str, str], body: dict[str, Any], detail: str
) -> None:
    assert_problem(client.post("/v1/ask", json=body, headers=maya), 422, detail)


# ----------------------------------------------------------------------- lifespan


def test_startup_indexes_entries_committed_but_not_indexed(container: Container) -> None:
    with container.sessions() as s:
        user = create_user(s, "ana")
        key = issue_api_key(s, user)
        UserEntries(s, user.id).upsert(
            "p1", dt.date(2024, 5, 1), "The lighthouse keeper never wrote back.", (), "crash"
        )
        s.commit()
    with TestClient(create_app(container=container)) as client:
        got = client.get("/v1/entries/p1", headers=bearer(key)).json()
        assert got["indexed"] is True
        ans = client.post(
            "/v1/ask", json={"question": "lighthouse keeper wrote"}, headers=bearer(key)
        ).json()
        assert [c["entry_id"] for c in ans["citations"]] == ["p1"]


# --------------------------------------------------------- PostgreSQL + Chroma server


@pytest.mark.postgres
@pytest.mark.chroma_server
def test_api_on_postgres_and_a_chroma_server(server_container: Container) -> None:
    c = server_container
    assert c.engine.dialect.name == "postgresql"
    assert type(c.chroma_client).__name__ != "PersistentClient"
    with TestClient(create_app(container=c)) as client:
        h = new_user(client, "maya")
        post_entries(client, h, JOURNAL)
        other = new_user(client, "theo")
        post_entries(
            client,
            other,
            [{"id": "j1", "date": "2024-01-11", "text": "Theo felt let down by Jonah too."}],
        )
        assert client.post("/v1/entries", json=JOURNAL[0], headers=h).json()["status"] == (
            "unchanged"
        )
        got = client.get("/v1/entries/j2", headers=h).json()
        assert (got["text"], got["indexed"]) == (JOURNAL[1]["text"], True)
        ans = client.post("/v1/ask", json={"question": LET_DOWN}, headers=h).json()
        assert ans["abstained"] is False
        assert [c_["entry_id"] for c_ in ans["citations"]] == ["j1", "j2", "j3"]
        assert "Theo" not in ans["answer"]
        assert_grounded(client, h, ans)
        body = {"question": LET_DOWN, "since": "2024-02-01", "until": "2024-04-30"}
        ranged = client.post("/v1/ask", json=body, headers=h).json()
        assert [c_["entry_id"] for c_ in ranged["citations"]] == ["j2"]
        none = client.post("/v1/ask", json={"question": UNANSWERABLE}, headers=h).json()
        assert (none["abstained"], none["citations"]) == (True, [])
        assert_problem(client.get("/v1/entries/s1", headers=other), 404)
