"""Errors as RFC 9457 problem details, so every client parses failures the same way.

Every error leaves the app as ``application/problem+json``: raised ``HTTPException``s,
unknown routes (404), wrong methods (405), validation failures (422), rate limits (429)
and unexpected failures (500, whose detail never repeats the request). ``document``
rewrites the OpenAPI so every operation lists the problems it can answer with, which is
what lets schemathesis hold the app to its own description.
"""

from __future__ import annotations

import errno
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, params
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import DomainError, InsufficientStorage, Unavailable

PROBLEM_JSON = "application/problem+json"
# POST routes that only read (a question, a query, a situation): never refused for disk.
READ_ONLY_POSTS = frozenset({"/v1/ask", "/v1/ask/stream", "/v1/search", "/v1/reflect"})
log = logging.getLogger("trustlens.errors")


class FieldError(BaseModel):
    field: str = Field(description="The request field, dotted, e.g. 'tags.0' or 'body'.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["No entry 'x1' in your journal."])
    errors: list[FieldError] | None = Field(
        default=None, description="On 422: one item per invalid field."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not Found",
                    "status": 404,
                    "detail": "No entry 'x1' in your journal.",
                }
            ]
        }
    }


def problem(status: int, detail: str, type: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {
        "type": type,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _json_error(e: Any) -> str:
    """ "body: invalid JSON at character 31: Expecting value" (the offset the JSON parser
    reports is the second item of the error's loc)."""
    loc = list(e.get("loc", ()))
    where = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
    why = str((e.get("ctx") or {}).get("error") or e.get("msg") or "not valid JSON")
    return f"body: invalid JSON{where}: {why}"


JSON_TYPES = ("application/json",)
FORM_TYPES = ("multipart/form-data",)


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


def _wrong_content_type(request: Request) -> str | None:
    """'This route takes ...' when the body was sent as another type than the route
    reads (a JSON route given text/plain or a form; the upload route given JSON)."""
    route = request.scope.get("route")
    body_field = getattr(route, "body_field", None)
    if body_field is None:
        return None
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    sent = request.headers.get("content-type", "")
    if isinstance(body_field.field_info, params.Form):
        expected = "multipart/form-data"
        ok = sent.split(";")[0].strip().lower() in ("multipart/form-data",)
    else:
        expected = "application/json"
        ok = not sent or _is_json(sent)
    if ok or not has_body:
        return None
    got = sent.split(";")[0].strip() or "none"
    return f"This route takes Content-Type: {expected} (the request sent {got})."


# Storage faults, by where they are reported: SQLite's result codes, PostgreSQL's
# SQLSTATE classes, the OS's errno (Chroma's bindings give only a message).
_SQLITE_FULL, _SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CANTOPEN = 13, 8, 10, 14
_FULL_WORDS = ("no space left", "disk is full", "database or disk is full", "quota exceeded")
_READONLY_WORDS = ("read-only file system", "readonly database", "permission denied")


def _full() -> DomainError:
    return InsufficientStorage(
        "The server's storage is full; nothing was saved. Retry once space is freed."
    )


def _readonly() -> DomainError:
    return Unavailable(
        "The server cannot write its data folder (read-only or no permission); nothing was saved.",
        {"storage": "read-only"},
    )


def _database_fault(e: BaseException) -> DomainError | None:
    """SQLite's result code or PostgreSQL's SQLSTATE, where the driver gives one."""
    code = getattr(e, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary == _SQLITE_FULL:
            return _full()
        if primary in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_IOERR):
            return _readonly()
    sqlstate = getattr(e, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        if sqlstate == "53100":  # disk_full
            return _full()
        if sqlstate[:2] in ("08", "53", "57") or sqlstate == "25006":
            return Unavailable(
                "The database is unavailable; nothing was saved. Retry shortly.",
                {"database": f"down (SQLSTATE {sqlstate})"},
            )
    return None


def _fault_of(e: BaseException) -> DomainError | None:
    fault = _database_fault(e)
    if fault is not None:
        return fault
    if isinstance(e, OSError) and e.errno is not None:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            return _full()
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return _readonly()
    if type(e).__module__.startswith(("chromadb", "sqlite3")) or type(e) in (
        Exception,
        RuntimeError,
        OSError,
    ):
        # Chroma's bindings report the OS error only in their message.
        msg = str(e).lower()
        if any(w in msg for w in _FULL_WORDS):
            return _full()
        if any(w in msg for w in _READONLY_WORDS):
            return _readonly()
    return None


def storage_fault(exc: BaseException) -> DomainError | None:
    """The problem a storage failure anywhere in ``exc``'s chain means to the client:
    507 for a full disk, 503 for a read-only folder or an unreachable database; None
    for anything else (a plain 500)."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        fault = _fault_of(e)
        if fault is not None:
            return fault
        for nxt in (getattr(e, "orig", None), e.__cause__, e.__context__):
            if isinstance(nxt, BaseException):
                stack.append(nxt)
    return None


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # The first item says where (body, query, path, header); a field may be named "query".
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "request"


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such route; see /openapi.json for the routes."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = "This route does not take that method; see /openapi.json."
        resp = problem(exc.status_code, detail)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        # Every refusal a service makes on purpose: it carries its own status and type.
        return problem(exc.status, exc.detail, type=exc.type, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        wrong_type = _wrong_content_type(request)
        if wrong_type:
            return problem(415, wrong_type)
        broken = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if broken:
            # Not JSON at all: a 400 (as documented), with where the parser stopped.
            return problem(400, _json_error(broken[0]))
        errors = [
            {
                "field": _field(e.get("loc", ())),
                "message": str(e.get("msg", "invalid")),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, detail, errors=errors)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Normally caught by middleware.ErrorMiddleware first; kept as the last resort.
        return unexpected(exc)


def unexpected(exc: BaseException) -> JSONResponse:
    """The answer to an exception no service raised on purpose: a storage fault's
    507/503, else a 500. Only the exception's type is logged (with the request id, by
    the log formatter): a message or a driver's ``[parameters: ...]`` could quote
    journal text."""
    fault = storage_fault(exc)
    if fault is not None:
        log.warning("storage fault %s: %d", type(exc).__name__, fault.status)
        return problem(fault.status, fault.detail, type=fault.type, **fault.extra)
    log.error("unhandled %s", type(exc).__name__)
    return problem(500, "Something went wrong on our side; the request was not completed.")


# ---------------------------------------------------------------------------- OpenAPI

_DESCRIPTIONS = {
    400: "A body that cannot be parsed (bad encoding, broken multipart)",
    401: "Missing, unknown or revoked bearer key",
    403: "Not allowed with this key",
    404: "Not found (or not yours: the two are never told apart)",
    409: "Conflict",
    413: "Over a documented size limit",
    422: "Invalid request: `errors` names each field",
    415: "The body was sent with another Content-Type than the route reads",
    429: "Rate limit for this key (or for failed keys from this address) exceeded; see Retry-After",
    503: "A dependency (database, index or the data folder) is down",
    507: "The server's storage is full; nothing was saved",
}


def _problem_response(status: int, ref: str) -> dict[str, Any]:
    resp: dict[str, Any] = {
        "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_JSON: {"schema": {"$ref": ref}}},
    }
    if status == 429:
        resp["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        }
    return resp


def document(app: FastAPI) -> None:
    """Give every operation its problem responses, all as ``application/problem+json``.

    Routes declare the statuses they can raise (``responses={404: ...}``); this adds the
    ones every route shares (422 where there are parameters, 400 where there is a body,
    404 where the path names something, 401 where a key is needed, 429 everywhere) and
    moves every 4xx/5xx body to the problem schema.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schemas["Problem"].pop("$defs", {}))
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        ref = "#/components/schemas/Problem"
        for path, ops in spec.get("paths", {}).items():
            for method, op in ops.items():
                _add_problems(op, ref, writes_data(method, path))
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def writes_data(method: str, path: str) -> bool:
    """Whether a request may write the stores (what the disk guard refuses when full)."""
    return (
        method.upper() in ("POST", "PUT", "PATCH", "DELETE")
        and path.startswith("/v1/")
        and path not in READ_ONLY_POSTS
    )


def _add_problems(op: dict[str, Any], ref: str, writes: bool = False) -> None:
    """The problem responses every operation shares, and all 4xx/5xx as problem+json."""
    responses: dict[str, Any] = op.setdefault("responses", {})
    needed = {429}
    if op.get("security"):
        needed.add(401)
    if op.get("parameters") or op.get("requestBody"):
        needed.add(422)
    if op.get("requestBody"):
        needed.update((400, 413, 415))  # unparseable, over TRUSTLENS_MAX_JSON_BYTES, wrong type
    if writes:
        needed.update((503, 507))  # the data folder read-only or full (middleware.WriteGuard)
    if any(p.get("in") == "path" for p in op.get("parameters", [])):
        needed.add(404)  # a path names something that may not exist (or be yours)
    for status in needed:
        responses.setdefault(str(status), {})
    for code, resp in list(responses.items()):
        if code[0] in "45":
            desc = resp.get("description")
            new = _problem_response(int(code), ref)
            if desc and desc not in ("Validation Error", "Successful Response"):
                new["description"] = desc
            responses[code] = new
