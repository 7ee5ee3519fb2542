"""``trustlens ask``: the same answer as ``POST /v1/ask``."""

from __future__ import annotations

from typing import Annotated

import typer

from service.cli.common import JsonOpt, UserOpt, err, out, parse_date, print_safety, setup


def ask(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    user: UserOpt,
    since: Annotated[str | None, typer.Option(help="Only entries on/after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Only entries on/before YYYY-MM-DD.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a question; the answer quotes your own dated entries, or says it found nothing."""
    s, u = parse_date(since, "--since"), parse_date(until, "--until")
    if s and u and s > u:
        err.print(f"[red]--since ({s}) must not be after --until ({u})[/red]")
        raise typer.Exit(2)
    if not question.strip():
        err.print("[red]The question is empty.[/red]")
        raise typer.Exit(2)
    c, uid = setup(user)
    resp = c.ask.ask(uid, question, since=s, until=u)
    if as_json:
        print(resp.model_dump_json())
        return
    if resp.safety is not None:
        print_safety(resp.safety)
    if resp.safety is None or resp.safety.level != "crisis":
        out.print(resp.answer, highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(ask)
