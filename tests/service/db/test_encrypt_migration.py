"""0004_encrypt_at_rest on a data directory written by an older version (plaintext
entries, Chroma documents): every entry survives, none is left readable in any file, and
a kill -9 in the middle of the migration followed by a re-run ends the same way."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import MetaData, Table, create_engine, select, text
from sqlalchemy.orm import Session

from ingest.index_queue import enqueue
from ingest.store import Entry, User, UserEntries, make_engine, make_sessions
from service.container import Container
from service.db import migrate
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "datadir_v0"
ROOT = Path(__file__).resolve().parents[3]


def _plain_texts(data: Path) -> dict[str, str]:
    conn = sqlite3.connect(data / "trustlens.db")
    try:
        return {eid: text for eid, text in conn.execute("SELECT entry_id, text FROM entries")}
    finally:
        conn.close()


def phrases(texts: list[str], n: int = 6) -> set[str]:
    """Every run of ``n`` words of these texts (the leak probe)."""
    out: set[str] = set()
    for t in texts:
        words = t.split()
        out.update(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    return out


def files_with(root: Path, needles: set[str]) -> dict[str, int]:
    """Files under ``root`` holding any needle (UTF-8 bytes), with how many needles."""
    encoded = [n.encode() for n in needles]
    found: dict[str, int] = {}
    for p in root.rglob("*"):
        if p.is_file():
            blob = p.read_bytes()
            hits = sum(1 for n in encoded if n in blob)
            if hits:
                found[str(p.relative_to(root))] = hits
    return found


def _check_upgraded(data: Path, before: dict[str, str]) -> None:
    assert before and phrases(list(before.values()))
    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    try:
        assert migrate.current(c.engine) == migrate.head()
        with c.sessions() as s:
            users = list(s.scalars(select(User)))
            after = {e.entry_id: e.text for u in users for e in UserEntries(s, u.id).all()}
        assert after == before  # 0 entries lost, every text opens to what it was
        with sqlite3.connect(data / "trustlens.db") as raw:
            stored = [t for (t,) in raw.execute("SELECT text FROM entries")]
        assert all(t.startswith("tl1:") for t in stored)  # 0 left in plaintext
        c.indexer.index_pending()
        ana = next(u for u in users if u.name == "ana")
        hits = c.search.retrievers.for_user(ana.id).invoke("Jonah")
        assert hits and all(h.page_content in before[h.metadata["entry_id"]] for h in hits)
        assert all(h.page_content for h in hits)
    finally:
        c.close()
    assert files_with(data, phrases(list(before.values()))) == {}


def test_a_plaintext_data_dir_is_sealed_in_place(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    before = _plain_texts(data)
    assert files_with(data, phrases(list(before.values())))  # the old version leaked
    _check_upgraded(data, before)
    assert (data / "master.key").stat().st_mode & 0o777 == 0o600


KILLER = """
import os, signal, sys
from ingest.crypto import Keyring
from ingest.store import make_engine
from service.db import migrate
from service.settings import Settings

calls = 0
seal = Keyring.seal

def dying_seal(self, *a, **kw):
    global calls
    calls += 1
    if calls == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    return seal(self, *a, **kw)

Keyring.seal = dying_seal
settings = Settings(data_dir=sys.argv[1])
migrate.upgrade(make_engine(settings.resolved_database_url), keyring=settings.keyring())
"""


def test_a_kill_during_the_migration_and_a_rerun_end_the_same(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    before = _plain_texts(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-c", KILLER, str(data), "4"], env=env, capture_output=True, cwd=ROOT
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode()[-2000:]
    _check_upgraded(data, before)


def _copy_fixture_rows(url: str) -> dict[str, str]:
    """Copy the fixture's users, keys and plaintext entries into ``url`` (at 0002)."""
    src = create_engine(f"sqlite:///{FIXTURE / 'trustlens.db'}")
    dst = create_engine(url)
    try:
        with src.connect() as s, dst.begin() as d:
            for name in ("users", "api_keys", "entries"):
                have = Table(name, MetaData(), autoload_with=s)
                want = Table(name, MetaData(), autoload_with=d)
                cols = [c.name for c in want.columns if c.name in have.columns]
                rows = [dict(r._mapping) for r in s.execute(select(*[have.c[c] for c in cols]))]
                d.execute(want.insert(), rows)
            return {
                eid: text for eid, text in d.execute(text("SELECT entry_id, text FROM entries"))
            }
    finally:
        src.dispose()
        dst.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_plaintext_rows_upgrade_through_the_queue_and_sealing(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # 0002 -> 0003_index_queue (no key needed) -> 0004_encrypt_at_rest (seals), on both
    # stores; entries queued at 0003 stay queued, and the queue holds no text.
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0002")
        before = _copy_fixture_rows(url)
        assert len(before) == 7
        migrate.upgrade(engine, "0003_index_queue")
        assert migrate.current(engine) == "0003_index_queue"
        with Session(engine) as s:
            enqueue(s, list(s.scalars(select(Entry))))  # plaintext rows, read as stored
            s.commit()
        keyring = Settings(data_dir=tmp_path / "data").keyring()
        migrate.upgrade(engine, keyring=keyring)
        assert migrate.current(engine) == migrate.head()
        with engine.connect() as conn:
            stored = [t for (t,) in conn.execute(text("SELECT text FROM entries"))]
            queued = list(conn.execute(text("SELECT * FROM index_queue")))
        assert len(stored) == 7 and all(t.startswith("tl1:") for t in stored)
        assert len(queued) == 7
        needles = phrases(list(before.values()))
        assert not any(n in repr(row) for row in queued for n in needles)
        with make_sessions(engine, keyring)() as s:
            users = list(s.scalars(select(User)))
            after = {e.entry_id: e.text for u in users for e in UserEntries(s, u.id).all()}
        assert after == before
    finally:
        engine.dispose()
