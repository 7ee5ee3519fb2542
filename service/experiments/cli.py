"""``trustlens experiment plan|record|list``: trust experiments from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from service.cli.common import JsonOpt, UserOpt, err, first_error, out, setup
from service.experiments.schemas import ExperimentCreate, ExperimentOutcome

experiment_app = typer.Typer(help="Plan trust experiments and record how they went.")


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
    try:
        spec = ExperimentCreate(who=who, risk=risk, success=success, planned_for=when)  # type: ignore[arg-type]
    except ValidationError as e:
        err.print(f"[red]{first_error(e)}[/red]")
        raise typer.Exit(2) from None
    c, uid = setup(user, create=True)
    pub = c.experiments.plan(uid, spec)
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
    try:
        result = ExperimentOutcome(outcome=outcome, note=note)  # type: ignore[arg-type]
    except ValidationError as e:
        err.print(f"[red]{first_error(e)}[/red]")
        raise typer.Exit(2) from None
    c, uid = setup(user)
    pub = c.experiments.record(uid, experiment_id, result)
    print(pub.model_dump_json()) if as_json else out.print(f"Recorded: {pub.outcome}.")


@experiment_app.command("list")
def experiment_list(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Your trust experiments, planned and done."""
    c, uid = setup(user)
    listed = c.experiments.list(uid)
    if as_json:
        print(listed.model_dump_json())
        return
    for x in listed.data:
        out.print(f"{x.id} [{x.status}] {x.who}: {x.risk} → {x.outcome or '-'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(experiment_app, name="experiment")
