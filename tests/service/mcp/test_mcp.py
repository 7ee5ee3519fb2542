"""The MCP server as an assistant meets it: real processes, the SDK's own clients.

One store (maya's journal and ben's one entry, the real model) is built once. Then:
- ``trustlens mcp --user maya --allow-write`` and ``trustlens mcp --user ben --max-quotes 1``
  run as subprocesses, driven by the ``mcp`` SDK's stdio client;
- ``trustlens serve --mcp`` runs as a real uvicorn server on a free port, driven by the
  SDK's streamable-HTTP client with each person's API key.
Each server's answers are collected in one session per server (the model loads once per
process), then checked: against the API's answers for the same person on the same store
(an in-process app over the same folder), for grounding (quotes verbatim from the
person's own entries), isolation (never the other person's entries), safety and auth.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from ingest.embedding import SentenceTransformerEmbeddings
from ingest.store import get_or_create_user, issue_api_key
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ROOT, free_port, served
from tests.service.cli.test_cli import EXE, JOURNAL, maya_entries

pytestmark = pytest.mark.model

BEN = [
    {
        "id": "b1",
        "date": "2024-05-05",
        "text": "My brother borrowed my car and returned it empty. I felt betrayed and "
        "didn't answer his calls for a week. When he finally texted I told him it was fine, "
        "which it wasn't, and I kept my distance at Sunday dinner with our parents.",
    }
]
HABIT = "what do I usually do when I feel betrayed?"
LOOKUP = "felt let down by Jonah"
CRISIS = "I've been saving up my sleeping pills."
SITUATION = "Jonah is late again and hasn't texted."
READ_TOOLS = {"ask", "search", "patterns", "reflect", "practice", "progress"}
NEW_ENTRY = "Today Jonah texted me when he was running late. I noticed I relaxed."


def env(data_dir: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTLENS_")}
    base.update(
        TRUSTLENS_DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    )
    return base


# ------------------------------------------------------------------ the store

# The API's answers the tools are compared with: name -> (method, path, JSON body).
API_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "ask": ("POST", "/v1/ask", {"question": HABIT}),
    "search": ("POST", "/v1/search", {"query": LOOKUP, "k": 5}),
    "patterns": ("GET", "/v1/patterns", None),
    "reflect": ("POST", "/v1/reflect", {"situation": SITUATION}),
    "practice": ("GET", "/v1/practices/trust_history", None),
    "progress": ("GET", "/v1/progress", None),
    "crisis": ("POST", "/v1/ask", {"question": CRISIS}),
}


@pytest.fixture(scope="module")
def store(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: SentenceTransformerEmbeddings
) -> dict[str, Any]:
    """Maya's and ben's journals, their API keys, and the API's answers for maya and ben."""
    d = tmp_path_factory.mktemp("mcp")
    ben = d / "ben.jsonl"
    ben.write_text("".join(json.dumps(r) + "\n" for r in BEN))
    c = Container(Settings(data_dir=d / "data"), embeddings=real_embeddings)
    keys = {}
    for name, path in (("maya", JOURNAL), ("ben", ben)):
        with c.sessions() as session:
            user = get_or_create_user(session, name)
            keys[name] = issue_api_key(session, user)
            session.commit()
            uid = user.id
        report = c.importer.import_path(uid, path)
        assert report.totals["rejected"] == 0
    api: dict[str, Any] = {}
    with TestClient(create_app(container=c)) as client:
        for name in ("maya", "ben"):
            h = {"Authorization": f"Bearer {keys[name]}"}
            wanted = list(API_CALLS) if name == "maya" else ["ask", "search"]  # ben: remote
            got = {
                k: client.request(API_CALLS[k][0], API_CALLS[k][1], json=API_CALLS[k][2], headers=h)
                for k in wanted
            }
            for r in got.values():
                assert r.status_code == 200, r.text
            api[name] = {k: r.json() for k, r in got.items()}
    c.close()
    return {"dir": d / "data", "keys": keys, "api": api}


