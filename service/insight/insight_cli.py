"""CLI commands of the insight engine: write, reflect, practice, episodes, experiment,
progress. Registered on the main ``trustlens`` app by ``service.cli``.

``--json`` prints exactly the API's response model, so a script and a frontend see
the same contract.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True)
out = Console()

UserOpt = Annotated[str, typer.Option("--user", "-u", help="Whose journal.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]

experiment_app = typer.Typer(help="Plan trust experiments and record how they went.")


def _setup(user: str, create: bool = False) -> tuple[Any, str]:
    from service.cli import _container, _user_id

    c = _container()
    uid = _user_id(c, user, create=create)
    c.indexer.index_pending(uid)
    return c, uid


def _print_citations(cites: list[Any]) -> None:
    for ct in cites:
        out.print(f'    [dim]{ct.date} ({ct.entry_id}): "{ct.quote}"[/dim]', highlight=False)


def _print_safety(safety: Any) -> None:
    out.print(f"[bold]{safety.message}[/bold]", highlight=False)
    for r in safety.resources:
        out.print(f"  - {r.name}: {r.contact}" + (f" ({r.url})" if r.url else ""))


def write(
    user: UserOpt,
    date: Annotated[str | None, typer.Option(help="The entry's date (default: today).")] = None,
    tags: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeatable).")] = None,
    entry_id: Annotated[
        str | None, typer.Option("--id", help="Entry id (default: derived).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an entry (from stdin, or in $EDITOR when stdin is a terminal) and get
    follow-up questions grounded in what you wrote before."""
    from service.entries.entries_service import EntryInvalid, save_entry

    if sys.stdin.isatty():
        text = click.edit("\n# Write your entry above. Lines starting with # are dropped.\n")
        text = "\n".join(
            line for line in (text or "").splitlines() if not line.startswith("# ")
        ).strip()
    else:
        text = sys.stdin.read().strip()
    if not text:
        err.print("[red]The entry is empty: nothing was saved.[/red]")
        raise typer.Exit(2)
    c, uid = _setup(user, create=True)
    try:
        saved = save_entry(
            c,
            uid,
            id=entry_id,
            date=date or dt.date.today().isoformat(),
            text=text,
            tags=list(tags or []),
        )
    except EntryInvalid as e:
        err.print(f"[red]Invalid {e.field}: {e.reason}[/red]")
        raise typer.Exit(2) from None
    result = _saved_with_followups(c, uid, saved)
    if as_json:
        print(json.dumps(result, default=str))
        return
    out.print(f"Saved entry {saved.entry.entry_id} ({saved.entry.date}).")
    safety = result.get("safety")
    if safety:
        out.print(f"[bold]{safety['message']}[/bold]", highlight=False)
        for r in safety["resources"]:
            out.print(f"  - {r['name']}: {r['contact']}")
        return
    for f in result["followups"]:
        out.print(f"- {f['question']}", highlight=False)


def _saved_with_followups(c: Any, uid: str, saved: Any) -> dict[str, Any]:
    """The saved entry, its safety check and its follow-up questions, as the API sends them."""
    safety = _crisis(saved.entry.text, c)
    result: dict[str, Any] = {
        "entry_id": saved.entry.entry_id,
        "date": saved.entry.date.isoformat(),
        "status": saved.status,
        "indexed": saved.indexed,
        "safety": safety.model_dump() if safety else None,
        "followups": [],
    }
    if safety is None:
        result["followups"] = [
            f.model_dump() for f in c.insight_service.followups(uid, saved.entry.entry_id)
        ]
    return result


def _crisis(text: str, c: Any) -> Any:
    return c.detect_crisis(text)


def reflect(
    situation: Annotated[str, typer.Argument(help="What is happening now, in your words.")],
    user: UserOpt,
    as_json: JsonOpt = False,
) -> None:
    """Which past episodes a present situation echoes, what is the same and what differs."""
    if not situation.strip():
        err.print("[red]The situation is empty.[/red]")
        raise typer.Exit(2)
    c, uid = _setup(user)
    r = c.insight_service.reflect(uid, situation)
    if as_json:
        print(r.model_dump_json())
        return
    if r.safety:
        _print_safety(r.safety)
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
                _print_citations(s.citations)
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
    from service.insight.practices import UnknownPractice, practice_names

    c, uid = _setup(user)
    try:
        p = c.insight_service.practice(uid, name)
    except UnknownPractice:
        err.print(f"[red]No practice {name!r}. Known: {', '.join(practice_names())}[/red]")
        raise typer.Exit(2) from None
    if as_json:
        print(p.model_dump_json())
        return
    out.print(f"[bold]{p.title}[/bold] — {p.purpose}", highlight=False)
    for i, q in enumerate(p.questions, 1):
        out.print(f"{i}. {q.question}", highlight=False)


