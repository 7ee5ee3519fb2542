"""Encryption at rest: the one place where a person's words are sealed and opened.

Envelope keys. Each person has a random 256-bit *data key*; every text they wrote (entry
text, the names and notes of their experiments, the "by" of an episode) is stored as
``tl1:`` + base64(nonce | AES-GCM ciphertext), with their user id as associated data, so
a sealed value cannot be moved to another person's row. The data key itself is stored
only *wrapped* (AES-GCM) by the *master key* in ``user_keys``; the master key comes from
``TRUSTLENS_MASTER_KEY`` or from ``master.key`` in the data directory (created at first
start, mode 0600). Deleting a person deletes their wrapped key: whatever a backend keeps
in its own logs afterwards is ciphertext nobody can open.

How the store uses it. A sealed column is declared with ``Sealed(...)`` on an ORM class
decorated with ``@sealed_model``: the column attribute holds the stored (sealed) value,
the ``Sealed`` descriptor under the plain name hands out the plaintext. Plaintext set on
an object is sealed by a ``before_flush`` hook, and rows are opened when they are loaded,
both through the ``Keyring`` in ``session.info`` (``ingest.store.make_sessions``).
Services keep reading ``entry.text``; only this module and the accessors see sealed values.

``Keyring(enabled=False)`` stores new text in the clear; it exists to measure what the
encryption costs (``trustlens bench``) and is not a supported configuration.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    DateTime,
    LargeBinary,
    String,
    delete,
    event,
    insert,
    select,
    table,
    update,
)
from sqlalchemy import (
    column as sql_column,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, object_session

T = TypeVar("T")
PREFIX = "tl1:"
KEY_FILE = "master.key"
NEXT_KEY_FILE = "master.key.next"
_NONCE = 12
_NEW_KEYS = "tl_new_keys"  # session.info: data keys created in its open transaction
OPENED_USERS = 16  # people whose opened text a process keeps (as the lexical index)
OPENED_VALUES = 200_000  # opened values kept per person


class KeyError_(Exception):
    """A key is missing or wrong (no master key, a destroyed data key)."""


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def master_id(master: bytes) -> str:
    return hashlib.sha256(b"trustlens-master\x00" + master).hexdigest()[:16]


def decode_master(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode() + b"==")
    except ValueError as e:
        raise KeyError_("the master key must be 32 bytes, base64 (urlsafe)") from e
    if len(raw) != 32:
        raise KeyError_("the master key must be 32 bytes, base64 (urlsafe)")
    return raw


def encode_master(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def new_master() -> str:
    return encode_master(secrets.token_bytes(32))


def write_key_file(path: Path, text: str) -> None:
    """Write a key file durably with owner-only permissions (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, (text + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def create_key_file(path: Path, text: str) -> None:
    """Create a key file unless one exists: when several processes start on a new data
    directory at once, the first file linked into place wins and every one reads it."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    write_key_file(tmp, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def load_masters(env_key: str | None, data_dir: Path) -> list[bytes]:
    """The master keys in use: the configured one first, then a rotation's next key."""
    if env_key:
        return [decode_master(env_key)]
    path = data_dir / KEY_FILE
    if not path.exists():
        create_key_file(path, new_master())
    keys = [decode_master(path.read_text())]
    nxt = data_dir / NEXT_KEY_FILE
    if nxt.exists():  # a rotation was interrupted: rows may be wrapped by either key
        keys.append(decode_master(nxt.read_text()))
    return keys


# The wrapped data keys (``ingest.store.UserKey`` declares the table for the schema;
# this light description is enough to read and write it without importing the store).
_KEYS = table(
    "user_keys",
    sql_column("user_id", String),
    sql_column("wrapped", LargeBinary),
    sql_column("master_id", String),
    sql_column("created_at", DateTime(timezone=True)),
)


class Keyring:
    """Master keys, the per-person data keys they wrap, and sealing/opening of text."""

    def __init__(self, masters: Iterable[bytes], enabled: bool = True):
        ms = list(masters)
        if not ms:
            raise KeyError_("no master key")
        self.masters = {master_id(m): AESGCM(m) for m in ms}
        self.current = master_id(ms[0])
        self.enabled = enabled
        self._cache: dict[str, AESGCM] = {}
        # Opened text, per person, keyed by the sealed value itself (its nonce makes it
        # unique). An answer reads the person's whole journal from the store, several
        # times per question; without this, each read re-opened every entry (about 50 ms
        # per question at 2,000 chunks, 10 % of ask p50: issue 14 allows 5 %). Plaintext
        # is already held in memory for the lexical index (service.retrieval.lexical),
        # bounded the same way: OPENED_USERS people, OPENED_VALUES values each.
        self._opened: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------- data keys
    def wrap(self, user_id: str, dk: bytes, mid: str | None = None) -> bytes:
        mid = mid or self.current
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self.masters[mid].encrypt(nonce, dk, b"trustlens-dk\x00" + user_id.encode())

    def unwrap(self, user_id: str, wrapped: bytes, mid: str) -> bytes:
        m = self.masters.get(mid)
        if m is None:
            raise KeyError_(f"the data key of a user is wrapped by an unknown master key {mid}")
        return m.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], b"trustlens-dk\x00" + user_id.encode())

    def _cipher(self, session: Session, user_id: str, create: bool) -> AESGCM:
        with self._lock:
            c = self._cache.get(user_id)
        if c is None:
            c = session.info.get(_NEW_KEYS, {}).get(user_id)
        if c is not None:
            return c
        with session.no_autoflush:
            row = self._key_row(session, user_id)
            if row is None:
                if not create:
                    raise KeyError_("this person's data key is gone")
                # A concurrent first write (another thread, worker or server) may store
                # its own key first: insert if absent, then use whichever key is stored.
                dk = AESGCM.generate_key(256)
                values = {
                    "user_id": user_id,
                    "wrapped": self.wrap(user_id, dk),
                    "master_id": self.current,
                    "created_at": dt.datetime.now(dt.UTC),
                }
                dialect = session.get_bind().dialect.name
                if dialect in ("postgresql", "sqlite"):
                    ins = pg_insert if dialect == "postgresql" else sqlite_insert
                    session.execute(
                        ins(_KEYS)
                        .values(**values)
                        .on_conflict_do_nothing(index_elements=["user_id"])
                    )
                else:
                    session.execute(insert(_KEYS).values(**values))
                row = self._key_row(session, user_id)
                assert row is not None
                c = AESGCM(self.unwrap(user_id, bytes(row[0]), str(row[1])))
                # Shared only once committed: a rolled-back key must never seal anything.
                session.info.setdefault(_NEW_KEYS, {})[user_id] = c
                return c
        c = AESGCM(self.unwrap(user_id, bytes(row[0]), str(row[1])))
        with self._lock:
            self._cache[user_id] = c
        return c

    @staticmethod
    def _key_row(session: Session, user_id: str) -> Any:
        return session.execute(
            select(_KEYS.c.wrapped, _KEYS.c.master_id).where(_KEYS.c.user_id == user_id)
        ).first()

    def ensure_key(self, session: Session, user_id: str) -> None:
        self._cipher(session, user_id, create=True)

    def forget(self, user_id: str) -> None:
        """Drop the cached data key and opened text (after the person's key row is deleted)."""
        with self._lock:
            self._cache.pop(user_id, None)
            self._opened.pop(user_id, None)

    def destroy(self, session: Session, user_id: str) -> None:
        """Overwrite, then delete the wrapped data key: the person's ciphertext is dead."""
        session.execute(
            update(_KEYS).where(_KEYS.c.user_id == user_id).values(wrapped=secrets.token_bytes(60))
        )
        session.execute(delete(_KEYS).where(_KEYS.c.user_id == user_id))
        session.info.get(_NEW_KEYS, {}).pop(user_id, None)
        self.forget(user_id)

    # ------------------------------------------------------------- text
    def seal(self, session: Session, user_id: str, text: str | None) -> str | None:
        if text is None or not self.enabled:
            return text
        c = self._cipher(session, user_id, create=True)
        nonce = secrets.token_bytes(_NONCE)
        ct = c.encrypt(nonce, text.encode(), user_id.encode())
        return PREFIX + base64.b64encode(nonce + ct).decode()

    def open(self, session: Session | None, user_id: str, value: str | None) -> str | None:
        if not is_sealed(value):
            return value
        assert value is not None
        with self._lock:
            mine = self._opened.get(user_id)
            plain = mine.get(value) if mine is not None else None
        if plain is not None:
            return plain
        if session is None:
            with self._lock:
                c = self._cache.get(user_id)
            if c is None:
                raise KeyError_("a sealed value was read outside a session")
        else:
            c = self._cipher(session, user_id, create=False)
        raw = base64.b64decode(value[len(PREFIX) :])
        plain = c.decrypt(raw[:_NONCE], raw[_NONCE:], user_id.encode()).decode()
        self._remember(user_id, value, plain)
        return plain

    def _remember(self, user_id: str, value: str, plain: str) -> None:
        with self._lock:
            mine = self._opened.get(user_id)
            if mine is None:
                mine = self._opened[user_id] = {}
                while len(self._opened) > OPENED_USERS:
                    self._opened.popitem(last=False)
            else:
                self._opened.move_to_end(user_id)
            if len(mine) >= OPENED_VALUES:
                mine.clear()  # a rare, huge journal: start over rather than track order
            mine[value] = plain


