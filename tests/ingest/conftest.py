"""Shared fixtures of the ingest tests: one empty store on each engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ingest.store import make_engine
from service.db.migrate import ensure_schema


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh, migrated, empty store on SQLite (in tmp_path) or on the PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = make_engine(url)
    ensure_schema(eng)
    yield eng
    eng.dispose()
