"""Private by construction (issue 14): after an import no six-word phrase of the journal
is in any file of the data dir, a PostgreSQL dump or a Chroma server's directory, while
answers still quote it verbatim; after DELETE /v1/me the person's key is gone; an LLM
receives placeholders, never a name, and the restored answer cites correctly."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ingest.crypto import KeyError_, Keyring, load_masters
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY, llm_settings
from tests.fakes import WordHashEmbeddings
from tests.openai_stub import OpenAIStub
from tests.service.db.test_encrypt_migration import files_with, phrases
from tests.service.test_api import JOURNAL, LET_DOWN, new_user, post_entries

TEXTS = [e["text"] for e in JOURNAL]


def _import_and_ask(c: Container) -> tuple[dict[str, str], str]:
    with TestClient(create_app(container=c)) as client:
        maya = new_user(client, "maya")
        post_entries(client, maya, JOURNAL)
        r = client.post("/v1/ask", json={"question": LET_DOWN}, headers=maya)
        assert r.status_code == 200, r.text
        cites = r.json()["citations"]
        assert cites and all(
            cit["quote"] in next(e["text"] for e in JOURNAL if e["id"] == cit["entry_id"])
            for cit in cites
        )
        uid = client.get("/v1/me", headers=maya).json()["user_id"]
    return maya, uid


def test_nothing_readable_on_disk_sqlite_and_embedded_chroma(sqlite_container: Container) -> None:
    c = sqlite_container
    data = c.settings.data_dir
    maya, uid = _import_and_ask(c)
    assert files_with(data, phrases(TEXTS)) == {}
    assert files_with(data, phrases(TEXTS, 3)) == {}
    with c.engine.connect() as conn:
        sealed = (
            conn.execute(text("SELECT text FROM entries WHERE user_id = :u"), {"u": uid})
            .scalars()
            .all()
        )
        wrapped = conn.execute(
            text("SELECT wrapped FROM user_keys WHERE user_id = :u"), {"u": uid}
        ).scalar_one()
    assert sealed and all(s.startswith("tl1:") for s in sealed)

    with TestClient(create_app(container=c)) as client:
        assert client.delete("/v1/me", headers=maya).status_code == 204
        assert client.get("/v1/me", headers=maya).status_code == 401
    with c.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM user_keys")).scalar_one() == 0
    # Even a copy of the ciphertext kept somewhere cannot be opened: the key is gone,
    # and no file holds the wrapped key any more (secure_delete, WAL emptied).
    assert files_with(data, {wrapped.hex()}) == {}
    assert not any(bytes(wrapped) in p.read_bytes() for p in data.rglob("*") if p.is_file())
    fresh = Keyring(load_masters(None, data))
    with c.sessions() as s, pytest.raises(KeyError_):
        fresh.open(s, uid, sealed[0])


@pytest.mark.postgres
@pytest.mark.chroma_server
def test_nothing_readable_in_a_pg_dump_or_a_chroma_server(
    server_container: Container, pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _import_and_ask(server_container)
    dump = subprocess.run(
        ["pg_dump", pg_url.replace("+psycopg", "")], capture_output=True, check=True
    ).stdout
    assert b"INSERT" in dump or b"COPY" in dump
    assert not [p for p in phrases(TEXTS) if p.encode() in dump]
    servers = list(tmp_path_factory.getbasetemp().glob("chroma-server*"))
    assert servers
    for d in servers:
        assert files_with(d, phrases(TEXTS)) == {}


def _cite_first_sentence(body: dict[str, Any]) -> str:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    m = re.search(r"\[1\][^\n]*\n([^\n]+)", user)
    assert m is not None
    sentence = re.split(r"(?<=\.) ", m.group(1))[0]
    return json.dumps(
        {
            "claims": [
                {
                    "statement": "You wrote about it.",
                    "citations": [{"source": 1, "quote": sentence}],
                }
            ]
        }
    )


def test_the_llm_gets_placeholders_and_the_answer_cites_the_names(
    tmp_path: Path, stub: OpenAIStub
) -> None:
    stub.reply = _cite_first_sentence
    c = Container(llm_settings(tmp_path, stub), embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as client:
            maya = new_user(client, "maya")
            post_entries(client, maya, JOURNAL)
            people = client.get("/v1/me/people", headers=maya).json()["people"]
            assert "Jonah" in people
            r = client.patch("/v1/me/people", json={"add": ["the cabin"]}, headers=maya)
            assert "the cabin" in r.json()["people"]
            r = client.post(
                "/v1/ask",
                json={"question": "Jonah forgot the cabin booking?", "sent_to_llm": True},
                headers=maya,
            )
            assert r.status_code == 200, r.text
            body = r.json()
            without = client.post(
                "/v1/ask", json={"question": "Jonah forgot the cabin booking?"}, headers=maya
            ).json()
            assert without["sent_to_llm"] is None  # off by default
    finally:
        c.close()
    asked = [q for q in stub.requests if "Person" in json.dumps(q.body)]
    assert asked, "the answer went through the LLM"
    for q in stub.requests:
        sent = json.dumps(q.body)
        assert "Jonah" not in sent and "jonah" not in sent.lower()
        assert "cabin" not in sent
    # What the response says was sent is exactly what the stub received.
    assert any(
        body["sent_to_llm"] == [{"role": m["role"], "content": m["content"]} for m in q.messages]
        for q in asked
    )
    assert body["citations"], body
    for cit in body["citations"]:
        entry = next(e["text"] for e in JOURNAL if e["id"] == cit["entry_id"])
        assert cit["quote"] in entry
    assert any("Jonah" in cit["quote"] for cit in body["citations"])


def test_the_background_indexer_reads_sealed_text_and_stores_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue's indexer opens entries through the keyring; what it keeps (Chroma, the
    # queue's last_error, the status API, the log) holds no text, even when a failure's
    # message quotes the text.
    import time

    data = tmp_path / "d"
    c = Container(
        Settings(data_dir=data, admin_key=ADMIN_KEY, index_wait_s=0.2),  # type: ignore[arg-type]
        embeddings=WordHashEmbeddings(),
    )
    upsert = c.index.upsert

    def leaky(records: Any, *a: Any, **kw: Any) -> None:
        raise RuntimeError("could not index: " + " | ".join(r.text for r in records))

    try:
        with TestClient(create_app(container=c)) as client:
            maya = new_user(client, "maya")
            monkeypatch.setattr(c.index, "upsert", leaky)
            post_entries(client, maya, JOURNAL[:3])
            deadline = time.time() + 30
            while True:
                st = client.get("/v1/index/status", headers=maya).json()
                if all(i["last_error"] for i in st["items"]) or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert st["pending"] == 3 and all(i["last_error"] for i in st["items"]), st
            assert not any(n in json.dumps(st) for n in phrases(TEXTS[:3], 3))
            with c.engine.connect() as conn:
                errors = conn.execute(text("SELECT last_error FROM index_queue")).scalars().all()
            assert errors == ["RuntimeError"] * 3

            monkeypatch.setattr(c.index, "upsert", upsert)
            c.index_worker.notify()
            deadline = time.time() + 60
            while client.get("/v1/index/status", headers=maya).json()["pending"]:
                assert time.time() < deadline, "the queue did not drain"
                time.sleep(0.1)
            post_entries(client, maya, JOURNAL[3:])
            r = client.post("/v1/ask", json={"question": LET_DOWN}, headers=maya)
            assert r.status_code == 200 and r.json()["citations"], r.text
        got = c.index.collection.get(include=["documents", "metadatas"])
        assert got["ids"] and not any(got["documents"] or [])
        assert not any(n in json.dumps(got["metadatas"]) for n in phrases(TEXTS, 3))
        with c.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM index_queue")).scalar_one() == 0
    finally:
        c.close()
    assert files_with(data, phrases(TEXTS)) == {}