def keyring_of(session: Session | None) -> Keyring | None:
    if session is None:
        return None
    kr = session.info.get("keyring")
    return kr if isinstance(kr, Keyring) else None


def seal(session: Session, user_id: str, text: str | None) -> str | None:
    """Seal one value for a bulk (Core) insert; the session must carry a keyring."""
    kr = keyring_of(session)
    if kr is None:
        raise KeyError_("this session has no keyring (ingest.store.make_sessions)")
    return kr.seal(session, user_id, text)


def opened(session: Session, user_id: str, value: str | None) -> str | None:
    """Open one value read by a bulk (Core) select; plaintext passes through."""
    if not is_sealed(value):
        return value
    kr = keyring_of(session)
    if kr is None:
        raise KeyError_("this session has no keyring (ingest.store.make_sessions)")
    return kr.open(session, user_id, value)


# ------------------------------------------------------------------ ORM glue
_PLAIN = "_tl_plain"  # instance dict: {column attribute: (stored value, plaintext)}
_PENDING = "_tl_pending"  # instance dict: {column attribute: plaintext set, not sealed yet}


class Sealed:
    """The plaintext view of a sealed column attribute ``column`` of an ORM class."""

    def __init__(self, column: str):
        self.column = column

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        stored = getattr(obj, self.column)
        cached = obj.__dict__.get(_PLAIN, {}).get(self.column)
        if cached is not None and cached[0] is stored:
            return cached[1]
        if not is_sealed(stored):
            return stored
        sess = object_session(obj)
        kr = keyring_of(sess)
        if kr is None:
            raise KeyError_("a sealed value was read without a keyring")
        plain = kr.open(sess, obj.user_id, stored)
        obj.__dict__.setdefault(_PLAIN, {})[self.column] = (stored, plain)
        return plain

    def __set__(self, obj: Any, value: Any) -> None:
        # Stored as given for now; ``before_flush`` seals it (the object may not be in a
        # session yet, and its user id may be set after this).
        setattr(obj, self.column, value)
        obj.__dict__.setdefault(_PENDING, {})[self.column] = value