def episodes(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Your episodes: trigger → feeling → response → outcome, quoted from each entry."""
    c, uid = _setup(user)
    eps = c.insight_service.episodes(uid)
    data = [e.as_dict() for e in eps]
    if as_json:
        print(json.dumps({"data": data, "count": len(data)}))
        return
    for e in eps:
        responses = ", ".join(r.label or "" for r in e.responses) or "-"
        feeling = e.feeling.label if e.feeling else "-"
        out.print(f"{e.date} {e.entry_id}: feeling {feeling}; response {responses}")


def progress(
    user: UserOpt,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw it to this PNG.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Defensive patterns and repair signals per month, and the trend."""
    from service.insight.progress import plot_progress

    c, uid = _setup(user)
    report = c.insight_service.progress(uid)
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


@experiment_app.command("plan")
def experiment_plan(
    user: UserOpt,
    who: Annotated[str, typer.Option(help="Who you place the trust in.")],
    risk: Annotated[str, typer.Option(help="The small trust risk you will take.")],
    success: Annotated[str, typer.Option(help="What would count as success.")],
    when: Annotated[str | None, typer.Option(help="Planned date, YYYY-MM-DD.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a trust experiment: who, what small risk, what would count as success."""
    from pydantic import ValidationError

    from service.insight.experiments import ExperimentCreate, ExperimentPublic, UserExperiments

    try:
        spec = ExperimentCreate(who=who, risk=risk, success=success, planned_for=when)  # type: ignore[arg-type]
    except ValidationError as e:
        err.print(f"[red]{_first_error(e)}[/red]")
        raise typer.Exit(2) from None
    c, uid = _setup(user, create=True)
    with c.sessions() as session:
        x = UserExperiments(session, uid).plan(spec)
        session.commit()
        pub = ExperimentPublic.of(x)
    print(pub.model_dump_json()) if as_json else out.print(f"Planned experiment {pub.id}.")


@experiment_app.command("record")
def experiment_record(
    experiment_id: Annotated[str, typer.Argument(help="The id printed when it was planned.")],
    user: UserOpt,
    outcome: Annotated[str, typer.Option(help="as_hoped, mixed or not_as_hoped.")],
    note: Annotated[str | None, typer.Option(help="What happened.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record how a planned experiment went."""
    from pydantic import ValidationError

    from service.insight.experiments import (
        ExperimentNotFound,
        ExperimentOutcome,
        ExperimentPublic,
        UserExperiments,
    )

    try:
        result = ExperimentOutcome(outcome=outcome, note=note)  # type: ignore[arg-type]
    except ValidationError as e:
        err.print(f"[red]{_first_error(e)}[/red]")
        raise typer.Exit(2) from None
    c, uid = _setup(user)
    with c.sessions() as session:
        try:
            x = UserExperiments(session, uid).record(experiment_id, result)
        except ExperimentNotFound:
            err.print(f"[red]No experiment {experiment_id!r} for {user}.[/red]")
            raise typer.Exit(1) from None
        session.commit()
        pub = ExperimentPublic.of(x)
    print(pub.model_dump_json()) if as_json else out.print(f"Recorded: {pub.outcome}.")


@experiment_app.command("list")
def experiment_list(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Your trust experiments, planned and done."""
    from service.insight.experiments import ExperimentPublic, ExperimentsPublic, UserExperiments

    c, uid = _setup(user)
    with c.sessions() as session:
        data = [ExperimentPublic.of(x) for x in UserExperiments(session, uid).all()]
    if as_json:
        print(ExperimentsPublic(data=data, count=len(data)).model_dump_json())
        return
    for x in data:
        out.print(f"{x.id} [{x.status}] {x.who}: {x.risk} → {x.outcome or '-'}", highlight=False)


def _first_error(e: Any) -> str:
    p = e.errors()[0]
    return f"{'.'.join(str(x) for x in p['loc'])}: {p['msg']}"


def register(app: typer.Typer) -> None:
    for fn in (write, reflect, practice, episodes, progress):
        app.command()(fn)
    app.add_typer(experiment_app, name="experiment")
