"""``trustlens serve`` and ``trustlens demo``: the API, and the sample journals with keys."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from service.cli import common
from service.cli.common import err, user_id


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    mcp: Annotated[
        bool,
        typer.Option(
            "--mcp", help="Also serve MCP at /mcp (streamable HTTP, each caller's API key)."
        ),
    ] = False,
    mcp_allow_write: Annotated[
        bool, typer.Option("--mcp-allow-write", help="List MCP's write_entry tool.")
    ] = False,
    mcp_max_quotes: Annotated[
        int | None,
        typer.Option("--mcp-max-quotes", min=1, max=1000, help="Most quotes one MCP call returns."),
    ] = None,
) -> None:
    """Serve the versioned insight API and the web journal at / (docs at /docs), and with
    --mcp the MCP server at /mcp."""
    # The app is built by each worker from settings: the flags travel as settings (the
    # server runs as a child process, which inherits the environment).
    if mcp:
        os.environ["TRUSTLENS_MCP_HTTP"] = "true"
    if mcp_allow_write:
        os.environ["TRUSTLENS_MCP_ALLOW_WRITE"] = "true"
    if mcp_max_quotes is not None:
        os.environ["TRUSTLENS_MCP_MAX_QUOTES"] = str(mcp_max_quotes)
    settings = common.settings()
    # Settings, the data folder, the database (migrated) and the rate-limit store are
    # checked here, so a bad start is two clear lines, not a traceback per worker.
    common.container().close()
    check_rate_limit_storage(settings.rate_limit_storage)
    # access_log off: the app writes its own JSON access log (route templates, no query).
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "service.app:create_app",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        str(max(1, int(settings.shutdown_timeout_s))),
    ]
    raise typer.Exit(supervise(cmd, settings.shutdown_timeout_s))


def check_rate_limit_storage(uri: str) -> None:
    """A shared rate-limit store (Redis) answers, or two lines naming the setting."""
    if uri.startswith("memory"):
        return
    from limits.storage import storage_from_string

    try:
        ok = storage_from_string(uri, socket_connect_timeout=3).check()
    except Exception:
        ok = False
    if not ok:
        err.print(
            f"[red]Cannot reach the rate-limit store {uri} (TRUSTLENS_RATE_LIMIT_STORAGE).[/red]",
            highlight=False,
            soft_wrap=True,
        )
        err.print("Fix: start Redis there, or set TRUSTLENS_RATE_LIMIT_STORAGE=memory://.")
        raise typer.Exit(2)


def supervise(cmd: list[str], grace_s: float) -> int:
    """Run the server as a child process group and make SIGTERM (and Ctrl-C) final.

    The signal is passed on, the server has ``grace_s`` seconds to finish its requests
    (uvicorn's graceful shutdown), and then the whole group gets SIGKILL. This process
    never loads the stores, so no thread of theirs can hold its interpreter lock: a
    server stuck inside native code (Chroma's bindings after a full disk were seen
    holding the GIL, so its own signal handler never ran) is still stopped.
    """
    proc = subprocess.Popen(cmd, start_new_session=True)
    asked: list[float] = []

    def forward(signum: int, _frame: object) -> None:
        if not asked:
            asked.append(time.monotonic())
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    try:
        while True:
            try:
                rc = proc.wait(timeout=0.2)
                # uvicorn ends a graceful shutdown by re-raising the signal it was sent.
                return 0 if asked and rc in (-signal.SIGTERM, -signal.SIGINT) else rc
            except subprocess.TimeoutExpired:
                pass
            if asked and time.monotonic() - asked[0] > grace_s + 2:
                err.print(
                    f"[red]The server did not stop within {grace_s:g} s of SIGTERM "
                    "(TRUSTLENS_SHUTDOWN_TIMEOUT_S); stopped it by force.[/red]",
                    highlight=False,
                )
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return 1
    finally:
        # Workers the server left behind (it was killed, or it crashed) go with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    examples: Annotated[Path, typer.Option(help="Folder of sample journals.")] = Path("examples"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load only.")] = False,
) -> None:
    """Load the sample journals (one user per folder), print an API key, and serve."""
    from ingest.store import get_user_by_name, issue_api_key

    c = common.container()
    keys = {}
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        uid = user_id(c, folder.name, create=True)
        report = c.importer.import_path(uid, folder)
        t = report.totals
        err.print(f"{folder.name}: {t['imported']} imported, {t['unchanged']} unchanged")
        with c.sessions() as session:
            u = get_user_by_name(session, folder.name)
            assert u is not None
            keys[folder.name] = issue_api_key(session, u)
            session.commit()
    url = f"http://{host}:{port}"
    print(f"trustlens journal: {url}/  (sign in with a demo API key below)")
    print(f"trustlens API: {url}/v1  (docs: {url}/docs, {url}/redoc)")
    for name, key in keys.items():
        print(f"demo API key for {name}: {key}")
    first = next(iter(keys.values()), "KEY")
    print(
        f"try: curl -s -X POST {url}/v1/ask -H 'Authorization: Bearer {first}' "
        "-H 'Content-Type: application/json' "
        '-d \'{"question": "what do I usually do when I feel betrayed?"}\''
    )
    sys.stdout.flush()
    c.close()
    if not no_serve:
        import uvicorn

        uvicorn.run("service.app:create_app", factory=True, host=host, port=port, access_log=False)


def register(app: typer.Typer) -> None:
    for fn in (serve, demo):
        app.command()(fn)
