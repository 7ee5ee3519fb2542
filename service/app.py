"""The FastAPI app factory.

The app holds no per-user state: everything lives in the entry store and the index,
so several workers (``trustlens serve --workers N``) can serve the same data. Routers
are included from ``ROUTERS``; feature routers that other work adds are picked up
from ``OPTIONAL_ROUTERS`` when their module exists.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from ingest.store import Base
from service import middleware, problems
from service.ask import ask_router, ask_stream
from service.container import Container
from service.entries import entries_router
from service.export import export_router
from service.health import health_router
from service.me import me_router
from service.search import search_router
from service.settings import Settings
from service.users import users_router

log = logging.getLogger("trustlens")

ROUTERS: list[APIRouter] = [
    health_router.router,
    users_router.router,
    me_router.router,
    entries_router.router,
    entries_router.status_router,
    search_router.router,
    ask_router.router,
    ask_stream.router,
    export_router.router,
]

# Insight features (issue 4 and later): included when present.
OPTIONAL_ROUTERS = [
    "service.patterns.patterns_router",
    "service.insight.insight_router",
    "service.labels.labels_router",
    "service.reflect.reflect_router",
    "service.practices.practices_router",
    "service.experiments.experiments_router",
    "service.progress.progress_router",
]


def _optional_routers() -> list[APIRouter]:
    found = []
    for name in OPTIONAL_ROUTERS:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            found.append(importlib.import_module(name).router)
    return found


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
        description="Every route under /v1 resolves the person from `Authorization: Bearer "
        "<api key>`; errors are RFC 9457 `application/problem+json`; requests are rate "
        "limited per key; every response carries an `X-Request-ID`.",
        lifespan=lifespan,
    )
    app.state.container = c
    problems.install(app)
    middleware.install(app, c.settings.rate_limit, c.settings.rate_limit_storage)
    for router in ROUTERS + _optional_routers():
        app.include_router(router)
    # Tables of features whose modules were first imported with their routers.
    Base.metadata.create_all(c.engine)
    problems.document(app)
    return app
