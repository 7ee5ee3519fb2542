"""The reference web journal at ``/`` and the API's own docs, all served from here.

The journal is plain HTML, CSS and JavaScript in ``static/`` (no build step). It talks
to the server only through the public ``/v1`` API with the person's key, so it works the
same against any trustlens server. ``/docs`` and ``/redoc`` load Swagger UI and ReDoc
from the pinned ``fastapi-offline`` package instead of a CDN, so they work offline.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC_URL = "/static"
DOCS_ASSETS_URL = "/docs-assets"
# Paths that serve files only (no journal data): not rate limited, like the probes.
FILE_PATHS = ("/", "/docs", "/redoc")
FILE_PREFIXES = (STATIC_URL + "/", DOCS_ASSETS_URL + "/")

# Everything the page loads comes from this server; nothing else may be fetched.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# ReDoc's sidebar credit loads its logo from a CDN whatever the options; served here,
# the one script has that address swapped for a local image, so /redoc asks for nothing
# outside this server.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def redoc_script() -> bytes:
    text = (DOCS_ASSETS / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(REDOC_LOGO, f"{DOCS_ASSETS_URL}/favicon.png").encode()


def is_file_path(path: str) -> bool:
    return path in FILE_PATHS or path.startswith(FILE_PREFIXES)


def install(app: FastAPI) -> None:
    """Serve the journal at ``/`` and the docs at ``/docs`` and ``/redoc`` (offline)."""

    @app.get(f"{DOCS_ASSETS_URL}/redoc.standalone.js", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript")

    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="web")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    favicon = f"{DOCS_ASSETS_URL}/favicon.png"

    @app.get("/", include_in_schema=False)
    def journal() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"},
        )

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=favicon,
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
