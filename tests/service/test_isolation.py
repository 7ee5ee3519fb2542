"""One person's writing never reaches another: per route, and at the retriever.

Two users write about the same things in nearly the same words, under the same entry
ids, in one shared Chroma collection. Alice's entries carry a marker word that Bob
never wrote, so any leak shows up in Bob's responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from ingest.store import UserEntries
from service.app import create_app
from service.container import Container
from service.retrieval.hybrid import HybridRetriever
from tests.conftest import ADMIN_KEY

MARK = "Zanzibar"  # only ever in Alice's entries

ALICE = {
    "x1": ("2024-01-05", f"Jonah read my phone messages and I felt betrayed. {MARK} was the word."),
    "x2": ("2024-02-10", f"I went quiet for days after the betrayal. {MARK} again."),
    "x3": ("2024-03-15", f"Rebuilding trust with Jonah felt slow but real. {MARK} helped."),
    "alice-only": ("2024-04-20", f"I felt betrayed by Jonah at the {MARK} party."),
}
BOB = {
    "x1": ("2024-01-06", "Sam read my diary pages and I felt betrayed. I walked out."),
    "x2": ("2024-02-11", "I went quiet for a week after the betrayal. Then I called Sam."),
    "x3": ("2024-03-16", "Rebuilding trust with Sam felt slow but honest."),
}
QUESTIONS = [
    "when did I feel betrayed after someone read my messages?",
    "I went quiet after the betrayal",
    "rebuilding trust felt slow",
    f"{MARK} party betrayed by Jonah",
]


@dataclass
class Person:
    user_id: str
    headers: dict[str, str]
    entries: dict[str, tuple[str, str]]


def make_person(client: TestClient, name: str, entries: dict[str, tuple[str, str]]) -> Person:
    r = client.post(
        "/v1/users", json={"name": name}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    assert r.status_code == 201
    body = r.json()
    headers = {"Authorization": f"Bearer {body['api_key']}"}
    for eid, (date, text) in entries.items():
        r = client.post(
            "/v1/entries", json={"id": eid, "date": date, "text": text}, headers=headers
        )
        assert r.status_code == 201, r.text
    return Person(body["user_id"], headers, entries)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


@pytest.fixture
def alice(client: TestClient) -> Person:
    return make_person(client, "alice", ALICE)


@pytest.fixture
def bob(client: TestClient, alice: Person) -> Person:
    return make_person(client, "bob", BOB)


def assert_only_own(answer: dict[str, Any], me: Person) -> None:
    """Every citation is one of ``me``'s entries, with ``me``'s date and words."""
    if me.entries is not ALICE:
        assert MARK not in str(answer["citations"])
        # An abstention echoes the question; an answer is made of the asker's quotes only.
        assert answer["abstained"] or MARK not in answer["answer"]
    for c in answer["citations"]:
        assert c["entry_id"] in me.entries
        date, text = me.entries[c["entry_id"]]
        assert c["date"] == date
        assert c["quote"] in text


# --------------------------------------------------------------------------- routes


def test_get_same_entry_id_returns_each_users_own_entry(
    client: TestClient, alice: Person, bob: Person
) -> None:
    for eid in ("x1", "x2", "x3"):
        a = client.get(f"/v1/entries/{eid}", headers=alice.headers).json()
        b = client.get(f"/v1/entries/{eid}", headers=bob.headers).json()
        assert (a["date"], a["text"]) == ALICE[eid]
        assert (b["date"], b["text"]) == BOB[eid]
        assert MARK not in str(b)


def test_get_another_users_entry_id_is_404(client: TestClient, alice: Person, bob: Person) -> None:
    r = client.get("/v1/entries/alice-only", headers=bob.headers)
    assert r.status_code == 404
    assert MARK not in r.text
    assert client.get("/v1/entries/alice-only", headers=alice.headers).status_code == 200


def test_writing_the_same_id_does_not_touch_the_other_user(
    client: TestClient, alice: Person, bob: Person
) -> None:
    r = client.post(
        "/v1/entries",
        json={"id": "x1", "date": "2024-01-07", "text": "Bob rewrote his first entry."},
        headers=bob.headers,
    )
    assert (r.status_code, r.json()["status"]) == (200, "updated")
    a = client.get("/v1/entries/x1", headers=alice.headers).json()
    assert (a["date"], a["text"]) == ALICE["x1"]
    # And Alice writing Bob's words under her id is new content for her, not "unchanged".
    r = client.post(
        "/v1/entries",
        json={"id": "x3", "date": BOB["x3"][0], "text": BOB["x3"][1]},
        headers=alice.headers,
    )
    assert (r.status_code, r.json()["status"]) == (200, "updated")


@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_cites_only_the_askers_entries(
    client: TestClient, alice: Person, bob: Person, question: str
) -> None:
    for me in (alice, bob):
        ans = client.post("/v1/ask", json={"question": question}, headers=me.headers).json()
        assert_only_own(ans, me)
    # Alice's own question about her marker is answered for her...
    a = client.post("/v1/ask", json={"question": QUESTIONS[3]}, headers=alice.headers).json()
    assert a["abstained"] is False
    assert "alice-only" in [c["entry_id"] for c in a["citations"]]


def test_bob_asking_about_alices_words_gets_nothing_of_hers(
    client: TestClient, alice: Person, bob: Person
) -> None:
    ans = client.post(
        "/v1/ask", json={"question": f"{MARK} {MARK} party"}, headers=bob.headers
    ).json()
    assert ans["abstained"] is True
    assert ans["citations"] == []
    a = client.post(
        "/v1/ask", json={"question": f"{MARK} {MARK} party"}, headers=alice.headers
    ).json()
    assert a["abstained"] is False


def test_answers_for_bob_are_answered_from_bob(
    client: TestClient, alice: Person, bob: Person
) -> None:
    ans = client.post("/v1/ask", json={"question": QUESTIONS[0]}, headers=bob.headers).json()
    assert ans["abstained"] is False
    assert ans["citations"][0] == {
        "entry_id": "x1",
        "date": "2024-01-06",
        "quote": "Sam read my diary pages and I felt betrayed. I walked out.",
    }
    assert_only_own(ans, bob)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2024-01-05", "2024-01-05"),  # only Alice wrote that day
        ("2024-04-01", "2024-12-31"),  # only Alice's "alice-only" entry
        ("2024-01-01", "2024-12-31"),  # everyone
        ("2024-02-11", None),
        (None, "2024-01-06"),
    ],
)
@pytest.mark.parametrize("question", QUESTIONS)
def test_ask_with_a_date_range_cites_only_the_askers_entries(
    client: TestClient,
    alice: Person,
    bob: Person,
    question: str,
    since: str | None,
    until: str | None,
) -> None:
    body = {"question": question, "since": since, "until": until}
    ans = client.post("/v1/ask", json=body, headers=bob.headers).json()
    assert_only_own(ans, bob)
    for c in ans["citations"]:
        assert (since or "0000") <= c["date"] <= (until or "9999")


def test_a_range_holding_only_the_other_users_entries_abstains(
    client: TestClient, alice: Person, bob: Person
) -> None:
    body = {"question": QUESTIONS[3], "since": "2024-04-01", "until": "2024-12-31"}
    assert client.post("/v1/ask", json=body, headers=alice.headers).json()["abstained"] is False
    ans = client.post("/v1/ask", json=body, headers=bob.headers).json()
    assert (ans["abstained"], ans["citations"]) == (True, [])


def test_a_new_user_with_no_entries_sees_nothing(client: TestClient, alice: Person) -> None:
    carol = make_person(client, "carol", {})
    for q in QUESTIONS:
        ans = client.post("/v1/ask", json={"question": q}, headers=carol.headers).json()
        assert (ans["abstained"], ans["citations"]) == (True, [])
    assert client.get("/v1/entries/x1", headers=carol.headers).status_code == 404


# ------------------------------------------------------------------------ retriever


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_retriever_returns_only_its_users_chunks(
    container: Container, alice: Person, bob: Person, mode: str
) -> None:
    for me in (alice, bob):
        seen = set()
        for q in QUESTIONS:
            docs = container.retrievers.for_user(me.user_id, mode=mode).invoke(q)
            for d in docs:
                m = d.metadata
                assert m["chunk_id"].startswith(f"{me.user_id}/")
                assert m["entry_id"] in me.entries
                date, text = me.entries[m["entry_id"]]
                assert m["date"] == date
                assert text[m["start"] : m["end"]] == d.page_content
                seen.add(m["entry_id"])
        # The retriever does find this user's entries (the test is not vacuous).
        assert seen == set(me.entries)


def test_retriever_date_range_stays_within_the_user(
    container: Container, alice: Person, bob: Person
) -> None:
    import datetime as dt

    docs = container.retrievers.for_user(
        bob.user_id, since=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31)
    ).invoke("felt betrayed Jonah party")
    assert docs
    assert {d.metadata["entry_id"] for d in docs} <= set(BOB)
    assert all(MARK not in d.page_content for d in docs)


def test_retriever_cannot_be_built_without_a_user(container: Container) -> None:
    with pytest.raises(ValidationError) as exc:
        HybridRetriever(
            user_id="",
            index=container.index,
            embeddings=container.embeddings,
            lexical=container.lexical,
            revision=lambda: 0,
        )
    assert exc.value.errors()[0]["loc"] == ("user_id",)
    with pytest.raises(ValidationError):
        container.retrievers.for_user("")


def test_store_and_index_refuse_an_empty_user(container: Container) -> None:
    with container.sessions() as s, pytest.raises(ValueError, match="a user id is required"):
        UserEntries(s, "")
    with pytest.raises(ValueError, match="only ever read or written for one user"):
        container.index.query("", [1.0] + [0.0] * 255, 3)
    with pytest.raises(ValueError, match="only ever read or written for one user"):
        container.index.documents("")


# ------------------------------------------------------------- every route, two users

NOT_THERE = "no-such-entry"


def same_404(client: TestClient, method: str, path: str, bob: Person, **kw: Any) -> None:
    """Bob gets for Alice's entry exactly what he gets for an id nobody has."""
    r = client.request(method, path.format(eid="alice-only"), headers=bob.headers, **kw)
    n = client.request(method, path.format(eid=NOT_THERE), headers=bob.headers, **kw)
    assert (r.status_code, n.status_code) == (404, 404)
    assert r.json() == {**n.json(), "detail": n.json()["detail"].replace(NOT_THERE, "alice-only")}
    assert MARK not in r.text


