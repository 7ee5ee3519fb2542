"""Alembic owns the schema: migrations build what the models describe, on SQLite and
PostgreSQL, and a data directory written before migrations existed upgrades in place
without losing a row or a vector."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select
from typer.testing import CliRunner

from ingest.models import TABLES, metadata
from ingest.store import Entry, User, UserEntries, make_engine
from service.cli.main import app
from service.container import Container
from service.db import migrate
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "datadir_v0"
# What make_datadir_v0.py wrote (tests/fixtures/README.md): rows per table, vectors.
V0_ROWS = {
    "users": 2,
    "api_keys": 2,
    "entries": 7,
    "trust_experiments": 0,
    "label_corrections": 0,
}
V0_VECTORS = 43


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def _diffs(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return list(diffs)


def test_upgrade_builds_the_models_schema_on_an_empty_database(empty_url: str) -> None:
    engine = make_engine(empty_url)
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.head()
    names = set(inspect(engine).get_table_names())
    assert {t.__tablename__ for t in TABLES} | {"alembic_version"} == names
    engine.dispose()
    assert _diffs(empty_url) == []


def test_start_up_on_an_empty_database_matches_the_migrations(empty_url: str) -> None:
    # ensure_schema builds a new database from the models and stamps it: the same schema
    # the migrations build (the test above), at the head revision.
    engine = make_engine(empty_url)
    migrate.ensure_schema(engine)
    migrate.ensure_schema(engine)  # idempotent
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    assert _diffs(empty_url) == []


def _rows(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
            if t.name in V0_ROWS or t.name == "index_state"
        }
    engine.dispose()
    return out


def test_a_data_dir_from_before_migrations_upgrades_in_place(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    url = f"sqlite:///{data / 'trustlens.db'}"
    engine = make_engine(url)
    assert "alembic_version" not in inspect(engine).get_table_names()
    before = {k: v for k, v in _rows(url).items()}
    # stamps the baseline, then upgrades (0004 seals the text: it needs the master key)
    migrate.upgrade(engine, keyring=Settings(data_dir=data).keyring())
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
    after = _rows(url)
    assert before["index_state"] == 7 and after.pop("index_state") == 0  # re-index, see below
    before.pop("index_state")
    assert after == before == V0_ROWS
    assert _diffs(url) == []

    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    try:
        assert c.index.collection.count() == V0_VECTORS
        with c.sessions() as s:
            ana = s.scalar(select(User).where(User.name == "ana"))
            assert ana is not None
            entries = UserEntries(s, ana.id).all()
            assert len(entries) == 6
            assert all(isinstance(e, Entry) for e in entries)
        # The episodes migration marks every entry for re-indexing (episodes are derived
        # there); it reuses the stored vectors and leaves the same chunks in the index.
        assert c.indexer.index_pending() == 7
        assert c.index.collection.count() == V0_VECTORS
        assert c.indexer.index_pending() == 0
        hits = c.search.retrievers.for_user(ana.id).invoke("Jonah")
        assert hits and all(h.metadata["entry_id"].startswith("m") for h in hits)
    finally:
        c.close()


def test_db_commands(tmp_path: Path) -> None:
    env = {"TRUSTLENS_DATA_DIR": str(tmp_path / "data")}
    runner = CliRunner()
    r = runner.invoke(app, ["db", "current", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"current": None, "head": migrate.head(), "up_to_date": False}
    r = runner.invoke(app, ["db", "upgrade"], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["db", "current", "--json"], env=env)
    assert json.loads(r.stdout)["up_to_date"] is True


def test_keys_rotate_master_keeps_every_text_readable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    with c.sessions() as s:
        from ingest.store import create_user

        uid = create_user(s, "ana").id
        UserEntries(s, uid).upsert("a1", dt.date(2024, 1, 1), "Ana's words.", [], "t")
        s.commit()
    c.close()
    old = (data / "master.key").read_text()
    r = CliRunner().invoke(app, ["keys", "rotate-master"], env={"TRUSTLENS_DATA_DIR": str(data)})
    assert r.exit_code == 0, r.output
    assert (data / "master.key").read_text() != old
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600
    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    try:
        with c.sessions() as s:
            assert [e.text for e in UserEntries(s, uid).all()] == ["Ana's words."]
    finally:
        c.close()
