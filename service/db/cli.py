"""``trustlens db upgrade`` and ``trustlens db current``: the schema, by Alembic.

Only the database is touched (no index, no model), so these run before anything else
and on a machine with nothing but the settings.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from service.cli.common import JsonOpt, err, out

db_app = typer.Typer(help="The database schema: upgrade it, or show its revision.")


def _engine() -> Engine:
    from ingest.store import make_engine
    from service.settings import Settings

    settings = Settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.resolved_database_url)


@db_app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Bring the schema to a revision (default: the newest). Also runs at start-up."""
    from service.db import migrate

    engine = _engine()
    before = migrate.current(engine)
    from service.settings import Settings

    migrate.upgrade(engine, revision, Settings().keyring())
    after = migrate.current(engine)
    engine.dispose()
    err.print(f"schema: {before or 'none'} -> {after}")


@db_app.command("current")
def current(as_json: JsonOpt = False) -> None:
    """The schema's revision, and the newest one this version knows."""
    from service.db import migrate

    engine = _engine()
    rev, head = migrate.current(engine), migrate.head()
    engine.dispose()
    if as_json:
        print(json.dumps({"current": rev, "head": head, "up_to_date": rev == head}))
    else:
        out.print(f"current: {rev or 'none'} (head: {head})")


keys_app = typer.Typer(help="The master key that wraps each person's data key.")


@keys_app.command("rotate-master")
def rotate_master(
    new_key: Annotated[
        str | None,
        typer.Option(help="The new master key (urlsafe base64, 32 bytes); default: a new one."),
    ] = None,
) -> None:
    """Wrap every person's data key with a new master key. With a key file (the default)
    the file is replaced; with TRUSTLENS_MASTER_KEY, set it to the printed key."""
    from ingest import crypto
    from ingest.store import make_sessions
    from service.settings import Settings

    settings = Settings()
    keyring = settings.keyring()
    text = new_key or crypto.new_master()
    raw = crypto.decode_master(text)
    engine = _engine()
    from service.db import migrate

    migrate.ensure_schema(engine, keyring)
    key_file = settings.data_dir / crypto.KEY_FILE
    nxt = settings.data_dir / crypto.NEXT_KEY_FILE
    if settings.master_key is None:
        crypto.write_key_file(nxt, text)  # durable before any key is wrapped with it
    with make_sessions(engine, keyring)() as session:
        n = crypto.rotate_master(session, keyring, raw)
        session.commit()
    engine.dispose()
    if settings.master_key is None:
        crypto.write_key_file(key_file, text)
        nxt.unlink()
        err.print(f"re-wrapped {n} data keys; {key_file} holds the new master key")
    else:
        err.print(f"re-wrapped {n} data keys; set TRUSTLENS_MASTER_KEY to the new key:")
        print(text)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