def alice_untouched(client: TestClient, container: Container, alice: Person) -> None:
    got = client.get("/v1/entries/alice-only", headers=alice.headers).json()
    assert (got["date"], got["text"], got["indexed"]) == (*ALICE["alice-only"], True)
    assert client.get("/v1/me", headers=alice.headers).json()["entries"] == len(ALICE)
    assert container.index.count(alice.user_id) >= len(ALICE)
    hits = client.post("/v1/search", json={"query": MARK}, headers=alice.headers).json()["hits"]
    assert "alice-only" in {h["entry_id"] for h in hits}


def walk_entries(client: TestClient, container: Container, alice: Person, bob: Person) -> None:
    same_404(client, "GET", "/v1/entries/{eid}", bob)
    same_404(client, "GET", "/v1/entries/{eid}/status", bob)
    same_404(client, "PUT", "/v1/entries/{eid}", bob, json={"date": "2024-01-01", "text": "x"})
    same_404(client, "PATCH", "/v1/entries/{eid}", bob, json={"text": "overwritten"})
    same_404(client, "DELETE", "/v1/entries/{eid}", bob)
    alice_untouched(client, container, alice)

    # Lists, status lists and counts hold Bob's entries only, whatever the filter.
    for params in ({}, {"since": "2024-04-01"}, {"tag": MARK}, {"limit": 1}):
        r = client.get("/v1/entries", params=params, headers=bob.headers)
        assert {e["id"] for e in r.json()["items"]} <= set(BOB)
        assert MARK not in r.text
    assert [e["id"] for e in client.get("/v1/entries", headers=bob.headers).json()["items"]] == [
        "x1",
        "x2",
        "x3",
    ]
    # Alice's cursor is no key to her journal.
    cur = client.get("/v1/entries", params={"limit": 1}, headers=alice.headers).json()
    r = client.get("/v1/entries", params={"cursor": cur["next_cursor"]}, headers=bob.headers)
    assert {e["id"] for e in r.json()["items"]} <= set(BOB) and MARK not in r.text
    st = client.get("/v1/index/status", headers=bob.headers).json()
    assert ({s["entry_id"] for s in st["items"]}, st["indexed"], st["pending"]) == (
        set(BOB),
        len(BOB),
        0,
    )
    alone = client.get("/v1/index/status", params={"since": "2024-04-01"}, headers=bob.headers)
    assert alone.json() == {"items": [], "indexed": 0, "pending": 0, "failing": 0}
    for eid in BOB:  # same ids as Alice's: Bob's own status, not hers
        s = client.get(f"/v1/entries/{eid}/status", headers=bob.headers).json()
        assert s["date"] == BOB[eid][0]

    # Writing Alice's id creates Bob's own entry: "imported", never "updated".
    new = {"id": "alice-only", "date": "2024-05-01", "text": "Bob's own words."}
    r = client.post("/v1/entries", json=new, headers=bob.headers)
    assert (r.status_code, r.json()["status"]) == (201, "imported")
    assert client.delete("/v1/entries/alice-only", headers=bob.headers).status_code == 204
    rep = client.post("/v1/entries/import", json={"entries": [new]}, headers=bob.headers).json()
    assert (rep["totals"]["imported"], rep["totals"]["updated"]) == (1, 0)
    assert client.delete("/v1/entries/alice-only", headers=bob.headers).status_code == 204
    line = json.dumps(new).encode()
    r = client.post(
        "/v1/entries/import/file", files={"file": ("b.jsonl", line)}, headers=bob.headers
    )
    assert (r.json()["totals"]["imported"], r.json()["totals"]["updated"]) == (1, 0)
    assert client.delete("/v1/entries/alice-only", headers=bob.headers).status_code == 204
    alice_untouched(client, container, alice)


