"""index queue: durable pending index work per entry (ingest/index_queue.py)

Revision ID: 0003_index_queue
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_index_queue"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_queue",
        sa.Column("entry_pk", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("enqueued_at", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["entry_pk"], ["entries.pk"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("entry_pk"),
    )
    with op.batch_alter_table("index_queue", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_index_queue_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_index_queue_user_id"), ["user_id"], unique=False)
    # Entries not indexed at upgrade time are queued by the indexer when it starts
    # (ingest.index_queue.enqueue_pending), so nothing is inserted here.


def downgrade() -> None:
    with op.batch_alter_table("index_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_queue_user_id"))
        batch_op.drop_index(batch_op.f("ix_index_queue_next_attempt_at"))
    op.drop_table("index_queue")
