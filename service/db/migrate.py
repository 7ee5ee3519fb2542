"""The schema, owned by Alembic: upgrade, current revision, and the start-up check.

Migrations live in ``service/db/migrations/versions`` (configured here in code, so an
installed package needs no ``alembic.ini``). ``ensure_schema`` runs at every start-up:

- an empty database is built from the models and stamped at head (Alembic's recipe for a
  new database; a test proves the migrations produce the same schema);
- a database made before migrations existed (tables from ``create_all``, no
  ``alembic_version``) is stamped at the first revision, which reproduces that schema,
  and upgraded;
- any other database is upgraded to head (nothing to do when it is there already).

On PostgreSQL an advisory lock serialises this, so several workers starting at once do
not race to create the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from ingest.crypto import Keyring
from ingest.models import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001"  # the schema of every data directory made before migrations
_LOCK_ID = 0x7472757374  # "trust": the advisory lock of schema changes


def config(connection: Connection | None = None, keyring: Keyring | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    # Migrations that seal existing text (0004_encrypt_at_rest) need the master key.
    cfg.attributes["keyring"] = keyring
    return cfg


def head() -> str:
    rev = ScriptDirectory.from_config(config()).get_current_head()
    assert rev is not None
    return rev


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        elif conn.dialect.name == "sqlite":
            # pysqlite runs DDL outside any transaction (each statement commits on its
            # own); an explicit BEGIN makes the whole upgrade one transaction, so a kill
            # in the middle leaves the database as it was before (0004 relies on it).
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def upgrade(engine: Engine, revision: str = "head", keyring: Keyring | None = None) -> None:
    """Run the migrations up to ``revision`` (a pre-migration database is stamped first)."""
    with _locked(engine) as conn:
        _stamp_legacy(conn)
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(config(conn, keyring), revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        compact(engine)


def ensure_schema(engine: Engine, keyring: Keyring | None = None) -> None:
    """Bring the database to the head revision at start-up (see the module docstring)."""
    with _locked(engine) as conn:
        tables = set(inspect(conn).get_table_names())
        if not tables - {"alembic_version"}:
            metadata.create_all(conn)
            command.stamp(config(conn), "head")
            return
        _stamp_legacy(conn)
        if MigrationContext.configure(conn).get_current_revision() == head():
            return
        command.upgrade(config(conn, keyring), "head")
    compact(engine)


def compact(engine: Engine) -> None:
    """Rewrite an SQLite file so no page keeps a value a migration replaced (the old
    plaintext of sealed text), and empty the WAL. PostgreSQL keeps dead row versions
    until VACUUM (README, "What stays after a delete"); they never reach a dump."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _stamp_legacy(conn: Connection) -> None:
    tables = set(inspect(conn).get_table_names())
    if "users" in tables and "alembic_version" not in tables:
        command.stamp(config(conn), BASELINE)
