"""Shared fixtures: real SQLite/PostgreSQL, real Chroma (embedded and server), embeddings.

PostgreSQL and the Chroma server are real services; when one cannot be reached the
tests that need it fail (they are never skipped): ``.ci/run`` starts PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from ingest.embedding import SentenceTransformerEmbeddings
from service.container import Container
from service.settings import Settings, packaged_model_path
from tests.fakes import WordHashEmbeddings
from tests.openai_stub import OpenAIStub

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "TRUSTLENS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADMIN_KEY = "test-admin-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake_embeddings() -> WordHashEmbeddings:
    return WordHashEmbeddings()


@pytest.fixture(scope="session")
def real_embeddings() -> SentenceTransformerEmbeddings:
    """The packaged all-MiniLM-L6-v2, loaded once per test run."""
    return SentenceTransformerEmbeddings(packaged_model_path())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", admin_key=ADMIN_KEY)  # type: ignore[arg-type]


@pytest.fixture
def container(settings: Settings, fake_embeddings: WordHashEmbeddings) -> Iterator[Container]:
    """Embedded SQLite + embedded Chroma in a temporary folder, fake embeddings."""
    c = Container(settings, embeddings=fake_embeddings)
    yield c
    c.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"trustlens_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """The run's PostgreSQL database, emptied before each test."""
    from sqlalchemy import create_engine, text

    from ingest.models import metadata

    engine = create_engine(pg_database)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    yield pg_database


@contextmanager
def served(
    cmd: list[str], health: str, log: Path, limit_s: float = 60, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """``cmd`` as a real server for the block: started with its output in ``log``, and
    handed over once ``health`` answers 200; stopped afterwards. One that exits or does
    not answer within ``limit_s`` raises, with the end of its log (why it did not start)."""
    import httpx

    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, **popen)
        try:
            deadline = time.time() + limit_s
            while True:
                try:
                    if httpx.get(health, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    tail = log.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{Path(cmd[0]).name} did not start: {tail}")
                time.sleep(0.2)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` server on a free loopback port."""
    exe = shutil.which("chroma") or str(Path(os.sys.executable).parent / "chroma")
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    cmd = [exe, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with served(cmd, f"{url}/api/v2/heartbeat", path / "server.log"):
        yield url


# ------------------------------------------------------- an OpenAI-compatible server


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAIStub]:
    """A real OpenAI-compatible HTTP server (``tests.openai_stub``), one per module."""
    stub = OpenAIStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def stub(openai_server: OpenAIStub) -> OpenAIStub:
    """The server, with no requests recorded and the default reply."""
    openai_server.reset()
    return openai_server


def llm_settings(tmp_path: Path, stub: OpenAIStub, **extra: Any) -> Settings:
    """Settings whose LLM is the stub server."""
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "admin_key": ADMIN_KEY,
        "llm": "openai",
        "llm_base_url": stub.base_url,
        "llm_model": "stub",
        "llm_timeout_s": 10,
        **extra,
    }
    return Settings(**values)


@pytest.fixture
def server_container(tmp_path: Path, pg_url: str, chroma_server: str) -> Iterator[Container]:
    """The run's PostgreSQL database and Chroma server (a fresh collection), fake
    embeddings; tests using it carry the ``postgres`` and ``chroma_server`` marks."""
    s = Settings(
        data_dir=tmp_path,
        database_url=pg_url,
        chroma_url=chroma_server,
        chroma_collection=f"me_{uuid.uuid4().hex[:12]}",
        admin_key=ADMIN_KEY,  # type: ignore[arg-type]
    )
    c = Container(s, embeddings=WordHashEmbeddings())
    yield c
    c.close()