def walk_reading(client: TestClient, alice: Person, bob: Person) -> None:
    for q in [*QUESTIONS, MARK]:
        for mode in ("hybrid", "dense", "bm25"):
            r = client.post("/v1/search", json={"query": q, "mode": mode}, headers=bob.headers)
            assert r.status_code == 200
            assert {h["entry_id"] for h in r.json()["hits"]} <= set(BOB)
            assert MARK not in json.dumps(r.json()["hits"])
            for h in r.json()["hits"]:
                assert BOB[h["entry_id"]][1][h["start"] : h["end"]] == h["text"]
    r = client.post("/v1/search", json={"query": MARK, "mode": "bm25"}, headers=bob.headers)
    assert r.json()["hits"] == []
    for q in QUESTIONS:
        ans = client.post("/v1/ask", json={"question": q}, headers=bob.headers).json()
        assert_only_own(ans, bob)
    with client.stream(
        "POST", "/v1/ask/stream", json={"question": QUESTIONS[3]}, headers=bob.headers
    ) as s:
        body = s.read().decode()
    final = json.loads(body.strip().split("\n\n")[-1].split("data: ", 1)[1])
    assert_only_own(final, bob)
    assert MARK not in json.dumps(final["citations"])
    doc = client.get("/v1/export", headers=bob.headers).json()
    assert {e["id"] for e in doc["entries"]} == set(BOB)
    assert doc["user"]["name"] == "bob" and MARK not in json.dumps(doc)
    me = client.get("/v1/me", headers=bob.headers).json()
    assert (me["user_id"], me["name"], me["entries"]) == (bob.user_id, "bob", len(BOB))
    for path in ("/healthz", "/readyz"):
        r = client.get(path, headers=bob.headers)
        assert r.status_code == 200 and MARK not in r.text and alice.user_id not in r.text


