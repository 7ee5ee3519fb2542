"""``trustlens mcp``: the MCP server over stdio, for one person on the local store (the way
desktop assistants start local servers). stdout carries the protocol only; messages go to
stderr."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli import common
from service.cli.common import UserOpt


def mcp(
    user: UserOpt,
    allow_write: Annotated[
        bool,
        typer.Option("--allow-write", help="List the write_entry tool (saves new entries)."),
    ] = False,
    max_quotes: Annotated[
        int | None,
        typer.Option(
            "--max-quotes",
            min=1,
            max=1000,
            help="Most verbatim quotes one call returns (default: TRUSTLENS_MCP_MAX_QUOTES, 10).",
        ),
    ] = None,
) -> None:
    """Serve MCP over stdio for one person: ask, search, patterns, reflect, practice,
    progress (and write_entry with --allow-write), entry://{id}, a prompt per practice."""
    from service.mcp.router import build_server

    c, uid = common.setup(user)
    if max_quotes is not None:
        c.settings.mcp_max_quotes = max_quotes
    server = build_server(c.mcp, lambda: uid, allow_write=allow_write or c.settings.mcp_allow_write)
    try:
        server.run("stdio")
    finally:
        c.close()


def register(app: typer.Typer) -> None:
    app.command("mcp")(mcp)
