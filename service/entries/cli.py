"""``trustlens ingest``, ``write`` and ``reindex``: entries from files, from the keyboard,
and the index rebuilt from the store."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from service.cli import common
from service.cli.common import JsonOpt, UserOpt, err, out, print_safety, setup, user_id


def ingest(
    path: Annotated[Path, typer.Argument(help="A file or folder of journal entries.")],
    user: Annotated[str, typer.Option("--user", "-u", help="Whose journal (created if new).")],
    as_json: JsonOpt = False,
) -> None:
    """Import journal entries (JSONL/JSON, Markdown/text, Day One, CSV) and index them."""
    from ingest.readers import read_path

    c = common.container()
    uid = user_id(c, user, create=True)
    reads = read_path(path)
    total = sum(len(r.entries) for r in reads)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=total < 20,
    ) as bar:
        task = bar.add_task("importing", total=total)
        state: dict[str, int] = {}

        def tick(file: str, done: int, _total: int) -> None:
            bar.advance(task, done - state.get(file, 0))
            state[file] = done

        report = c.importer.import_reads(uid, reads, tick)
    if as_json:
        print(json.dumps(report.as_dict()))
    else:
        table = Table("file", "imported", "updated", "unchanged", "rejected", "problem")
        for f in report.files:
            problems = f.error or "; ".join(f"{r.source}: {r.reason}" for r in f.rejected)
            table.add_row(
                f.path,
                str(f.imported),
                str(f.updated),
                str(f.unchanged),
                str(len(f.rejected)),
                problems,
            )
        out.print(table)
        t = report.totals
        out.print(
            f"{t['imported']} imported, {t['updated']} updated, {t['unchanged']} unchanged, "
            f"{t['rejected']} rejected, {t['failed_files']} unreadable files; "
            f"{t['indexed']} entries indexed."
        )
    if report.files and all(f.error for f in report.files):
        raise typer.Exit(1)


def _read_text() -> str:
    if sys.stdin.isatty():
        text = click.edit("\n# Write your entry above. Lines starting with # are dropped.\n")
        return "\n".join(
            line for line in (text or "").splitlines() if not line.startswith("# ")
        ).strip()
    return sys.stdin.read().strip()


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
    text = _read_text()
    if not text:
        err.print("[red]The entry is empty: nothing was saved.[/red]")
        raise typer.Exit(2)
    c, uid = setup(user, create=True)
    w = c.entries.create(
        uid,
        id=entry_id,
        date=date or dt.date.today().isoformat(),
        text=text,
        tags=list(tags or []),
    )
    if as_json:
        result = {
            "entry_id": w.saved.entry.entry_id,
            "date": w.saved.entry.date.isoformat(),
            "status": w.saved.status,
            "indexed": w.saved.indexed,
            "safety": w.safety.model_dump() if w.safety else None,
            "followups": [f.model_dump() for f in w.followups],
        }
        print(json.dumps(result, default=str))
        return
    out.print(f"Saved entry {w.saved.entry.entry_id} ({w.saved.entry.date}).")
    if w.safety:
        print_safety(w.safety)
        return
    for f in w.followups:
        out.print(f"- {f.question}", highlight=False)


def reindex(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
) -> None:
    """Rebuild the vector index from the entry store (stored embeddings are reused)."""
    c = common.container()
    uid = user_id(c, user, create=False) if user else None
    n = c.indexer.reindex(uid)
    out.print(f"Reindexed {n} entries.")


def register(app: typer.Typer) -> None:
    for fn in (ingest, write, reindex):
        app.command()(fn)