def bobs_view(client: TestClient, bob: Person) -> dict[str, Any]:
    """Everything Bob can read about his own journal (timestamps of the call dropped)."""
    h = bob.headers
    export = client.get("/v1/export", headers=h).json()
    export.pop("exported_at")
    return {
        "me": client.get("/v1/me", headers=h).json(),
        "list": client.get("/v1/entries", headers=h).json(),
        "status": client.get("/v1/index/status", headers=h).json(),
        "patterns": client.get("/v1/patterns", headers=h).json(),
        "export": export,
        "labels": [client.get(f"/v1/entries/{e}/labels", headers=h).json() for e in BOB],
        "search": [
            client.post("/v1/search", json={"query": q}, headers=h).json() for q in QUESTIONS
        ],
        "ask": [client.post("/v1/ask", json={"question": q}, headers=h).json() for q in QUESTIONS],
    }


def walk_patterns(client: TestClient, alice: Person, bob: Person) -> None:
    same_404(client, "GET", "/v1/entries/{eid}/labels", bob)
    same_404(client, "PUT", "/v1/entries/{eid}/labels/avoidance", bob, json={"verdict": "reject"})
    same_404(client, "DELETE", "/v1/entries/{eid}/labels/avoidance", bob)
    # Nothing Alice writes or corrects changes a single byte of what Bob can read:
    # no count, pattern, score or status of his moves.
    before = bobs_view(client, bob)
    # (Bob's own question and query about the marker are echoed back; nothing else has it.)
    shown = {k: v for k, v in before.items() if k not in ("search", "ask")}
    shown["hits"] = [r["hits"] for r in before["search"]]
    shown["citations"] = [a["citations"] for a in before["ask"]]
    assert MARK not in json.dumps(shown)
    for eid in ("x1", "alice-only"):
        r = client.put(
            f"/v1/entries/{eid}/labels/avoidance",
            json={"verdict": "confirm"},
            headers=alice.headers,
        )
        assert r.status_code == 200, r.text
    more = {"id": "x4", "date": "2024-02-11", "text": f"I felt betrayed and went quiet. {MARK}."}
    assert client.post("/v1/entries", json=more, headers=alice.headers).status_code == 201
    assert bobs_view(client, bob) == before
    listed = client.get("/v1/entries", params={"pattern": "avoidance"}, headers=bob.headers)
    assert {e["id"] for e in listed.json()["items"]} <= set(BOB)
    mine = client.get("/v1/entries", params={"pattern": "avoidance"}, headers=alice.headers)
    assert {e["id"] for e in mine.json()["items"]} >= {"x1", "alice-only"}
    assert client.delete("/v1/entries/x4", headers=alice.headers).status_code == 204


