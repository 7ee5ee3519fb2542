"""Keys and the hard delete of a person.

The delete is generic over the database: it reflects every table (so tables added
later by other features are covered without touching this code) and removes each row
that belongs to the user, either through a ``user_id`` column / a foreign key to
``users.id``, or through a foreign key to a row that does. Order, chosen so a crash
loses nothing that should stay and leaves nothing that should go: the user's index
state is cleared and committed first (an interrupted delete leaves entries that are
re-indexed at start-up and can be deleted again), then the user's chunks leave Chroma,
then every row goes in one transaction, the person's wrapped data key first overwritten
and then deleted with them (``ingest.crypto``): a copy of their ciphertext that a backend
keeps in its own files (Chroma's queue holds vectors only; a database's WAL or dead rows)
can no longer be opened. On SQLite the WAL is then emptied (deleted pages are zeroed by
``secure_delete``); what stays elsewhere, and how to compact it, is in the README.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import MetaData, Table, delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from ingest.crypto import keyring_of
from ingest.store import ApiKey, User, UserEntries, UserKey, issue_api_key, utcnow
from ingest.vector_index import ChromaIndex
from service.insight.journal import Journals
from service.me.schemas import Me, NewKey


def issue_key(session: Session, user: User, revoke_others: bool) -> tuple[str, int]:
    """A new key for ``user``; with ``revoke_others``, every older key stops working.

    Returns the plain key (shown once) and how many keys were revoked.
    """
    revoked = 0
    if revoke_others:
        res = session.execute(
            update(ApiKey)
            .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        revoked = int(getattr(res, "rowcount", 0) or 0)
    key = issue_api_key(session, user)
    return key, revoked


def active_keys(session: Session, user_id: str) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.created_at)
        )
    )


def _user_predicates(engine: Engine, user_id: str) -> list[tuple[Table, ColumnElement[bool]]]:
    """For each table holding the user's rows, the condition that selects them.

    Children come before their parents, so foreign keys are never violated.
    """
    meta = MetaData()
    meta.reflect(engine)
    preds: dict[str, ColumnElement[bool]] = {}
    # sorted_tables is parents first; a table's predicate may use its parents'.
    for table in meta.sorted_tables:
        conds: list[ColumnElement[bool]] = []
        if table.name == "users":
            conds.append(table.c.id == user_id)
        elif "user_id" in table.c:
            conds.append(table.c.user_id == user_id)
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent.name == "users" and fk.column.name == "id":
                conds.append(fk.parent == user_id)
            elif parent.name in preds:
                sub = select(fk.column).where(preds[parent.name])
                conds.append(fk.parent.in_(sub))
        if conds:
            cond = conds[0]
            for extra in conds[1:]:
                cond = cond | extra
            preds[table.name] = cond
    return [
        (table, preds[table.name]) for table in reversed(meta.sorted_tables) if table.name in preds
    ]


class MeService:
    """The caller's own account: who they are, new keys, and the hard delete."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        engine: Engine,
        index: ChromaIndex,
        journals: Journals | None = None,
    ):
        self.sessions = sessions
        self.engine = engine
        self.index = index
        self.journals = journals

    def me(self, user: User) -> Me:
        with self.sessions() as session:
            return Me(
                user_id=user.id,
                name=user.name,
                created_at=user.created_at,
                entries=UserEntries(session, user.id).count(),
                active_keys=len(active_keys(session, user.id)),
            )

    def rotate_key(self, user: User, revoke_others: bool) -> NewKey:
        with self.sessions() as session:
            key, revoked = issue_key(session, user, revoke_others)
            session.commit()
        return NewKey(api_key=key, revoked=revoked)

    def delete(self, user_id: str) -> dict[str, Any]:
        out = delete_user(self.sessions, self.engine, self.index, user_id)
        if self.journals is not None:  # this worker's copy of the texts goes too
            self.journals.forget(user_id)
        return out


def delete_user(
    sessions: sessionmaker[Session], engine: Engine, index: ChromaIndex, user_id: str
) -> dict[str, Any]:
    """Hard-delete the user from the index and every table; returns rows removed per table."""
    with sessions() as session:
        UserEntries(session, user_id).clear_index_state()
        session.commit()
    index.delete_user(user_id)
    removed: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(
            update(UserKey)
            .where(UserKey.user_id == user_id)
            .values(wrapped=secrets.token_bytes(60))
        )
        for table, cond in _user_predicates(engine, user_id):
            res = conn.execute(delete(table).where(cond))
            n = int(getattr(res, "rowcount", 0) or 0)
            if n:
                removed[table.name] = n
    with sessions() as session:
        keyring = keyring_of(session)
        if keyring is not None:
            keyring.forget(user_id)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"deleted_at": dt.datetime.now(dt.UTC), "rows": removed}
