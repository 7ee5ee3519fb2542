"""Crash recovery: SIGKILL a real `trustlens ingest` mid-import, then recover.

The import commits entries in batches of 64 (the source of truth) before it
chunks, embeds and indexes them, and marks a batch indexed only after Chroma has
it. Killing the process at the worst moment (a batch committed, not indexed)
must lose nothing and duplicate nothing: re-running the import finishes the job,
and so does the start-up ``index_pending`` of the app.

One killed run is made per test session (the real model is slow on CPU); each
test works on its own copy of the data folder it left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ingest.store import Chunk, Entry, IndexState, UserEntries, get_user_by_name
from ingest.vector_index import chunk_id
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.fakes import WordHashEmbeddings
from tests.ingest.test_indexing import assert_index_matches_store

pytestmark = pytest.mark.model

N_ENTRIES = 600
TRUSTLENS = str(Path(sys.executable).parent / "trustlens")

_WHO = ["my sister", "Sam", "my manager", "the landlord", "an old friend", "my father",
        "the neighbour", "Lena", "the team", "my partner", "Jonas", "the doctor"]  # fmt: skip
_DID = ["promised", "forgot", "admitted", "kept", "broke", "explained", "hid", "shared",
        "questioned", "defended", "returned", "doubted"]  # fmt: skip
_WHAT = ["the plan", "a secret", "the money", "our agreement", "the truth", "a small lie",
         "the keys", "my trust", "the schedule", "a letter", "the car", "her word"]  # fmt: skip
_FELT = ["I felt betrayed.", "I felt relieved.", "It made me wary.", "I was grateful.",
         "I wondered why.", "I said nothing.", "We talked it through.", "I am still unsure.",
         "Maybe I expect too much.", "It was a good day, honestly."]  # fmt: skip


def journal(n: int) -> list[dict[str, str]]:
    """``n`` entries of 60-100 words, every one different, dated one a day."""
    rng = random.Random(20240601)
    items = []
    for i in range(n):
        target = rng.randint(60, 100)
        words: list[str] = []
        while len(words) < target:
            s = (
                f"On walk {i}.{len(words)} {rng.choice(_WHO)} {rng.choice(_DID)} "
                f"{rng.choice(_WHAT)}. {rng.choice(_FELT)}"
            )
            words.extend(s.split())
        year, day = 2021 + i // 300, i % 300
        date = f"{year}-{1 + day // 28:02d}-{1 + day % 28:02d}"
        items.append({"id": f"n{i:04d}", "date": date, "text": " ".join(words[:target])})
    return items


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTLENS_")}
    env.update(
        TRUSTLENS_DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    return env


def counts(db: Path) -> tuple[int, int]:
    """(committed entries, entries marked indexed), read like any other process would."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    except sqlite3.OperationalError:
        return 0, 0
    try:
        conn.execute("BEGIN")  # both counts from one snapshot
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM index_state").fetchone()[0]
        return int(entries), int(indexed)
    except sqlite3.OperationalError:  # tables not created yet
        return 0, 0
    finally:
        conn.close()