INSIGHT_ROUTES = {
    ("post", "/v1/reflect"),
    ("get", "/v1/practices"),
    ("get", "/v1/practices/{name}"),
    ("get", "/v1/episodes"),
    ("post", "/v1/experiments"),
    ("get", "/v1/experiments"),
    ("get", "/v1/experiments/{experiment_id}"),
    ("patch", "/v1/experiments/{experiment_id}"),
    ("get", "/v1/progress"),
}


def insight_view(client: TestClient, bob: Person) -> dict[str, Any]:
    h = bob.headers
    names = [p["name"] for p in client.get("/v1/practices", headers=h).json()["data"]]
    situation = {"situation": "Jonah read my messages and I felt betrayed"}
    return {
        "reflect": client.post("/v1/reflect", json=situation, headers=h).json(),
        "practices": [client.get(f"/v1/practices/{n}", headers=h).json() for n in names],
        "episodes": client.get("/v1/episodes", headers=h).json(),
        "experiments": client.get("/v1/experiments", headers=h).json(),
        "progress": client.get("/v1/progress", headers=h).json(),
    }


def walk_insight(client: TestClient, alice: Person, bob: Person) -> None:
    before = insight_view(client, bob)
    assert MARK not in json.dumps(before) and "alice-only" not in json.dumps(before)
    plan = {"who": f"Jonah at {MARK}", "risk": "tell him", "success": "he listens"}
    r = client.post("/v1/experiments", json=plan, headers=alice.headers)
    assert r.status_code == 201, r.text
    xid = r.json()["id"]
    for method, body in (("GET", None), ("PATCH", {"outcome": "as_hoped", "status": "done"})):
        theirs = client.request(method, f"/v1/experiments/{xid}", json=body, headers=bob.headers)
        nobody = client.request(method, "/v1/experiments/nope", json=body, headers=bob.headers)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.json()["detail"] == nobody.json()["detail"].replace("nope", xid)
        assert MARK not in theirs.text
    more = {"id": "x5", "date": "2024-02-12", "text": f"Betrayed again, quiet again. {MARK}."}
    assert client.post("/v1/entries", json=more, headers=alice.headers).status_code == 201
    assert insight_view(client, bob) == before
    got = client.get(f"/v1/experiments/{xid}", headers=alice.headers)
    assert got.status_code == 200 and MARK in got.text
    assert client.delete("/v1/entries/x5", headers=alice.headers).status_code == 204


