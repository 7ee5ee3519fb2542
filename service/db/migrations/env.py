"""Alembic's environment: runs on the connection ``service.db.migrate`` hands it."""

from __future__ import annotations

from alembic import context

from ingest.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through service.db.migrate
    raise RuntimeError("run migrations through service.db.migrate (trustlens db upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
