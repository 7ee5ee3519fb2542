"""Tests for ``ingest.crypto``'s data keys under concurrency: a person's first key is
created once however many writers race for it, a key from a rolled-back transaction never
seals anything, and processes starting together on a new data dir share one master key."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from ingest.crypto import (
    KEY_FILE,
    KeyError_,
    Keyring,
    create_key_file,
    load_masters,
    new_master,
)
from ingest.store import UserEntries, UserKey, create_user, make_sessions

D1 = dt.date(2024, 3, 1)


def _user(sessions: sessionmaker[Session]) -> str:
    with sessions() as s:
        uid = create_user(s, "ana").id
        s.commit()
    return uid


def _texts(engine: Engine, master: bytes, uid: str) -> dict[str, str]:
    """What a fresh process (an empty key cache) reads back."""
    with make_sessions(engine, Keyring([master]))() as s:
        return {e.entry_id: e.text for e in UserEntries(s, uid).all()}


def test_a_key_from_a_rolled_back_transaction_seals_nothing(engine: Engine) -> None:
    master = secrets.token_bytes(32)
    sessions = make_sessions(engine, Keyring([master]))
    uid = _user(sessions)
    with sessions() as s:
        UserEntries(s, uid).upsert("gone", D1, "Never committed.", [], "t")
        s.flush()
        s.rollback()
    with sessions() as s:
        UserEntries(s, uid).upsert("kept", D1, "Committed words.", [], "t")
        s.commit()
    assert _texts(engine, master, uid) == {"kept": "Committed words."}


def test_concurrent_first_writes_share_one_data_key(engine: Engine) -> None:
    master = secrets.token_bytes(32)
    keyrings = [Keyring([master]), Keyring([master])]  # two processes
    uid = _user(make_sessions(engine, keyrings[0]))
    s1 = make_sessions(engine, keyrings[0])()
    UserEntries(s1, uid).upsert("one", D1, "First writer.", [], "t")
    s1.flush()  # holds the new key row, uncommitted
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with make_sessions(engine, keyrings[1])() as s2:
                UserEntries(s2, uid).upsert("two", D1, "Second writer.", [], "t")
                s2.commit()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=second)
    if engine.dialect.name == "postgresql":
        t.start()  # waits on the first writer's key row
        t.join(0.5)
        s1.commit()
    else:
        s1.commit()  # SQLite serialises writers: the second starts after the first
        t.start()
    t.join(30)
    s1.close()
    assert not errors, errors
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(UserKey)) == 1
    assert _texts(engine, master, uid) == {"one": "First writer.", "two": "Second writer."}


def test_processes_starting_together_share_one_master_key(tmp_path: Path) -> None:
    texts = [new_master() for _ in range(8)]
    threads = [
        threading.Thread(target=create_key_file, args=(tmp_path / KEY_FILE, t)) for t in texts
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = (tmp_path / KEY_FILE).read_text().strip()
    assert stored in texts
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]
    assert load_masters(None, tmp_path) == load_masters(None, tmp_path)


def test_opened_text_is_reused_and_forgotten_with_the_key(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry read again is not decrypted again (asks read the whole journal several
    times), and destroying the person's key drops what was opened: a sealed value read
    afterwards cannot be opened, even by a process that had opened it before."""
    master = secrets.token_bytes(32)
    kr = Keyring([master])
    sessions = make_sessions(engine, kr)
    uid = _user(sessions)
    with sessions() as s:
        UserEntries(s, uid).upsert("a", D1, "Words only she wrote.", [], "t")
        s.commit()
    with sessions() as s:
        stored = [e.__dict__ for e in UserEntries(s, uid).all()]
    sealed = [v for d in stored for v in d.values() if isinstance(v, str) and v.startswith("tl1:")]
    assert len(sealed) == 1
    value = sealed[0]
    calls = 0
    real = kr._cipher

    def counting(*a: object, **k: object) -> object:
        nonlocal calls
        calls += 1
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(kr, "_cipher", counting)
    with sessions() as s:
        assert kr.open(s, uid, value) == "Words only she wrote."
        assert [e.text for e in UserEntries(s, uid).all()] == ["Words only she wrote."]
    assert calls == 0  # opened once already, in this process
    monkeypatch.undo()
    with sessions() as s:
        kr.destroy(s, uid)
        s.commit()
    with sessions() as s, pytest.raises(KeyError_):
        kr.open(s, uid, value)
