"""``DELETE /v1/me`` leaves nothing behind: no row in any table, no chunk in Chroma.

Run on SQLite + embedded Chroma and on PostgreSQL + a Chroma server. "Any table" is
read from the database itself (``sqlalchemy.inspect``), so tables that other features
add later are checked too; every column of every row is searched for the user's id.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, cast, column, func, inspect, or_, select, table

from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import WordHashEmbeddings
from tests.service.test_api import JOURNAL, assert_problem, new_user, post_entries


def rows_mentioning(c: Container, needle: str) -> dict[str, int]:
    """For each table, how many rows have ``needle`` in any column (as text)."""
    insp = inspect(c.engine)
    found: dict[str, int] = {}
    with c.engine.connect() as conn:
        for name in insp.get_table_names():
            cols = [col["name"] for col in insp.get_columns(name)]
            t = table(name, *[column(n) for n in cols])
            conds = [cast(t.c[n], String).like(f"%{needle}%") for n in cols]
            n = conn.execute(select(func.count()).select_from(t).where(or_(*conds))).scalar_one()
            if n:
                found[name] = int(n)
    return found


def chroma_records(c: Container, user_id: str) -> int:
    by_meta = c.index.collection.get(where={"user_id": user_id}, include=[])["ids"]
    # And by id prefix, over the whole collection, in case a record lost its metadata.
    all_ids = c.index.collection.get(include=[])["ids"]
    return len(by_meta) + sum(1 for i in all_ids if i.startswith(f"{user_id}/"))


def walk_delete(c: Container) -> None:
    with TestClient(create_app(container=c)) as client:
        maya = new_user(client, "maya")
        post_entries(client, maya, JOURNAL)
        theo = new_user(client, "theo")
        post_entries(client, theo, [{"id": "t1", "date": "2024-01-11", "text": "Theo let down."}])
        client.post("/v1/me/keys/rotate", json={"revoke_others": False}, headers=maya)
        uid = client.get("/v1/me", headers=maya).json()["user_id"]
        theo_id = client.get("/v1/me", headers=theo).json()["user_id"]
        before = rows_mentioning(c, uid)
        assert {"users", "api_keys", "entries", "chunks"} <= set(before)
        assert chroma_records(c, uid) > 0
        hits = client.post("/v1/search", json={"query": "let down Jonah"}, headers=maya).json()
        assert hits["hits"]

        r = client.delete("/v1/me", headers=maya)
        assert (r.status_code, r.content) == (204, b"")

        assert rows_mentioning(c, uid) == {}
        with c.engine.connect() as conn:
            # Rows tied to the user only through an entry (index_state) went too.
            n_state = conn.execute(select(func.count()).select_from(table("index_state")))
            n_entries = conn.execute(select(func.count()).select_from(table("entries")))
            assert n_state.scalar_one() == n_entries.scalar_one() == 1  # Theo's
        assert chroma_records(c, uid) == 0
        assert c.index.count(uid) == 0
        assert c.retrievers.for_user(uid).invoke("let down Jonah") == []
        # The key is dead, the name is free, the other person is untouched.
        assert_problem(client.get("/v1/me", headers=maya), 401)
        assert_problem(client.post("/v1/search", json={"query": "x"}, headers=maya), 401)
        assert client.get("/v1/entries/t1", headers=theo).json()["text"] == "Theo let down."
        assert c.index.count(theo_id) == 1
        again = new_user(client, "maya")
        assert client.get("/v1/me", headers=again).json()["entries"] == 0
        found = client.post("/v1/search", json={"query": "let down Jonah"}, headers=again)
        assert found.json()["hits"] == []


def test_delete_me_on_sqlite_and_embedded_chroma(sqlite_container: Container) -> None:
    assert sqlite_container.engine.dialect.name == "sqlite"
    assert type(sqlite_container.chroma_client).__name__ == "Client"
    walk_delete(sqlite_container)


@pytest.mark.postgres
@pytest.mark.chroma_server
def test_delete_me_on_postgres_and_a_chroma_server(server_container: Container) -> None:
    assert server_container.engine.dialect.name == "postgresql"
    walk_delete(server_container)


@pytest.mark.postgres
def test_delete_me_on_postgres_and_embedded_chroma(tmp_path: Path, pg_url: str) -> None:
    s = Settings(data_dir=tmp_path, database_url=pg_url, admin_key=ADMIN_KEY)  # type: ignore[arg-type]
    c = Container(s, embeddings=WordHashEmbeddings())
    try:
        walk_delete(c)
    finally:
        c.close()


@pytest.mark.chroma_server
def test_delete_me_on_sqlite_and_a_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    s = Settings(
        data_dir=tmp_path,
        chroma_url=chroma_server,
        chroma_collection=f"delme_{uuid.uuid4().hex[:12]}",
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
    )
    c = Container(s, embeddings=WordHashEmbeddings())
    try:
        walk_delete(c)
    finally:
        c.close()


def test_a_table_added_later_is_purged_too(sqlite_container: Container) -> None:
    """A feature's own table with a user_id column (or a key to users) is covered."""
    from sqlalchemy import Column, ForeignKey, Integer, MetaData, Table, Text

    meta = MetaData()
    meta.reflect(sqlite_container.engine, only=["users"])
    Table(
        "later_notes",
        meta,
        Column("id", Integer, primary_key=True),
        Column("user_id", String(32)),
        Column("note", Text),
    )
    Table(
        "later_links",
        meta,
        Column("id", Integer, primary_key=True),
        Column("owner", String(32), ForeignKey("users.id")),
    )
    meta.create_all(sqlite_container.engine)
    with TestClient(create_app(container=sqlite_container)) as client:
        h = new_user(client, "ana")
        uid = client.get("/v1/me", headers=h).json()["user_id"]
        with sqlite_container.engine.begin() as conn:
            conn.execute(meta.tables["later_notes"].insert().values(user_id=uid, note="n"))
            conn.execute(meta.tables["later_links"].insert().values(owner=uid))
        assert set(rows_mentioning(sqlite_container, uid)) >= {"later_notes", "later_links"}
        assert client.delete("/v1/me", headers=h).status_code == 204
        assert rows_mentioning(sqlite_container, uid) == {}