def walk_accounts(client: TestClient, container: Container, alice: Person, bob: Person) -> None:
    # A user key is no admin key: Bob cannot make himself a key for Alice.
    for body in ({}, {"revoke_existing": True}):
        r = client.post("/v1/users/alice/keys", json=body, headers=bob.headers)
        assert r.status_code == 403
    assert client.post("/v1/users", json={"name": "eve"}, headers=bob.headers).status_code == 403
    # The people list is derived from one's own entries, and edits stay one's own.
    alices = client.get("/v1/me/people", headers=alice.headers).json()["people"]
    assert "Jonah" in alices
    bobs = client.get("/v1/me/people", headers=bob.headers).json()["people"]
    assert "Sam" in bobs and not {"Jonah", MARK} & set(bobs)
    r = client.patch(
        "/v1/me/people", json={"add": ["Kevin"], "remove": ["Jonah"]}, headers=bob.headers
    )
    assert r.status_code == 200 and "Kevin" in r.json()["people"]
    assert client.get("/v1/me/people", headers=alice.headers).json()["people"] == alices
    # Rotating or deleting Bob touches nothing of Alice's.
    new = client.post("/v1/me/keys/rotate", headers=bob.headers).json()["api_key"]
    assert client.get("/v1/me", headers=alice.headers).status_code == 200
    bob.headers = {"Authorization": f"Bearer {new}"}
    assert client.delete("/v1/me", headers=bob.headers).status_code == 204
    assert container.index.count(bob.user_id) == 0
    alice_untouched(client, container, alice)
    for eid, (date, text) in ALICE.items():
        got = client.get(f"/v1/entries/{eid}", headers=alice.headers).json()
        assert (got["date"], got["text"]) == (date, text)


CORE_ROUTES = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/v1/users"),
    ("post", "/v1/users/{name}/keys"),
    ("get", "/v1/me"),
    ("delete", "/v1/me"),
    ("post", "/v1/me/keys/rotate"),
    ("get", "/v1/me/people"),
    ("patch", "/v1/me/people"),
    ("post", "/v1/entries"),
    ("get", "/v1/entries"),
    ("post", "/v1/entries/import"),
    ("post", "/v1/entries/import/file"),
    ("get", "/v1/entries/{entry_id}"),
    ("put", "/v1/entries/{entry_id}"),
    ("patch", "/v1/entries/{entry_id}"),
    ("delete", "/v1/entries/{entry_id}"),
    ("get", "/v1/entries/{entry_id}/status"),
    ("get", "/v1/index/status"),
    ("post", "/v1/search"),
    ("post", "/v1/ask"),
    ("post", "/v1/ask/stream"),
    ("get", "/v1/export"),
}
PATTERN_ROUTES = {
    ("get", "/v1/patterns"),
    ("get", "/v1/entries/{entry_id}/labels"),
    ("put", "/v1/entries/{entry_id}/labels/{label}"),
    ("delete", "/v1/entries/{entry_id}/labels/{label}"),
}


def test_two_users_walk_every_route(
    client: TestClient, container: Container, alice: Person, bob: Person
) -> None:
    spec = client.get("/openapi.json").json()
    routes = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    walked = CORE_ROUTES | PATTERN_ROUTES | INSIGHT_ROUTES
    # A new route fails here until the walk covers it.
    assert routes <= walked, f"routes not in the isolation walk: {sorted(routes - walked)}"
    assert routes >= CORE_ROUTES
    walk_entries(client, container, alice, bob)
    walk_reading(client, alice, bob)
    if routes >= PATTERN_ROUTES:  # once the patterns routes are in the app
        walk_patterns(client, alice, bob)
    if routes >= INSIGHT_ROUTES:  # once reflect/practices/experiments/progress are in
        walk_insight(client, alice, bob)
    walk_accounts(client, container, alice, bob)