def texts_of(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {e["id"]: e["text"] for e in entries}


MAYA = texts_of(list(maya_entries().values()))
BEN_TEXTS = texts_of(BEN)


async def session_calls(client: Client, calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """List everything, then call each tool; results keyed by call name (``tool`` or
    ``tool:label``), with ``structured`` (the JSON) and ``error``."""
    out: dict[str, Any] = {
        "tools": {t.name: t for t in (await client.list_tools()).tools},
        "prompts": {p.name: p for p in (await client.list_prompts()).prompts},
        "templates": [
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        ],
    }
    for key, args in calls:
        r = await client.call_tool(key.split(":")[0], args)
        text = "".join(getattr(c, "text", "") for c in r.content)
        out[key] = {"structured": r.structured_content, "error": r.is_error, "text": text}
    return out


def run_async(fn: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    result: dict[str, Any] = {}

    async def main() -> None:
        with anyio.fail_after(240):
            result.update(await fn())

    anyio.run(main)
    return result


COMMON_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("ask", {"question": HABIT}),
    ("search", {"query": LOOKUP, "k": 5}),
    ("patterns", {}),
    ("reflect", {"situation": SITUATION}),
    ("practice", {"name": "trust_history"}),
    ("progress", {}),
    ("ask:crisis", {"question": CRISIS}),
    ("search:crisis", {"query": CRISIS, "k": 5}),
    ("reflect:crisis", {"situation": CRISIS}),
    ("ask:bad_period", {"question": HABIT, "since": "2024-05-01", "until": "2024-01-01"}),
]


def stdio(store: dict[str, Any], user: str, *flags: str) -> Client:
    params = StdioServerParameters(
        command=str(EXE),
        args=["mcp", "--user", user, *flags],
        env=env(store["dir"]),
        cwd=str(ROOT),
    )
    return Client(params)


@pytest.fixture(scope="module")
def maya(store: dict[str, Any]) -> dict[str, Any]:
    """Maya's stdio server: no --allow-write, a cap above any answer's quotes."""

    async def go() -> dict[str, Any]:
        async with stdio(store, "maya", "--max-quotes", "1000") as client:
            out = await session_calls(client, COMMON_CALLS)
            out["entry"] = await client.read_resource("entry://m002")
            try:
                await client.read_resource("entry://b1")
                out["ben_entry"] = "read"
            except Exception as e:  # the SDK raises the server's error
                out["ben_entry"] = str(e)
            out["prompt"] = await client.get_prompt("trust_history")
            w = await client.call_tool("write_entry", {"date": "2025-06-01", "text": NEW_ENTRY})
            out["write"] = {"error": w.is_error}
            return out

    return run_async(go)


@pytest.fixture(scope="module")
def ben(store: dict[str, Any]) -> dict[str, Any]:
    """Ben's stdio server: --allow-write (not used: the store stays as the API saw it), and
    at most one quote a call."""

    async def go() -> dict[str, Any]:
        async with stdio(store, "ben", "--allow-write", "--max-quotes", "1") as client:
            return await session_calls(
                client, [("ask", {"question": HABIT}), ("search", {"query": "betrayed", "k": 5})]
            )

    return run_async(go)


# ------------------------------------------------------------------ stdio


def assert_own_verbatim(cites: list[dict[str, Any]], texts: dict[str, str]) -> None:
    for c in cites:
        assert c["entry_id"] in texts, f"cites {c['entry_id']}, not this person's"
        assert c["quote"] in texts[c["entry_id"]]


def test_tools_are_listed_with_typed_inputs_and_descriptions(maya: dict[str, Any]) -> None:
    tools = maya["tools"]
    assert set(tools) == READ_TOOLS
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and set(ask["properties"]) == {
        "question",
        "since",
        "until",
    }
    assert tools["search"].input_schema["properties"]["k"]["maximum"] == 100
    assert "trust_history" in tools["practice"].input_schema["properties"]["name"]["enum"]
    for t in tools.values():
        assert t.description and len(t.description) > 80, t.name
    assert tools["ask"].annotations.read_only_hint is True
    assert maya["templates"] == ["entry://{id}"]
    assert {"trust_history", "pattern_recognition"} <= set(maya["prompts"])


def test_each_tool_answers_as_the_api_does(store: dict[str, Any], maya: dict[str, Any]) -> None:
    api = store["api"]["maya"]
    for key, api_key in [
        ("ask", "ask"),
        ("search", "search"),
        ("patterns", "patterns"),
        ("reflect", "reflect"),
        ("practice", "practice"),
        ("progress", "progress"),
    ]:
        assert not maya[key]["error"], maya[key]["text"]
        assert maya[key]["structured"] == api[api_key], key
        assert json.loads(maya[key]["text"]) == api[api_key], key  # the text is the JSON too


def test_ask_citations_are_verbatim_from_maya(maya: dict[str, Any]) -> None:
    a = maya["ask"]["structured"]
    assert a["citations"] and a["behaviors"] and not a["abstained"]
    assert_own_verbatim(a["citations"], MAYA)
    for b in a["behaviors"]:
        assert_own_verbatim(b["citations"], MAYA)
    for hit in maya["search"]["structured"]["hits"]:
        assert MAYA[hit["entry_id"]][hit["start"] : hit["end"]] == hit["text"]


def test_crisis_input_gets_the_safety_object_and_no_insight(
    store: dict[str, Any], maya: dict[str, Any]
) -> None:
    a = maya["ask:crisis"]["structured"]
    assert a == store["api"]["maya"]["crisis"]
    assert a["safety"]["level"] == "crisis" and a["safety"]["resources"]
    assert a["abstained"] and a["citations"] == [] and a["behaviors"] == []
    assert a["answer"] == a["safety"]["message"]
    s = maya["search:crisis"]["structured"]
    assert s["safety"]["level"] == "crisis" and s["hits"] == []
    r = maya["reflect:crisis"]["structured"]
    assert r["safety"]["level"] == "crisis" and r["echoes"] == [] and r["questions"] == []


def test_refusals_are_tool_errors_with_the_api_text(maya: dict[str, Any]) -> None:
    bad = maya["ask:bad_period"]
    assert bad["error"] and "until" in bad["text"]


def test_entry_resource_and_practice_prompt(maya: dict[str, Any]) -> None:
    (content,) = maya["entry"].contents
    e = json.loads(content.text)
    assert e["id"] == "m002" and e["text"] == MAYA["m002"]
    assert maya["ben_entry"] != "read"  # ben's entry is not maya's to read
    (msg,) = maya["prompt"].messages
    text = msg.content.text
    assert "one at a time" in text
    for q in maya["practice"]["structured"]["questions"]:
        assert q["question"] in text


def test_a_second_person_never_sees_the_first(store: dict[str, Any], ben: dict[str, Any]) -> None:
    a = ben["ask"]["structured"]
    for c in a["citations"] + [c for b in a["behaviors"] for c in b["citations"]]:
        assert c["entry_id"] in BEN_TEXTS
    for hit in ben["search"]["structured"]["hits"]:
        assert hit["entry_id"] in BEN_TEXTS
    seen = json.dumps([ben["ask"], ben["search"]])
    maya_quotes = [c["quote"] for c in store["api"]["maya"]["ask"]["citations"]]
    assert maya_quotes and not any(json.dumps(q)[1:-1] in seen for q in maya_quotes)


def test_write_entry_is_listed_only_with_allow_write(
    maya: dict[str, Any], ben: dict[str, Any]
) -> None:
    assert "write_entry" not in maya["tools"]
    assert maya["write"]["error"]  # and cannot be called
    assert set(ben["tools"]) == READ_TOOLS | {"write_entry"}
    w = ben["tools"]["write_entry"]
    assert set(w.input_schema["required"]) == {"date", "text"}
    assert w.annotations.read_only_hint is False


def test_max_quotes_caps_verbatim_text(ben: dict[str, Any]) -> None:
    hits = ben["search"]["structured"]["hits"]
    assert len(hits) == 1
    assert ben["search"]["structured"]["withheld_quotes"] >= 1
    a = ben["ask"]["structured"]
    quotes = {c["quote"] for c in a["citations"]} | {
        c["quote"] for b in a["behaviors"] for c in b["citations"]
    }
    assert len(quotes) <= 1


# ------------------------------------------------------------------ over HTTP


@pytest.fixture(scope="module")
def http_server(store: dict[str, Any]) -> Iterator[str]:
    port = free_port()
    cmd = [
        str(EXE),
        "serve",
        "--mcp",
        "--mcp-allow-write",
        "--mcp-max-quotes",
        "1000",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    log = store["dir"].parent / "serve.log"
    with served(cmd, f"{url}/healthz", log, 120, cwd=ROOT, env=env(store["dir"])):
        yield url


def http_client(url: str, key: str) -> Client:
    transport = streamable_http_client(
        f"{url}/mcp",
        http_client=httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=120),
    )
    return Client(transport)


def test_remote_mode_refuses_no_key_and_a_wrong_key(http_server: str) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {},
    }
    h = {"Accept": "application/json, text/event-stream"}
    r = httpx.post(f"{http_server}/mcp", json=body, headers=h)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = httpx.post(f"{http_server}/mcp", json=body, headers={**h, "Authorization": "Bearer nope"})
    assert r.status_code == 401

    async def go() -> dict[str, Any]:
        try:
            async with http_client(http_server, "tl_not-a-key") as client:
                await client.list_tools()
            return {"refused": False}
        except Exception:
            return {"refused": True}

    assert run_async(go)["refused"]


def test_remote_mode_serves_each_key_its_own_data(store: dict[str, Any], http_server: str) -> None:
    async def go() -> dict[str, Any]:
        out = {}
        for name in ("maya", "ben"):
            async with http_client(http_server, store["keys"][name]) as client:
                out[name] = await session_calls(
                    client, [("ask", {"question": HABIT}), ("search", {"query": LOOKUP, "k": 5})]
                )
                try:
                    await client.read_resource("entry://m002")
                    out[name]["m002"] = True
                except Exception:
                    out[name]["m002"] = False
        return out

    got = run_async(go)
    assert set(got["maya"]["tools"]) == READ_TOOLS | {"write_entry"}  # --mcp-allow-write
    for name, texts in (("maya", MAYA), ("ben", BEN_TEXTS)):
        api = store["api"][name]
        assert got[name]["ask"]["structured"] == api["ask"], name
        assert got[name]["search"]["structured"] == api["search"], name
        assert_own_verbatim(got[name]["ask"]["structured"]["citations"], texts)
        for hit in got[name]["search"]["structured"]["hits"]:
            assert hit["entry_id"] in texts
    assert got["maya"]["m002"] is True and got["ben"]["m002"] is False


def test_write_entry_saves_and_returns_followups(store: dict[str, Any], http_server: str) -> None:
    """Last: it changes the store."""

    async def go() -> dict[str, Any]:
        async with http_client(http_server, store["keys"]["maya"]) as client:
            w = await client.call_tool("write_entry", {"date": "2025-06-01", "text": NEW_ENTRY})
            e = await client.read_resource("entry://" + (w.structured_content or {})["id"])
            return {"error": w.is_error, "structured": w.structured_content, "entry": e}

    w = run_async(go)
    assert not w["error"], w
    out = w["structured"]
    assert out["status"] == "imported" and out["text"] == NEW_ENTRY and out["date"] == "2025-06-01"
    assert out["safety"] is None and out["followups"]
    for f in out["followups"]:
        assert_own_verbatim(f["citations"], MAYA)
    assert json.loads(w["entry"].contents[0].text)["text"] == NEW_ENTRY
