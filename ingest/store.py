"""The entry store: the source of truth for users, keys, entries and chunks.

Everything else (the Chroma index, the lexical index) is derived from these tables
and can be rebuilt from them. All entry access goes through ``UserEntries``, which is
bound to one user when it is made: there is no method that reads entries without a
user, so one person's writing cannot reach another by accident.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

from ingest.crypto import Keyring, Sealed, sealed_model


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Bumped whenever the user's indexed chunks change; read paths key caches on it,
    # which keeps several stateless workers consistent without talking to each other.
    index_revision: Mapped[int] = mapped_column(Integer, default=0)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserKey(Base):
    """A person's data key, wrapped by the master key (``ingest.crypto``). Deleting the
    row destroys every text the person wrote, wherever a copy of its ciphertext lies."""

    __tablename__ = "user_keys"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    master_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@sealed_model
class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("user_id", "entry_id", name="uq_entries_user_entry"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(128))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    # Sealed at rest (``ingest.crypto``): ``text`` is the plaintext view of the column.
    text_sealed: Mapped[str] = mapped_column("text", Text)
    text = Sealed("text_sealed")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(512), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    chunks: Mapped[list[Chunk]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Chunk.seq"
    )
    index_state: Mapped[IndexState | None] = relationship(
        back_populates="entry", cascade="all, delete-orphan", uselist=False
    )


class Chunk(Base):
    """A span of an entry. The text is ``entry.text[start:end]``; never stored twice."""

    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("entry_pk", "seq", name="uq_chunks_entry_seq"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.pk", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The embedding cache: vectors live beside the chunk they came from, so a user's
    # deletion removes them too, and a reindex needs no model when they are present.
    model: Mapped[str] = mapped_column(String(256), default="")
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)

    entry: Mapped[Entry] = relationship(back_populates="chunks")


class IndexState(Base):
    """Which version of an entry the vector index holds (absent: not indexed yet)."""

    __tablename__ = "index_state"

    entry_pk: Mapped[int] = mapped_column(
        ForeignKey("entries.pk", ondelete="CASCADE"), primary_key=True
    )
    indexed_hash: Mapped[str] = mapped_column(String(64))
    indexed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="index_state")


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for a crash (WAL, foreign keys on).

    ``hide_parameters``: a driver error's message never carries the statement's
    parameters (entry text), so no traceback or log line can repeat them."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted and overwritten content is zeroed, not left in free pages.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def delete_entry_rows(session: Session, table: Any, user_id: str, pks: Sequence[int]) -> None:
    """Delete ``table``'s rows of these entries of one user (derived rows: labels,
    episodes), in slices so no statement carries too many parameters."""
    for i in range(0, len(pks), 500):
        session.execute(
            delete(table).where(table.user_id == user_id, table.entry_pk.in_(pks[i : i + 500]))
        )


def make_sessions(engine: Engine, keyring: Keyring) -> sessionmaker[Session]:
    """Sessions on ``engine`` that seal and open a person's text with ``keyring``; the
    schema itself is Alembic's (``service/db/migrate.py``)."""
    return sessionmaker(engine, expire_on_commit=False, info={"keyring": keyring})


def content_hash(text: str, date: dt.date, tags: Sequence[str]) -> str:
    """Identity of an entry's content: unchanged hash means nothing to redo."""
    h = hashlib.sha256()
    h.update(date.isoformat().encode())
    h.update(b"\x00")
    h.update(text.encode())
    h.update(b"\x00")
    h.update("\x1f".join(sorted(tags)).encode())
    return h.hexdigest()


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def derived_entry_id(text: str, date: dt.date) -> str:
    """A stable id for entries that came without one, so re-imports stay idempotent."""
    return "e" + hashlib.sha256(f"{date.isoformat()}\x00{text}".encode()).hexdigest()[:15]


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def vector_to_bytes(v: Sequence[float] | np.ndarray) -> bytes:
    return np.asarray(v, dtype=np.float32).tobytes()


