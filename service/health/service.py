"""Liveness and readiness: does the database answer, does the vector index answer."""

from __future__ import annotations

from chromadb.api import ClientAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine

from ingest.vector_index import ChromaIndex
from service.errors import Unavailable
from service.health.schemas import Ready


class HealthService:
    def __init__(self, engine: Engine, chroma_client: ClientAPI, index: ChromaIndex):
        self.engine = engine
        self.chroma_client = chroma_client
        self.index = index

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

    def ready(self) -> Ready:
        """Both answer, or ``Unavailable`` (503) naming what is down."""
        checks = {"database": self._database(), "index": self._index()}
        down = [k for k, v in checks.items() if v != "ok"]
        if down:
            raise Unavailable(f"Not ready: {', '.join(down)} down.", checks)
        return Ready(status="ready", checks=checks)
