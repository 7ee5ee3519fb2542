"""``trustlens safety check FILE``: the safety gate over a file of texts, so it can be
measured from outside on any data (JSON Lines of ``{"id", "text"}``).

Prints ``{"results": [{"id", "level"}]}`` with ``--json`` (level ``"crisis"``,
``"concern"`` or null), else one line per text. The texts themselves are never printed
or logged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from service.cli import common
from service.cli.common import JsonOpt, err, out

safety_app = typer.Typer(help="The safety gate, from the command line.", no_args_is_help=True)


def read_rows(path: Path) -> list[tuple[str, str]]:
    """``(id, text)`` per line; a line that is not ``{"id", "text"}`` stops with its number."""
    rows: list[tuple[str, str]] = []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as e:
        err.print(f"[red]Cannot read {str(path)!r}: {type(e).__name__}[/red]")
        raise typer.Exit(2) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row: Any = json.loads(line)
        except ValueError:
            row = None
        if not (isinstance(row, dict) and isinstance(row.get("text"), str) and "id" in row):
            err.print(f'[red]line {number}: expected {{"id": ..., "text": "..."}}[/red]')
            raise typer.Exit(2)
        rows.append((str(row["id"]), row["text"]))
    return rows


@safety_app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help='JSON Lines of {"id", "text"}.')],
    as_json: JsonOpt = False,
) -> None:
    """The level the safety gate gives each text: crisis, concern or none."""
    rows = read_rows(path)
    c = common.container()
    try:
        results = []
        for rid, text in rows:
            safety = c.gate.check(text, "entry")
            results.append({"id": rid, "level": safety.level if safety else None})
    finally:
        c.close()
    if as_json:
        print(json.dumps({"results": results}))
        return
    for r in results:
        out.print(f"{r['id']}\t{r['level'] or '-'}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(safety_app, name="safety")
