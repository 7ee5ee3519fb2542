"""The MCP pieces that need no model: the quote cap, and /mcp being off unless asked for
and refusing requests without a valid key (fake embeddings, in-process app)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.mcp.service import WITHHELD, cap_quotes
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
ACCEPT = {"Accept": "application/json, text/event-stream"}


def test_cap_quotes_blanks_withheld_quotes_out_of_text() -> None:
    data = {
        "answer": 'You go quiet.\n- "one"\n- "two"\n- "three"',
        "citations": [
            {"entry_id": "a", "date": "d", "quote": "one"},
            {"entry_id": "b", "date": "d", "quote": "two"},
            {"entry_id": "c", "date": "d", "quote": "three"},
        ],
        "behaviors": [{"citations": [{"entry_id": "a", "date": "d", "quote": "one"}]}],
    }
    out = cap_quotes(data, 1)
    assert [c["quote"] for c in out["citations"]] == ["one"]
    assert out["behaviors"][0]["citations"][0]["quote"] == "one"  # the same passage again
    assert out["answer"] == f'You go quiet.\n- "one"\n- "{WITHHELD}"\n- "{WITHHELD}"'
    assert out["withheld_quotes"] == 2
    assert cap_quotes(data, 3) == data  # under the cap: unchanged, no extra key


def test_cap_counts_search_hits_as_verbatim_text() -> None:
    hits = [{"entry_id": "a", "date": "d", "text": t, "start": 0, "end": 1} for t in "xyz"]
    out = cap_quotes({"query": "q", "hits": hits}, 2)
    assert [h["text"] for h in out["hits"]] == ["x", "y"] and out["withheld_quotes"] == 1


def test_mcp_is_off_unless_asked_for(tmp_path: Path) -> None:
    c = Container(Settings(data_dir=tmp_path / "d"), embeddings=WordHashEmbeddings())
    with TestClient(create_app(container=c)) as client:
        assert client.post("/mcp", json=LIST_TOOLS, headers=ACCEPT).status_code == 404
    c.close()


def test_mcp_over_http_refuses_no_key_and_an_unknown_key(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d", mcp_http=True)  # type: ignore[arg-type]
    c = Container(s, embeddings=WordHashEmbeddings())
    with TestClient(create_app(container=c)) as client:
        r = client.post("/mcp", json=LIST_TOOLS, headers=ACCEPT)
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        bad = {**ACCEPT, "Authorization": "Bearer tl_unknown"}
        assert client.post("/mcp", json=LIST_TOOLS, headers=bad).status_code == 401
    c.close()
