"""A real trustlens server (HTTP on a loopback port, SQLite store, embedded Chroma, the
packaged model) and headless Debian Chromium through pytest-playwright, with every
request to anything but that server blocked and every console error or failed request
failing the test."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import expect

from ingest.embedding import SentenceTransformerEmbeddings
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import ADMIN_KEY, ROOT, free_port

# Saving an entry or asking runs the real model on a 2-core machine: allow for load.
expect.set_options(timeout=30_000)

CHROMIUM = os.environ.get("TRUSTLENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
# The first 24 entries of maya's sample journal (January to July 2024): enough for
# every section (habits, patterns, origins, progress) and quick to import.
MAYA = [json.loads(line) for line in (ROOT / "examples/maya/journal.jsonl").open()][:24]


@dataclass
class Server:
    url: str
    admin: httpx.Client

    def new_user(self, name: str, entries: list[dict[str, Any]] = ()) -> str:  # type: ignore[assignment]
        r = self.admin.post("/v1/users", json={"name": name})
        r.raise_for_status()
        key = str(r.json()["api_key"])
        if entries:
            rep = self.client(key).post("/v1/entries/import", json={"entries": list(entries)})
            rep.raise_for_status()
            assert rep.json()["totals"]["rejected"] == 0
        return key

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=300
        )


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: SentenceTransformerEmbeddings
) -> Iterator[Server]:
    """``trustlens serve``'s app under uvicorn on a free port, in a thread."""
    data = tmp_path_factory.mktemp("web-server")
    settings = Settings(  # type: ignore[call-arg]
        data_dir=data, admin_key=ADMIN_KEY, rate_limit="100000/minute"
    )
    container = Container(settings, embeddings=real_embeddings)
    port = free_port()
    config = uvicorn.Config(
        create_app(container=container), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not srv.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("the trustlens server did not start")
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    yield Server(url, admin)
    admin.close()
    srv.should_exit = True
    thread.join(30)
    container.close()


@pytest.fixture(scope="session")
def maya_key(server: Server) -> str:
    """maya's sample journal (its first 24 entries), imported through the API."""
    return server.new_user("maya", MAYA)


# ------------------------------------------------------------ pytest-playwright wiring


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium (Playwright's own browser download cannot be reached here)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (see .ci/run)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "accept_downloads": True, "viewport": DESKTOP}


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass
class Watch:
    """What went wrong on a page: console errors, uncaught errors, failed or blocked
    requests and error responses. Every test ends by asserting it stayed empty."""

    base: str
    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def problems(self) -> list[str]:
        return self.console + self.failed + [f"blocked: {u}" for u in self.blocked]


@pytest.fixture
def watch(page: Any, server: Server) -> Iterator[Watch]:
    w = Watch(server.url)

    def route(r: Any) -> None:
        if r.request.url.startswith(server.url + "/"):
            r.continue_()
        else:
            w.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)

    def console(m: Any) -> None:
        status = re.search(r"status of (\d+)", m.text)
        if m.type == "error" and not (status and int(status[1]) in w.allowed_statuses):
            w.console.append(m.text)

    page.on("console", console)
    page.on("pageerror", lambda e: w.console.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: w.failed.append(f"{r.method} {r.url}: {r.failure}"))

    def response(r: Any) -> None:
        if r.status >= 400 and r.status not in w.allowed_statuses:
            w.failed.append(f"{r.request.method} {r.url}: {r.status}")

    page.on("response", response)
    yield w
    assert w.problems() == []
