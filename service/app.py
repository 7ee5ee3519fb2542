"""The FastAPI app factory.

The app holds no per-user state: everything lives in the entry store and the index,
so several workers (``trustlens serve --workers N``) can serve the same data.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from service import problems
from service.ask import ask_router
from service.container import Container
from service.entries import entries_router
from service.settings import Settings
from service.users import users_router

log = logging.getLogger("trustlens")


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    c = container or Container(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Entries committed before a crash but never indexed are indexed now.
        n = c.indexer.index_pending()
        if n:
            log.info("indexed %d pending entries at start-up", n)
        yield
        if container is None:
            c.close()

    app = FastAPI(
        title="trustlens",
        version="1.0.0",
        summary="Insight into trust, answered only from the person's own journal.",
        lifespan=lifespan,
    )
    app.state.container = c
    problems.install(app)
    app.include_router(users_router.router)
    app.include_router(entries_router.router)
    app.include_router(ask_router.router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
