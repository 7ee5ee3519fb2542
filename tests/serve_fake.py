"""A uvicorn app factory for tests that run a real server process: the app of
``service.app.create_app`` on settings from the environment, with the deterministic
``WordHashEmbeddings`` instead of the model (fast start, exact results).

``TRUSTLENS_TEST_INDEX_LOG``, when set, names a file to which every indexing call
appends ``pid entry_pk`` lines, so a test can check that several processes drained the
queue exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.fakes import WordHashEmbeddings


def create() -> FastAPI:
    c = Container(Settings(), embeddings=WordHashEmbeddings())
    path = os.environ.get("TRUSTLENS_TEST_INDEX_LOG")
    if path:
        indexer = c.indexer
        inner = indexer.index_entries

        def logged(user_id: str, entry_pks: Sequence[int], progress: Any = None) -> int:
            n = inner(user_id, entry_pks, progress)
            with open(path, "a") as f:
                f.writelines(f"{os.getpid()} {pk}\n" for pk in entry_pks)
            return n

        indexer.index_entries = logged  # type: ignore[method-assign]
    return create_app(container=c)
