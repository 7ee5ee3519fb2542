"""Liveness and readiness: does the database answer, does the vector index answer, can
the data folder still be written (not full, not read-only)."""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path

from chromadb.api import ClientAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ingest.vector_index import ChromaIndex
from service.errors import DomainError, InsufficientStorage, Unavailable
from service.health.schemas import Ready

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def storage_fault(data_dir: Path | None, min_free_bytes: int, probe: bool) -> DomainError | None:
    """What stops a write from landing in the data folder now, or None.

    Cheap form (``probe=False``, before every write): free space and write permission.
    ``probe=True`` (readiness) also writes, syncs and removes a small file, which is
    what finds a read-only mount or a disk that is full to the last block.
    """
    if data_dir is None:
        return None
    try:
        free = free_bytes(data_dir)
    except OSError as e:
        return Unavailable(
            f"The data folder cannot be read ({type(e).__name__}).", {"storage": "unreadable"}
        )
    if free < min_free_bytes:
        return InsufficientStorage(
            f"The server's storage is full ({free} bytes free, "
            f"{min_free_bytes} needed); nothing was saved. Retry once space is freed.",
            {"storage": f"full ({free} bytes free)"},
        )
    if not os.access(data_dir, os.W_OK):
        return Unavailable(
            "The data folder is read-only; nothing was saved.", {"storage": "read-only"}
        )
    if probe:
        path = data_dir / f".ready-{uuid.uuid4().hex}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, b"\0" * 4096)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            if e.errno in FULL_ERRNOS:
                return InsufficientStorage(
                    "The server's storage is full; nothing was saved. Retry once space is freed.",
                    {"storage": "full (no space left)"},
                )
            return Unavailable(
                f"The data folder cannot be written ({os.strerror(e.errno or 0)}).",
                {"storage": "read-only"},
            )
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
    return None


class HealthService:
    def __init__(
        self,
        engine: Engine,
        chroma_client: ClientAPI,
        index: ChromaIndex,
        data_dir: Path | None = None,
        min_free_bytes: int = 0,
    ):
        self.engine = engine
        self.chroma_client = chroma_client
        self.index = index
        self.data_dir = data_dir
        self.min_free_bytes = min_free_bytes

    def _database(self) -> str:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return "ok"
        except Exception as e:
            return f"down ({type(e).__name__})"

    def _index(self) -> str:
        try:
            self.chroma_client.heartbeat()
            self.index.collection.count()
            return "ok"
        except Exception as e:
            return f"down ({type(e).__name__})"

    def storage_fault(self, probe: bool = False) -> DomainError | None:
        """Why a write to the data folder would fail now (full: 507, read-only: 503)."""
        return storage_fault(self.data_dir, self.min_free_bytes, probe)

    def ready(self) -> Ready:
        """All answer and the data folder can be written, or ``Unavailable`` (503)
        naming what is down."""
        checks = {"database": self._database(), "index": self._index()}
        if self.data_dir is not None:
            fault = self.storage_fault(probe=True)
            checks["storage"] = "ok" if fault is None else getattr(fault, "checks", {})["storage"]
        down = [k for k, v in checks.items() if v != "ok"]
        if down:
            raise Unavailable(f"Not ready: {', '.join(down)} down.", checks)
        return Ready(status="ready", checks=checks)
