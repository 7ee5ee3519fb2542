"""The durable index queue, and the background indexer that drains it.

A write commits the entry and its queue row in one transaction and returns; indexing
(chunk, embed, tag, Chroma, chunk rows, ``index_state``) happens afterwards, in
micro-batches, so one embedding batch serves many concurrent writes. The queue is the
work list, ``index_state`` stays the truth of what the index holds.

Crash-safe order: entry + queue row (one commit) → claim (a lease, committed) → index
(Chroma first, then chunks and ``index_state`` in one commit, ``ingest/indexing.py``) →
delete the queue row if the indexed hash is still the queued one, else release it. A
crash anywhere leaves the row in the queue; an expired lease is claimed again and
indexing is idempotent. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
and a lease on both stores, so several workers drain the queue once, and no two index
the same entry at a time (a newer version written meanwhile waits for the lease's
release). A failed batch (the index unreachable) is retried with backoff; its error is
stored as the exception's type only, never its message (which could quote text).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Float, ForeignKey, Integer, String, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ingest.indexing import Indexer
from ingest.store import Base, Entry, IndexState, UserEntries

log = logging.getLogger("trustlens.indexer")


class IndexQueueItem(Base):
    """One entry whose current version waits to be indexed (times are epoch seconds)."""

    __tablename__ = "index_queue"

    entry_pk: Mapped[int] = mapped_column(
        ForeignKey("entries.pk", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    enqueued_at: Mapped[float] = mapped_column(Float)
    next_attempt_at: Mapped[float] = mapped_column(Float, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_until: Mapped[float | None] = mapped_column(Float, nullable=True)


@dataclass(frozen=True)
class QueueState:
    attempts: int
    last_error: str | None


def enqueue(session: Session, entries: Sequence[Entry]) -> None:
    """Queue these entries' current versions (in the caller's transaction). A row already
    queued gets the new hash and is due now; a claim on it is kept (see the docstring)."""
    if not entries:
        return
    now = time.time()
    rows = [
        {
            "entry_pk": e.pk,
            "user_id": e.user_id,
            "content_hash": e.content_hash,
            "enqueued_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for e in entries
    ]
    dialect = session.get_bind().dialect.name
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = ins(IndexQueueItem).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["entry_pk"],
        set_={
            "content_hash": stmt.excluded.content_hash,
            "next_attempt_at": stmt.excluded.next_attempt_at,
            "attempts": 0,
            "last_error": None,
        },
    )
    session.execute(stmt)


def enqueue_pending(sessions: sessionmaker[Session]) -> int:
    """Queue every committed entry whose current version is not indexed and not queued
    (entries written before the queue existed, or by an import that stopped early), and
    release the claims of dead indexers on this host."""
    release_dead_claims(sessions)
    with sessions() as session:
        stmt = (
            select(Entry)
            .outerjoin(IndexState, IndexState.entry_pk == Entry.pk)
            .outerjoin(IndexQueueItem, IndexQueueItem.entry_pk == Entry.pk)
            .where(IndexState.entry_pk.is_(None) | (IndexState.indexed_hash != Entry.content_hash))
            .where(IndexQueueItem.entry_pk.is_(None))
        )
        found = list(session.scalars(stmt))
        for i in range(0, len(found), 500):
            enqueue(session, found[i : i + 500])
        session.commit()
        return len(found)


def release_dead_claims(sessions: sessionmaker[Session]) -> int:
    """Release claims of indexers on this host whose process is gone (a kill -9), so a
    restart indexes their entries now instead of when the lease runs out; returns how
    many dead indexers held claims."""
    host = socket.gethostname()[:30]
    with sessions() as session:
        owners = session.scalars(
            select(IndexQueueItem.claimed_by).where(IndexQueueItem.claimed_by.is_not(None))
        ).all()
        dead = set()
        for owner in set(owners):
            h, _, rest = (owner or "").partition(":")
            pid = rest.partition(":")[0]
            if h == host and pid.isdigit() and not _alive(int(pid)):
                dead.add(owner)
        if not dead:
            return 0
        session.execute(
            update(IndexQueueItem)
            .where(IndexQueueItem.claimed_by.in_(sorted(dead)))
            .values(claimed_by=None, claimed_until=None)
        )
        session.commit()
        return len(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def queue_states(session: Session, user_id: str, pks: Sequence[int]) -> dict[int, QueueState]:
    out: dict[int, QueueState] = {}
    for i in range(0, len(pks), 500):
        rows = session.scalars(
            select(IndexQueueItem).where(
                IndexQueueItem.user_id == user_id, IndexQueueItem.entry_pk.in_(pks[i : i + 500])
            )
        )
        out.update((r.entry_pk, QueueState(r.attempts, r.last_error)) for r in rows)
    return out


def backoff(attempts: int, cap: float) -> float:
    """Seconds before the next try after ``attempts`` failures: 0.5, 1, 2, ... up to cap."""
    return float(min(cap, 0.5 * 2 ** max(0, attempts - 1)))


class IndexWorker:
    """Drains the queue: in a background thread of a serving process (``start``), or
    inline (``drain``) where nothing serves, as the CLI does."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        indexer: Indexer,
        batch_size: int = 64,
        lease_s: float = 30.0,
        poll_s: float = 0.5,
        max_backoff_s: float = 8.0,
    ):
        self.sessions = sessions
        self.indexer = indexer
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="trustlens-indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self) -> None:
        """New work was committed: drain now instead of at the next poll."""
        self._wake.set()

    def _run(self) -> None:
        try:
            enqueue_pending(self.sessions)
        except Exception as e:  # the store may be starting; the loop retries anyway
            log.warning("queueing pending entries failed: %s", type(e).__name__)
        while not self._stop.is_set():
            try:
                busy = self.drain_once()
            except Exception as e:  # a store error: never let the thread die
                log.warning("index queue round failed: %s", type(e).__name__)
                busy = False
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    # -------------------------------------------------------------------- draining
    def drain(self, max_rounds: int = 1000) -> int:
        """Drain inline until nothing is due; returns the entries indexed."""
        total = 0
        for _ in range(max_rounds):
            n = self.drain_once()
            if not n:
                break
            total += n
        return total

    def drain_once(self) -> int:
        """Claim one micro-batch, index it, settle it; returns the entries claimed."""
        claimed = self._claim()
        if not claimed:
            return 0
        by_user: dict[str, list[int]] = defaultdict(list)
        for pk, uid in claimed:
            by_user[uid].append(pk)
        for uid, pks in by_user.items():
            try:
                self.indexer.index_entries(uid, pks)
            except Exception as e:
                self._fail(pks, type(e).__name__)
                log.warning(
                    "indexing %d entries failed (%s); retrying with backoff",
                    len(pks),
                    type(e).__name__,
                )
            else:
                self._settle(pks)
        with self._done:
            self._done.notify_all()
        return len(claimed)

    def _claim(self) -> list[tuple[int, str]]:
        now = time.time()
        with self.sessions() as session:
            stmt = (
                select(IndexQueueItem)
                .where(IndexQueueItem.next_attempt_at <= now)
                .where(
                    or_(IndexQueueItem.claimed_until.is_(None), IndexQueueItem.claimed_until < now)
                )
                .order_by(IndexQueueItem.next_attempt_at, IndexQueueItem.entry_pk)
                .limit(self.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list(session.scalars(stmt))
            if not rows:
                return []
            for r in rows:
                r.claimed_by = self.owner
                r.claimed_until = now + self.lease_s
            out = [(r.entry_pk, r.user_id) for r in rows]
            session.commit()
            return out

    def _settle(self, pks: Sequence[int]) -> None:
        """Delete the rows whose queued version is now indexed; release the others (a newer
        version was written while this one was indexed)."""
        with self.sessions() as session:
            indexed = dict(
                session.execute(
                    select(IndexState.entry_pk, IndexState.indexed_hash).where(
                        IndexState.entry_pk.in_(list(pks))
                    )
                ).all()
            )
            for pk in pks:
                h = indexed.get(pk)
                if h is not None:
                    session.execute(
                        delete(IndexQueueItem).where(
                            IndexQueueItem.entry_pk == pk,
                            IndexQueueItem.content_hash == h,
                            IndexQueueItem.claimed_by == self.owner,
                        )
                    )
            session.execute(
                update(IndexQueueItem)
                .where(IndexQueueItem.entry_pk.in_(list(pks)))
                .where(IndexQueueItem.claimed_by == self.owner)
                .values(claimed_by=None, claimed_until=None)
            )
            session.commit()

    def _fail(self, pks: Sequence[int], error: str) -> None:
        now = time.time()
        with self.sessions() as session:
            rows = session.scalars(
                select(IndexQueueItem).where(
                    IndexQueueItem.entry_pk.in_(list(pks)),
                    IndexQueueItem.claimed_by == self.owner,
                )
            )
            for r in rows:
                r.attempts += 1
                r.last_error = error[:200]
                r.next_attempt_at = now + backoff(r.attempts, self.max_backoff_s)
                r.claimed_by = None
                r.claimed_until = None
            session.commit()

    # --------------------------------------------------------------------- waiting
    def wait_indexed(self, user_id: str, entry_id: str, content_hash: str, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds until this version of the entry is indexed (by
        this process or any other worker); returns whether it is."""
        deadline = time.monotonic() + timeout
        while True:
            with self.sessions() as session:
                e = UserEntries(session, user_id).get(entry_id)
                if e is None or e.content_hash != content_hash:
                    return False
                if e.index_state is not None and e.index_state.indexed_hash == content_hash:
                    return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            with self._done:
                self._done.wait(min(left, 0.1))
