"""Request ids, structured access logs and per-key rate limits, as plain ASGI middleware.

The access log is one JSON line per request with the request id, the route *template*
(``/v1/entries/{entry_id}``, never the filled-in path), the status, the duration and a
hash of the user id. Bodies, query strings, questions and journal text are never read
here, so they cannot reach a log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import problem
from service.web.router import is_file_path

REQUEST_ID_HEADER = "X-Request-ID"
USER_SCOPE_KEY = "trustlens.user_hash"  # set by deps.get_current_user
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})

access_log = logging.getLogger("trustlens.access")

_STD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = correlation_id.get()
        if rid:
            out["request_id"] = rid
        for k, v in record.__dict__.items():
            if k not in _STD_ATTRS and not k.startswith("_"):
                out[k] = v
        return json.dumps(out, default=str)


def configure_logging() -> None:
    """JSON lines on stderr for trustlens's own loggers (once per process)."""
    logger = logging.getLogger("trustlens")
    if any(getattr(h, "_trustlens", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._trustlens = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def user_hash(user_id: str) -> str:
    """A stable pseudonym for logs: lets requests be grouped by person, not identified."""
    return hashlib.sha256(f"trustlens-user:{user_id}".encode()).hexdigest()[:16]


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            access_log.info(
                "request",
                extra={
                    "method": scope.get("method"),
                    "route": getattr(route, "path", None) or "(no route)",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                    "user": scope.get(USER_SCOPE_KEY),
                },
            )


def _client_key(scope: Scope) -> str:
    """Whose budget a request spends: the bearer key's hash, else the client address."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            token = value.decode("latin-1").partition(" ")[2].strip()
            if token:
                return "key:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


class RateLimitMiddleware:
    """Per-key limits (``TRUSTLENS_RATE_LIMIT``) kept by the ``limits`` library.

    Counters live in ``TRUSTLENS_RATE_LIMIT_STORAGE`` (memory by default; a shared
    store such as Redis keeps several workers to one budget).
    """

    def __init__(self, app: ASGIApp, limit: str, storage: str):
        self.app = app
        self.items: list[RateLimitItem] = parse_many(limit)
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNLIMITED_PATHS or is_file_path(path):
            await self.app(scope, receive, send)
            return
        key = _client_key(scope)
        for item in self.items:
            if not self.limiter.hit(item, "trustlens", key):
                reset = self.limiter.get_window_stats(item, "trustlens", key).reset_time
                retry = max(1, int(reset - time.time() + 0.999))
                resp = problem(
                    429,
                    f"Rate limit of {item} for this key exceeded; retry in {retry} s.",
                )
                resp.headers["Retry-After"] = str(retry)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI, rate_limit: str, rate_limit_storage: str) -> None:
    """Outermost first: request id, then the access log, then the rate limit."""
    configure_logging()
    app.add_middleware(RateLimitMiddleware, limit=rate_limit, storage=rate_limit_storage)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        update_request_header=True,
    )
