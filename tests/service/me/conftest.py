"""The containers the /v1/me tests walk: the embedded defaults, and PostgreSQL with a
Chroma server (the deployment whose backends keep files of their own). Delete and
privacy check the same two, so they are built in one place."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import WordHashEmbeddings


@pytest.fixture
def sqlite_container(tmp_path: Path) -> Iterator[Container]:
    """SQLite and embedded Chroma in ``tmp_path / "d"``, fake embeddings."""
    s = Settings(data_dir=tmp_path / "d", admin_key=ADMIN_KEY)  # type: ignore[arg-type]
    c = Container(s, embeddings=WordHashEmbeddings())
    yield c
    c.close()


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