def sealed_model(cls: type[T]) -> type[T]:
    """Class decorator of an ORM class with ``Sealed`` attributes: open rows on load."""
    cls.__sealed__ = {  # type: ignore[attr-defined]
        name: v.column for name, v in vars(cls).items() if isinstance(v, Sealed)
    }
    event.listen(cls, "load", _on_load)
    event.listen(cls, "refresh", _on_refresh)
    return cls


def _open_all(obj: Any) -> None:
    fields: dict[str, str] = getattr(type(obj), "__sealed__", {})
    sess = object_session(obj)
    kr = keyring_of(sess)
    for column in fields.values():
        stored = obj.__dict__.get(column)
        if kr is not None and is_sealed(stored):
            plain = kr.open(sess, obj.user_id, stored)
            obj.__dict__.setdefault(_PLAIN, {})[column] = (stored, plain)


def _on_load(obj: Any, _context: Any) -> None:
    _open_all(obj)


def _on_refresh(obj: Any, _context: Any, _attrs: Any) -> None:
    _open_all(obj)


@event.listens_for(Session, "before_flush")
def _seal_before_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.new) + list(session.dirty):
        pending: dict[str, Any] = obj.__dict__.pop(_PENDING, {})
        if not pending:
            continue
        kr = keyring_of(session)
        if kr is None:
            raise KeyError_("this session has no keyring (ingest.store.make_sessions)")
        plains = obj.__dict__.setdefault(_PLAIN, {})
        for column, value in pending.items():
            if value is None or obj.__dict__.get(column) is not value:
                continue
            setattr(obj, column, kr.seal(session, obj.user_id, value))
            plains[column] = (getattr(obj, column), value)


@event.listens_for(Session, "after_commit")
def _share_new_keys(session: Session) -> None:
    new: dict[str, AESGCM] = session.info.pop(_NEW_KEYS, {})
    kr = keyring_of(session)
    if new and kr is not None:
        with kr._lock:
            kr._cache.update(new)


@event.listens_for(Session, "after_rollback")
def _drop_new_keys(session: Session) -> None:
    session.info.pop(_NEW_KEYS, None)


def rotate_master(session: Session, keyring: Keyring, new_raw: bytes) -> int:
    """Re-wrap every data key with ``new_raw`` (one transaction; the caller commits).
    Returns how many keys were re-wrapped."""
    new_id = master_id(new_raw)
    keyring.masters[new_id] = AESGCM(new_raw)
    rows = session.execute(select(_KEYS.c.user_id, _KEYS.c.wrapped, _KEYS.c.master_id)).all()
    for user_id, wrapped, mid in rows:
        dk = keyring.unwrap(user_id, bytes(wrapped), str(mid))
        session.execute(
            update(_KEYS)
            .where(_KEYS.c.user_id == user_id)
            .values(wrapped=keyring.wrap(user_id, dk, new_id), master_id=new_id)
        )
    keyring.current = new_id
    return len(rows)
