"""``trustlens patterns`` and ``trustlens label confirm|reject|clear``.

``--json`` prints exactly what ``GET /v1/patterns`` returns."""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer
from rich.table import Table

from service.cli.common import JsonOpt, UserOpt, out, setup

EntryArg = Annotated[str, typer.Argument(help="The entry's id.")]
LabelArg = Annotated[str, typer.Argument(help="A label, e.g. avoidance or self_trust.")]

label_app = typer.Typer(help="Confirm, reject or clear a label on one of your entries.")


def patterns(user: UserOpt, as_json: JsonOpt = False) -> None:
    """Your trust patterns and repair signals: how many entries show each, with quotes."""
    c, uid = setup(user)
    report = c.patterns.patterns_report(uid)
    c.close()
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    table = Table("label", "entries", "example")
    for name, p in report["patterns"].items():
        ex = p["examples"][0] if p["examples"] else None
        table.add_row(name, str(p["count"]), f'{ex["date"]} "{ex["quote"]}"' if ex else "-")
    out.print(table)


def _verdict(
    entry_id: str, label: str, user: str, verdict: Literal["confirm", "reject"] | None
) -> None:
    c, uid = setup(user)
    try:
        result = c.patterns.correct(uid, entry_id, label, verdict)
    finally:
        c.close()
    labels = ", ".join(f"{x['label']} ({x['source']})" for x in result["labels"]) or "none"
    out.print(f"{entry_id}: {labels}", highlight=False)


@label_app.command("confirm")
def confirm(entry_id: EntryArg, label: LabelArg, user: UserOpt) -> None:
    """The label is right: keep it, whatever the model says."""
    _verdict(entry_id, label, user, "confirm")


@label_app.command("reject")
def reject(entry_id: EntryArg, label: LabelArg, user: UserOpt) -> None:
    """The label is wrong: remove it everywhere, including search filters."""
    _verdict(entry_id, label, user, "reject")


@label_app.command("clear")
def clear(entry_id: EntryArg, label: LabelArg, user: UserOpt) -> None:
    """Forget your verdict: the model decides again."""
    _verdict(entry_id, label, user, None)


def register(app: typer.Typer) -> None:
    app.command("patterns")(patterns)
    app.add_typer(label_app, name="label")
