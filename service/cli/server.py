"""``trustlens serve`` and ``trustlens demo``: the API, and the sample journals with keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from service.cli import common
from service.cli.common import err, user_id


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the versioned insight API and the web journal at / (docs at /docs)."""
    import uvicorn

    common.container().close()  # validate settings before starting workers
    # access_log off: the app writes its own JSON access log (route templates, no query).
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
    )


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
