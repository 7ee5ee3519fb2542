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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import DomainError
from service.problems import problem, unexpected, writes_data
from service.web.router import is_file_path

if TYPE_CHECKING:
    from service.settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
USER_SCOPE_KEY = "trustlens.user_hash"  # set by deps.get_current_user
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})

access_log = logging.getLogger("trustlens.access")
log = logging.getLogger("trustlens.errors")

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
    return _client_addr(scope)


def _client_addr(scope: Scope) -> str:
    client = scope.get("client")
    return "addr:" + (client[0] if client else "unknown")


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k == name:
            return str(v.decode("latin-1"))
    return None


class RateLimitMiddleware:
    """Per-key limits (``TRUSTLENS_RATE_LIMIT``) kept by the ``limits`` library, and a
    per-address budget of failed authentications (``TRUSTLENS_AUTH_FAIL_LIMIT``): a 401
    or 403 spends it, and once it is spent every request from that address is a 429
    until the window moves on, so a new bogus key per request does not escape.

    Counters live in ``TRUSTLENS_RATE_LIMIT_STORAGE`` (memory by default; Redis keeps
    several workers, or several servers, to one budget).
    """

    def __init__(self, app: ASGIApp, limit: str, storage: str, auth_fail_limit: str | None = None):
        self.app = app
        self.items: list[RateLimitItem] = parse_many(limit)
        self.auth_items: list[RateLimitItem] = (
            parse_many(auth_fail_limit) if auth_fail_limit else []
        )
        options = {} if storage.startswith("memory") else {"wrap_exceptions": True}
        self.storage = storage_from_string(storage, **options)
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        item: RateLimitItem,
        ns: str,
        key: str,
        what: str,
    ) -> None:
        reset = self.limiter.get_window_stats(item, ns, key).reset_time
        retry = max(1, int(reset - time.time() + 0.999))
        resp = problem(429, f"Rate limit of {item} {what} exceeded; retry in {retry} s.")
        resp.headers["Retry-After"] = str(retry)
        await resp(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in UNLIMITED_PATHS or is_file_path(path):
            await self.app(scope, receive, send)
            return
        try:
            await self._limited(scope, receive, send)
        except StorageError as e:
            # The shared counter store (Redis) does not answer: refuse rather than run
            # unlimited, and say which setting points at it.
            log.error("rate-limit storage %s", type(e.storage_error).__name__)
            resp = problem(
                503,
                "The rate-limit store (TRUSTLENS_RATE_LIMIT_STORAGE) does not answer; retry "
                "shortly.",
                checks={"rate_limit_storage": "down"},
            )
            await resp(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        addr = _client_addr(scope)
        for item in self.auth_items:
            if not self.limiter.test(item, "trustlens-authfail", addr):
                await self._refuse(
                    scope,
                    receive,
                    send,
                    item,
                    "trustlens-authfail",
                    addr,
                    "failed authentications from this address",
                )
                return
        key = _client_key(scope)
        for item in self.items:
            if not self.limiter.hit(item, "trustlens", key):
                await self._refuse(scope, receive, send, item, "trustlens", key, "for this key")
                return
        status = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, send_wrapper)
        if status in (401, 403):
            for item in self.auth_items:
                self.limiter.hit(item, "trustlens-authfail", addr)


class ErrorMiddleware:
    """Turns an exception no service raised on purpose into its problem (a storage
    fault's 507/503, else a 500) here, inside the app, so it never reaches Starlette's
    outermost handler, which re-raises it to the server: uvicorn would print the whole
    traceback (with SQLAlchemy's ``[parameters: ...]``, i.e. journal text) and close
    the keep-alive connection. Only the exception's type and the request id are logged.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            resp = unexpected(exc)
            if started:
                return  # a streamed answer broke off: too late for a problem document
            await resp(scope, receive, send)


class BodyLimitMiddleware:
    """Request bodies other than file uploads (JSON) up to ``TRUSTLENS_MAX_JSON_BYTES``:
    a larger one is a 413 before anything parses it (by Content-Length, or by counting
    a chunked body as it arrives). Uploads have their own limit
    (``TRUSTLENS_MAX_UPLOAD_BYTES``)."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> Any:
        return problem(
            413,
            f"Request body over the limit of {self.max_bytes} bytes "
            "(TRUSTLENS_MAX_JSON_BYTES); send fewer entries per request, or upload a file.",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctype = (_header(scope, b"content-type") or "").lower()
        if scope["type"] != "http" or ctype.startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class WriteGuardMiddleware:
    """Writes (``problems.writes_data``) are refused before they touch a store while the
    data folder is full (507) or read-only (503): a store never gets half a write on a
    full disk, and writes go through again by themselves once space returns."""

    def __init__(self, app: ASGIApp, check: Callable[[], DomainError | None]):
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and writes_data(scope["method"], scope["path"]):
            fault = self.check()
            if fault is not None:
                resp = problem(fault.status, fault.detail, type=fault.type, **fault.extra)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(
    app: FastAPI, settings: Settings, storage_check: Callable[[], DomainError | None]
) -> None:
    """Outermost first: request id, access log, errors, rate limit, body limit, disk."""
    configure_logging()
    app.add_middleware(WriteGuardMiddleware, check=storage_check)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_bytes)
    app.add_middleware(
        RateLimitMiddleware,
        limit=settings.rate_limit,
        storage=settings.rate_limit_storage,
        auth_fail_limit=settings.auth_fail_limit,
    )
    app.add_middleware(ErrorMiddleware)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        update_request_header=True,
    )