@dataclass(frozen=True)
class KilledRun:
    data_dir: Path  # the data folder as the killed process left it (never modified)
    journal: Path
    committed: int  # entries committed when it died
    indexed: int  # entries marked indexed when it died


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilledRun]:
    root = tmp_path_factory.mktemp("killed")
    path = root / "journal.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in journal(N_ENTRIES)), "utf-8")
    data = root / "data"
    db = data / "trustlens.db"
    log = open(root / "ingest.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [TRUSTLENS, "ingest", str(path), "--user", "ana"],
        env=cli_env(data),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Wait for the worst moment: one batch fully indexed, a later one committed
        # but not yet indexed (its embeddings are being computed).
        deadline = time.monotonic() + 240
        while True:
            committed, indexed = counts(db)
            if 64 <= indexed < committed < N_ENTRIES:
                break
            if proc.poll() is not None:
                pytest.fail(
                    f"ingest exited ({proc.returncode}) before it could be killed "
                    f"at {committed}/{indexed}: {(root / 'ingest.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"no batch boundary seen in time ({committed}/{indexed})")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()
    committed, indexed = counts(db)
    # The kill really interrupted the import in the middle, on a batch boundary.
    assert 0 < indexed < committed < N_ENTRIES
    assert committed % 64 == 0 and indexed % 64 == 0
    yield KilledRun(data, path, committed, indexed)


def copy_of(run: KilledRun, tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(run.data_dir, dest)
    return dest


def open_container(data: Path, embeddings: object) -> tuple[Container, str]:
    c = Container(Settings(data_dir=data), embeddings=embeddings)  # type: ignore[arg-type]
    with c.sessions() as s:
        user = get_user_by_name(s, "ana")
        assert user is not None
        return c, user.id


def assert_recovered(c: Container, uid: str, expected_ids: set[str]) -> None:
    """Each entry stored once, indexed at its current content, and exactly in Chroma."""
    with c.sessions() as s:
        rows = list(
            s.execute(
                select(Entry.entry_id, Entry.content_hash, IndexState.indexed_hash).outerjoin(
                    IndexState, IndexState.entry_pk == Entry.pk
                )
            )
        )
        ids = [r[0] for r in rows]
        assert len(ids) == len(set(ids)) == len(expected_ids)
        assert set(ids) == expected_ids
        stale = [eid for eid, content, indexed in rows if indexed != content]
        assert stale == []
        assert UserEntries(s, uid).pending_index() == []
        chunk_rows = list(
            s.execute(select(Entry.entry_id, Chunk.seq).join(Chunk, Chunk.entry_pk == Entry.pk))
        )
        assert s.scalar(select(func.count()).select_from(Chunk)) == len(chunk_rows)
    store_chunk_ids = {chunk_id(uid, eid, seq) for eid, seq in chunk_rows}
    assert {eid for eid, _ in chunk_rows} == expected_ids  # every entry has chunks

    # Open the index the way a fresh process would and compare with the store.
    client = chromadb.PersistentClient(
        path=str(c.settings.chroma_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    col = client.get_collection("trustlens_chunks")
    got = col.get(include=["metadatas"])
    assert set(got["ids"]) == store_chunk_ids
    assert len(got["ids"]) == len(store_chunk_ids)  # no duplicates, nothing stray
    assert {m["entry_id"] for m in got["metadatas"]} == expected_ids
    assert {m["user_id"] for m in got["metadatas"]} == {uid}
    # Field by field (dates, offsets, texts, vectors) against the store.
    assert_index_matches_store(c, uid)


def test_rerunning_a_killed_import_completes_it_exactly_once(
    killed_run: KilledRun, tmp_path: Path
) -> None:
    data = copy_of(killed_run, tmp_path)
    done = subprocess.run(
        [TRUSTLENS, "ingest", str(killed_run.journal), "--user", "ana", "--json"],
        env=cli_env(data),
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    pending_at_kill = killed_run.committed - killed_run.indexed
    assert report["totals"] == {
        "files": 1,
        "imported": N_ENTRIES - killed_run.committed,
        "updated": 0,
        "unchanged": killed_run.committed,
        "rejected": 0,
        "failed_files": 0,
        # the batch that was committed but not indexed, then everything new
        "indexed": pending_at_kill + N_ENTRIES - killed_run.committed,
    }
    c, uid = open_container(data, WordHashEmbeddings())
    try:
        assert_recovered(c, uid, {f"n{i:04d}" for i in range(N_ENTRIES)})
    finally:
        c.close()


def test_app_start_up_indexes_what_was_committed_before_the_kill(
    killed_run: KilledRun, tmp_path: Path
) -> None:
    data = copy_of(killed_run, tmp_path)
    # What is tested is which entries the start-up hook indexes, not the model: a fake
    # embedder of the model's width (384) keeps this test fast on a CPU.
    fake = WordHashEmbeddings(dim=384)
    c, uid = open_container(data, fake)
    try:
        pending = c.indexer.pending(uid)
        assert len(pending) == killed_run.committed - killed_run.indexed
        with c.sessions() as s:
            pending_ids = {e.entry_id for e in UserEntries(s, uid).by_pks(pending)}
        # They were never read back from the file: only the kill's committed entries.
        assert pending_ids == {f"n{i:04d}" for i in range(killed_run.indexed, killed_run.committed)}
        revision = c.retrievers.revision(uid)

        with TestClient(create_app(container=c)) as client:  # runs the start-up hook
            assert client.get("/healthz").json() == {"status": "ok"}
        assert c.indexer.pending(uid) == []
        assert c.retrievers.revision(uid) > revision
        # Exactly the pending entries were chunked and embedded, nothing already indexed.
        with c.sessions() as s:
            store = UserEntries(s, uid)
            pending_entries = store.by_pks(pending)
            pending_chunks = store.chunks_of(pending_entries)
            expected_texts = {
                e.text[ch.start : ch.end] for e in pending_entries for ch in pending_chunks[e.pk]
            }
        sent = [t for call in fake.calls for t in call]
        assert len(sent) == len(set(sent))  # each distinct text once
        assert set(sent) == expected_texts
        assert_recovered(c, uid, {f"n{i:04d}" for i in range(killed_run.committed)})
        # A second start finds nothing left to do.
        assert c.indexer.index_pending() == 0
    finally:
        c.close()
