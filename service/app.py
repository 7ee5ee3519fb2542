"""The FastAPI app factory.

The app holds no per-user state: everything lives in the entry store and the index,
so several workers (``trustlens serve --workers N``) can serve the same data. Every
feature contributes one ``router`` (``service/<feature>/router.py``); the schema is
Alembic's, brought to head when the container is built. With ``TRUSTLENS_MCP_HTTP``
(``serve --mcp``) the MCP server is mounted at ``/mcp`` (``service/mcp/router.py``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, FastAPI

from ingest.index_queue import enqueue_pending
from service import middleware, problems
from service.ask import router as ask
from service.container import Container
from service.entries import router as entries
from service.experiments import router as experiments
from service.export import router as export
from service.health import router as health
from service.health.service import storage_fault
from service.insight import router as insight
from service.me import router as me
from service.patterns import router as patterns
from service.search import router as search
from service.settings import Settings
from service.users import router as users
from service.web import router as web

log = logging.getLogger("trustlens")

ROUTERS: list[APIRouter] = [
    health.router,
    users.router,
    me.router,
    entries.router,
    entries.status_router,
    search.router,
    ask.router,
    export.router,
    patterns.router,
    insight.router,
    experiments.router,
]


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    c = container or Container(settings or Settings())
    mcp_route = None
    if c.settings.mcp_http:
        # Imported only when on: the MCP server at /mcp (service/mcp/router.py).
        from service.mcp.router import http_route

        mcp_route, mcp_manager = http_route(
            c.mcp, c.sessions, allow_write=c.settings.mcp_allow_write
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Entries committed but never indexed (a crash, an index that was down) are
        # queued and drained now; then the background indexer keeps the queue drained.
        # Several workers each run this: queue claims keep every entry indexed once.
        worker = c.index_worker
        try:
            enqueue_pending(c.sessions)
            n = worker.drain()
            if n:
                log.info("indexed %d pending entries at start-up", n)
        except Exception as e:  # the indexer thread retries; start-up must not fail
            log.warning("start-up indexing stopped: %s", type(e).__name__)
        worker.start()
        async with AsyncExitStack() as stack:
            if mcp_route is not None:
                await stack.enter_async_context(mcp_manager.run())
            yield
        worker.stop()
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
        # Served offline by service/web (Swagger UI and ReDoc from fastapi-offline).
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = c
    problems.install(app)
    s = c.settings
    data_dir = s.data_dir if s.uses_data_dir else None
    middleware.install(app, s, lambda: storage_fault(data_dir, s.min_free_bytes, probe=False))
    for router in ROUTERS:
        app.include_router(router)
    if mcp_route is not None:
        app.router.routes.append(mcp_route)
    problems.document(app)
    web.install(app)
    return app
