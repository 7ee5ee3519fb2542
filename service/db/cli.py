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


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
