"""Errors as RFC 9457 problem details, so every client parses failures the same way.

Every error leaves the app as ``application/problem+json``: raised ``HTTPException``s,
unknown routes (404), wrong methods (405), validation failures (422), rate limits (429)
and unexpected failures (500, whose detail never repeats the request). ``document``
rewrites the OpenAPI so every operation lists the problems it can answer with, which is
what lets schemathesis hold the app to its own description.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import DomainError

PROBLEM_JSON = "application/problem+json"
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
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
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
        # Only the exception type is logged: a message could quote journal text.
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
    429: "Rate limit for this key exceeded; see Retry-After",
    503: "A dependency (database or index) is down",
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
        for ops in spec.get("paths", {}).values():
            for op in ops.values():
                _add_problems(op, ref)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _add_problems(op: dict[str, Any], ref: str) -> None:
    """The problem responses every operation shares, and all 4xx/5xx as problem+json."""
    responses: dict[str, Any] = op.setdefault("responses", {})
    needed = {429}
    if op.get("security"):
        needed.add(401)
    if op.get("parameters") or op.get("requestBody"):
        needed.add(422)
    if op.get("requestBody"):
        needed.add(400)  # a body that cannot be parsed at all
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