def bytes_to_vector(b: bytes) -> list[float]:
    return np.frombuffer(b, dtype=np.float32).tolist()


def chunk_texts(
    sessions: sessionmaker[Session],
) -> Callable[[str, Sequence[tuple[str, int, int]]], list[str]]:
    """Chunk texts for the vector index's hits, read (and opened) from the store."""

    def texts(user_id: str, spans: Sequence[tuple[str, int, int]]) -> list[str]:
        with sessions() as session:
            found = UserEntries(session, user_id).get_many(eid for eid, _, _ in spans)
            out = []
            for eid, start, end in spans:
                e = found.get(eid)
                out.append(e.text[start:end] if e is not None else "")
            return out

    return texts


# session.info key: the users whose revision this transaction bumps when it commits.
_BUMP_AT_COMMIT = "trustlens_bump_revision"


@event.listens_for(Session, "before_commit")
def _bump_pending(session: Session) -> None:
    for user_id in sorted(session.info.pop(_BUMP_AT_COMMIT, ())):
        session.execute(
            update(User).where(User.id == user_id).values(index_revision=User.index_revision + 1)
        )


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: object) -> None:
    session.info.pop(_BUMP_AT_COMMIT, None)


class EntryVersions:
    """Per entry of a user, a version token for the index's readers (``ingest.vector_index.
    EntryVersions``, ``service.insight.journal.Journals``): read from hashes and index
    state only, no text is opened.

    Why one reader, kept per revision: the next question after a write read the tokens
    twice (the lexical index and the journal, 0.15 s each at 20k entries) while the
    floor it is measured against is 0.3 s. Every change of a token bumps the user's
    ``index_revision`` in the same transaction (``UserEntries.upsert``, at commit;
    ``mark_indexed``,
    ``mark_unindexed``, ``delete``, ``clear_index_state``), so tokens read at a revision
    hold until it moves. The revision is read first: a write committed between the two
    reads leaves tokens newer than the revision they are kept under, which only costs a
    read again at the next revision, never a stale token. The dict handed out is shared:
    callers read it and never change it. Kept for the ``max_users`` most recent users.
    """

    def __init__(self, sessions: sessionmaker[Session], max_users: int = 16):
        self.sessions = sessions
        self.max_users = max_users
        self._kept: OrderedDict[str, tuple[int, dict[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, user_id: str) -> dict[str, str]:
        return self.read(user_id)[1]

    def read(self, user_id: str) -> tuple[int, dict[str, str]]:
        """(the user's revision, their tokens at it or later)."""
        with self.sessions() as session:
            store = UserEntries(session, user_id)
            revision = store.revision()
            with self._lock:
                kept = self._kept.get(user_id)
                if kept is not None and kept[0] == revision:
                    self._kept.move_to_end(user_id)
                    return kept
            tokens = store.index_versions()
        with self._lock:
            self._kept[user_id] = (revision, tokens)
            self._kept.move_to_end(user_id)
            while len(self._kept) > self.max_users:
                self._kept.popitem(last=False)
        return revision, tokens

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._kept.pop(user_id, None)


# ----------------------------------------------------------------------------- users


class UserExists(Exception):
    pass


def create_user(session: Session, name: str) -> User:
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserExists(name)
    user = User(id=uuid.uuid4().hex, name=name, index_revision=0)
    session.add(user)
    session.flush()
    return user


def get_user_by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def get_or_create_user(session: Session, name: str) -> User:
    return get_user_by_name(session, name) or create_user(session, name)


def issue_api_key(session: Session, user: User) -> str:
    """Make a new key for ``user``. The plain key is returned once; only its hash is kept."""
    key = "tl_" + secrets.token_urlsafe(32)
    session.add(ApiKey(user_id=user.id, key_hash=hash_api_key(key), prefix=key[:10]))
    session.flush()
    return key


def user_for_api_key(session: Session, key: str) -> User | None:
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_api_key(key), ApiKey.revoked_at.is_(None))
    )
    return session.get(User, row.user_id) if row else None


