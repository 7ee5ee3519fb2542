"""The containers the /v1/me tests walk: the embedded defaults here, and PostgreSQL with
a Chroma server (``server_container``, tests/conftest.py: the deployment whose backends
keep files of their own). Delete and privacy check the same two."""

from __future__ import annotations

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
