"""``trustlens reflect``, ``practice``, ``episodes`` and ``progress``.

``--json`` prints exactly the API's response model, so a script and a frontend see the
same contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from service.cli.common import JsonOpt, UserOpt, err, out, print_citations, print_safety, setup


def reflect(
    situation: Annotated[str, typer.Argument(help="What is happening now, in your words.")],
    user: UserOpt,
    as_json: JsonOpt = False,
) -> None:
    """Which past episodes a present situation echoes, what is the same and what differs."""
    if not situation.strip():
        err.print("[red]The situation is empty.[/red]")
        raise typer.Exit(2)
    c, uid = setup(user)
    r = c.insight.reflect(uid, situation)
    if as_json:
        print(r.model_dump_json())
        return
    if r.safety:
        print_safety(r.safety)
        return
    if r.abstained:
        out.print("Nothing you have written so far clearly echoes this situation.")
    for e in r.echoes:
        out.print(f'[bold]{e.era}[/bold] {e.date}: "{e.quote}"', highlight=False)
    for title, items in (("Same", r.same), ("Different", r.different)):
        if items:
            out.print(f"\n[bold]{title}[/bold]")
            for s in items:
                out.print(f"- {s.statement}", highlight=False)
                print_citations(s.citations)
    out.print("\n[bold]Questions[/bold]")
    for q in r.questions:
        out.print(f"- {q}", highlight=False)


def practice(
    name: Annotated[
        str,
        typer.Argument(
            help="trust_history, pattern_recognition, trust_experiment or self_trust_rebuild."
        ),
    ],
    user: UserOpt,
    as_json: JsonOpt = False,
) -> None:
    """A guided practice, its questions personalised with your own entries."""
    c, uid = setup(user)
    p = c.insight.practice(uid, name)
    if as_json:
        print(p.model_dump_json())
        return
    out.print(f"[bold]{p.title}[/bold] — {p.purpose}", highlight=False)
    for i, q in enumerate(p.questions, 1):
        out.print(f"{i}. {q.question}", highlight=False)


def episodes(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Your episodes: what someone did, what you did about it and how it ended, quoted."""
    c, uid = setup(user)
    eps = c.insight.stored_episodes(uid)
    if as_json:
        data = [e.as_dict() for e in eps]
        print(json.dumps({"data": data, "count": len(data)}))
        return
    for e in eps:
        responses = ", ".join(r.label or "" for r in e.responses) or "-"
        out.print(f"{e.date} {e.entry_id}: by {e.by or '-'}; response {responses}")


def progress(
    user: UserOpt,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw it to this PNG.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Defensive patterns and repair signals per month, and the trend."""
    from service.insight.progress import plot_progress

    c, uid = setup(user)
    report = c.insight.progress(uid)
    if plot is not None:
        plot_progress(report, plot)
        err.print(f"Plot written to {plot}")
    if as_json:
        print(report.model_dump_json())
        return
    table = Table("month", "entries", "defensive", "repair", "experiments")
    for m in report.months:
        table.add_row(
            m.month,
            str(m.entries),
            str(sum(x.count for x in m.patterns.values())),
            str(sum(x.count for x in m.repair.values())),
            f"{m.experiments_planned} planned / {m.experiments_recorded} recorded",
        )
    out.print(table)
    out.print(f"Trend: {report.trend.direction}. {report.trend.summary}", highlight=False)


def register(app: typer.Typer) -> None:
    for fn in (reflect, practice, episodes, progress):
        app.command()(fn)