def all_user_ids(session: Session) -> list[str]:
    return list(session.scalars(select(User.id).order_by(User.name)))


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class ChunkSpan:
    seq: int
    start: int
    end: int


class UserEntries:
    """Every read and write of entries and chunks, bound to exactly one user."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read or write entries")
        self.session = session
        self.user_id = user_id

    def get(self, entry_id: str) -> Entry | None:
        return self.session.scalar(
            select(Entry).where(Entry.user_id == self.user_id, Entry.entry_id == entry_id)
        )

    def get_many(self, entry_ids: Iterable[str]) -> dict[str, Entry]:
        ids = list(set(entry_ids))
        if not ids:
            return {}
        rows = self.session.scalars(
            select(Entry).where(Entry.user_id == self.user_id, Entry.entry_id.in_(ids))
        )
        return {e.entry_id: e for e in rows}

    def by_pks(self, pks: Iterable[int]) -> list[Entry]:
        pk_list = list(pks)
        if not pk_list:
            return []
        return list(
            self.session.scalars(
                select(Entry).where(Entry.user_id == self.user_id, Entry.pk.in_(pk_list))
            )
        )

    def all(self) -> list[Entry]:
        return list(
            self.session.scalars(
                select(Entry).where(Entry.user_id == self.user_id).order_by(Entry.date, Entry.pk)
            )
        )

    def count(self) -> int:
        return (
            self.session.scalar(
                select(func.count()).select_from(Entry).where(Entry.user_id == self.user_id)
            )
            or 0
        )

    def index_versions(self) -> dict[str, str]:
        """Entry id -> a token that changes whenever the entry's indexed chunks or its
        text may have: the content hash (the text a hit is cut from) and the index
        state's hash and time (rewritten in the commit that follows every write of the
        entry's chunks to the vector index, removed when they are dropped).

        A chunk's hit is its index record (offsets, date) plus ``entry.text[start:end]``;
        ``Chunk.text_hash`` alone would not do: it describes the committed chunk, while
        a reader may see the index's records of a write not yet committed."""
        rows = self.session.execute(
            select(
                Entry.entry_id, Entry.content_hash, IndexState.indexed_hash, IndexState.indexed_at
            )
            .outerjoin(IndexState, IndexState.entry_pk == Entry.pk)
            .where(Entry.user_id == self.user_id)
        )
        return {
            eid: f"{content}:{indexed or '-'}:{at.isoformat() if at else '-'}"
            for eid, content, indexed, at in rows
        }

    def upsert(
        self, entry_id: str, date: dt.date, text: str, tags: Sequence[str], source: str
    ) -> tuple[Entry, str]:
        """Insert or update one entry; returns it and 'imported', 'updated' or 'unchanged'."""
        digest = content_hash(text, date, tags)
        existing = self.get(entry_id)
        if existing is None:
            entry = Entry(
                user_id=self.user_id,
                entry_id=entry_id,
                date=date,
                text=text,
                tags=list(tags),
                source=source,
                content_hash=digest,
            )
            self.session.add(entry)
            self.bump_revision_at_commit()  # a new version token (``EntryVersions``)
            self.session.flush()
            return entry, "imported"
        if existing.content_hash == digest:
            return existing, "unchanged"
        existing.date = date
        existing.text = text
        existing.tags = list(tags)
        existing.source = source
        existing.content_hash = digest
        existing.updated_at = utcnow()
        self.bump_revision_at_commit()  # the entry's version token moved (``EntryVersions``)
        self.session.flush()
        return existing, "updated"

    def pending_index(self) -> list[Entry]:
        """Committed entries whose current content is not (yet) in the vector index."""
        stmt = (
            select(Entry)
            .outerjoin(IndexState, IndexState.entry_pk == Entry.pk)
            .where(Entry.user_id == self.user_id)
            .where(IndexState.entry_pk.is_(None) | (IndexState.indexed_hash != Entry.content_hash))
            .order_by(Entry.pk)
        )
        return list(self.session.scalars(stmt))

    def cached_embeddings(self, hashes: Iterable[str], model: str) -> dict[str, bytes]:
        """Stored vectors for chunk texts this user already embedded with ``model``."""
        hs = list(set(hashes))
        out: dict[str, bytes] = {}
        for i in range(0, len(hs), 500):
            rows = self.session.execute(
                select(Chunk.text_hash, Chunk.embedding).where(
                    Chunk.user_id == self.user_id,
                    Chunk.model == model,
                    Chunk.text_hash.in_(hs[i : i + 500]),
                    Chunk.embedding.is_not(None),
                )
            )
            for h, emb in rows:
                if emb is not None:
                    out[h] = emb
        return out

    def replace_chunks(self, entry: Entry, chunks: list[Chunk]) -> None:
        self.replace_chunks_of([(entry, chunks)])

    def replace_chunks_of(self, planned: Sequence[tuple[Entry, list[Chunk]]]) -> None:
        """Replace the chunks of several entries: one delete and one flush for all."""
        for entry, _ in planned:
            self._own(entry)
        pks = [entry.pk for entry, _ in planned]
        for i in range(0, len(pks), 500):
            self.session.execute(delete(Chunk).where(Chunk.entry_pk.in_(pks[i : i + 500])))
        for entry, chunks in planned:
            for c in chunks:
                c.entry_pk = entry.pk
                c.user_id = self.user_id
            self.session.add_all(chunks)
        self.session.flush()

    def chunks_of(self, entries: Sequence[Entry]) -> dict[int, list[Chunk]]:
        pks = [e.pk for e in entries]
        out: dict[int, list[Chunk]] = {pk: [] for pk in pks}
        for i in range(0, len(pks), 500):
            rows = self.session.scalars(
                select(Chunk)
                .where(Chunk.user_id == self.user_id, Chunk.entry_pk.in_(pks[i : i + 500]))
                .order_by(Chunk.entry_pk, Chunk.seq)
            )
            for c in rows:
                out[c.entry_pk].append(c)
        return out

    def mark_indexed(self, entries: Sequence[Entry]) -> None:
        for e in entries:
            self._own(e)
        # One query for the existing states, not one per entry.
        pks = [e.pk for e in entries]
        states: dict[int, IndexState] = {}
        for i in range(0, len(pks), 500):
            rows = self.session.scalars(
                select(IndexState).where(IndexState.entry_pk.in_(pks[i : i + 500]))
            )
            states.update((st.entry_pk, st) for st in rows)
        for e in entries:
            state = states.get(e.pk)
            if state is None:
                self.session.add(IndexState(entry_pk=e.pk, indexed_hash=e.content_hash))
            else:
                state.indexed_hash = e.content_hash
                state.indexed_at = utcnow()
        self.bump_revision()
        self.session.flush()

    def clear_index_state(self) -> None:
        pks = select(Entry.pk).where(Entry.user_id == self.user_id).scalar_subquery()
        self.session.execute(delete(IndexState).where(IndexState.entry_pk.in_(pks)))
        self.bump_revision()

    def bump_revision(self) -> None:
        self.session.execute(
            update(User)
            .where(User.id == self.user_id)
            .values(index_revision=User.index_revision + 1)
        )

    def bump_revision_at_commit(self) -> None:
        """Bump the revision in this transaction, as its last statement (``_bump_pending``):
        a writer that locks entry rows and then the user's row, and an import that
        would otherwise lock the user's row at its first entry and then more entries,
        could each wait for the other on PostgreSQL. Locked last, the user's row is
        never held while an entry row is awaited."""
        self.session.info.setdefault(_BUMP_AT_COMMIT, set()).add(self.user_id)

    def revision(self) -> int:
        return self.session.scalar(select(User.index_revision).where(User.id == self.user_id)) or 0

    def _own(self, entry: Entry) -> None:
        if entry.user_id != self.user_id:
            raise PermissionError("entry belongs to another user")
