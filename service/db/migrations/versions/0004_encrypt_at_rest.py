"""encrypt at rest: per-person data keys, and every stored text a person wrote sealed

Revision ID: 0004_encrypt_at_rest
Revises: 0003_index_queue (0003_index_queue.py)
Create Date: 2026-12-01 10:00:00

Adds ``user_keys`` (each person's data key, wrapped by the master key) and
``people_edits`` (the person's edits of their people list, sealed), widens the text
columns that now hold ciphertext, and seals, in place, every value written in the clear
by an older version: ``entries.text``, ``episodes.by`` and an experiment's ``who``,
``risk``, ``success`` and ``note`` (``ingest.crypto``). Rows are sealed in batches; a
value already sealed is left alone, so a run that was killed is simply run again (on
SQLite and PostgreSQL the whole upgrade is one transaction, so a kill leaves the old
plaintext database untouched and the re-run starts over). ``service.db.migrate``
compacts an SQLite file afterwards, so no page keeps the old plaintext; the Chroma
collection is rewritten without documents at the next start (``ChromaIndex.
strip_documents``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.orm import Session

from ingest.crypto import KeyError_, Keyring, is_sealed

revision = "0004_encrypt_at_rest"
down_revision = "0003_index_queue"  # 0003_index_queue.py
branch_labels = None
depends_on = None

BATCH = 500
# table -> (primary key, user column, sealed columns)
SEALED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "entries": ("pk", "user_id", ("text",)),
    "episodes": ("pk", "user_id", ("by",)),
    "trust_experiments": ("pk", "user_id", ("who", "risk", "success", "note")),
}


def upgrade() -> None:
    op.create_table(
        "user_keys",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "people_edits",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("added", sa.Text(), nullable=False),
        sa.Column("removed", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    with op.batch_alter_table("episodes", schema=None) as batch_op:
        batch_op.alter_column(
            "by", existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=True
        )
    with op.batch_alter_table("trust_experiments", schema=None) as batch_op:
        batch_op.alter_column(
            "who", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    _seal_existing()


def _seal_existing() -> None:
    conn = op.get_bind()
    meta = sa.MetaData()
    tables = {name: sa.Table(name, meta, autoload_with=conn) for name in SEALED}
    has_rows = any(conn.scalar(sa.select(sa.func.count()).select_from(t)) for t in tables.values())
    if not has_rows:
        return
    keyring = context.config.attributes.get("keyring")
    if not isinstance(keyring, Keyring):
        raise KeyError_(
            "0004_encrypt_at_rest seals existing text and needs the master key: run it "
            "through trustlens (start-up or `trustlens db upgrade`)"
        )
    session = Session(bind=conn, info={"keyring": keyring})
    for name, (pk, user_col, columns) in SEALED.items():
        t = tables[name]
        last = None
        while True:
            stmt = sa.select(t.c[pk], t.c[user_col], *[t.c[c] for c in columns])
            if last is not None:
                stmt = stmt.where(t.c[pk] > last)
            rows = conn.execute(stmt.order_by(t.c[pk]).limit(BATCH)).all()
            if not rows:
                break
            for row in rows:
                values = {
                    c: keyring.seal(session, row[1], row[2 + i])
                    for i, c in enumerate(columns)
                    if row[2 + i] is not None and not is_sealed(row[2 + i])
                }
                if values:
                    conn.execute(sa.update(t).where(t.c[pk] == row[0]).values(**values))
            session.flush()  # new data keys
            last = rows[-1][0]
    session.flush()


def downgrade() -> None:
    raise NotImplementedError("sealed text is not decrypted back into the clear")
