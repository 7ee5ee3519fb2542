"""The ``trustlens`` command line: ingest, ask, reindex, serve, demo.

JSON printed with ``--json`` is a contract other tools rely on (see the README); human
output goes through rich. Journal text is printed only when the person asked for it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

if TYPE_CHECKING:
    from service.container import Container
    from service.safety.detector import Safety

app = typer.Typer(
    help="trustlens: insight into trust, answered from your own journal.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
out = Console()


def _register_eval() -> None:
    from eval.cli import bench_app, eval_app

    app.add_typer(eval_app, name="eval")
    app.add_typer(bench_app, name="bench")


_register_eval()


def _register_insight() -> None:
    from service.insight.insight_cli import register

    register(app)


_register_insight()


def _register_patterns() -> None:
    from service.patterns.patterns_cli import register

    register(app)


_register_patterns()

UserOpt = Annotated[str, typer.Option("--user", "-u", help="Whose journal (created if new).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def _container() -> Container:
    from service.settings import Settings

    try:
        settings = Settings()
    except ValidationError as e:
        for problem in e.errors():
            loc = "_".join(str(p) for p in problem["loc"]).upper()
            where = f"setting TRUSTLENS_{loc}" if loc else "settings"
            msg = str(problem["msg"]).removeprefix("Value error, ")
            err.print(f"[red]Invalid {where}:[/red] {msg}", highlight=False)
        raise typer.Exit(2) from None
    # Imported once the settings are valid: it loads chromadb, torch and langchain.
    from service.container import Container

    return Container(settings)


def _date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{flag} must be a date like 2024-03-02, got {value!r}[/red]")
        raise typer.Exit(2) from None


def _user_id(c: Container, name: str, create: bool) -> str:
    from ingest.store import get_or_create_user, get_user_by_name

    with c.sessions() as session:
        user = get_or_create_user(session, name) if create else get_user_by_name(session, name)
        if user is None:
            err.print(f"[red]No user named {name!r}. Import a journal first.[/red]")
            raise typer.Exit(1)
        session.commit()
        return user.id


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file or folder of journal entries.")],
    user: UserOpt,
    as_json: JsonOpt = False,
) -> None:
    """Import journal entries (JSONL/JSON, Markdown/text, Day One, CSV) and index them."""
    from ingest.readers import read_path

    c = _container()
    uid = _user_id(c, user, create=True)
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


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question, in your own words.")],
    user: UserOpt,
    since: Annotated[str | None, typer.Option(help="Only entries on/after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Only entries on/before YYYY-MM-DD.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask a question; the answer quotes your own dated entries, or says it found nothing."""
    s, u = _date(since, "--since"), _date(until, "--until")
    if s and u and s > u:
        err.print(f"[red]--since ({s}) must not be after --until ({u})[/red]")
        raise typer.Exit(2)
    if not question.strip():
        err.print("[red]The question is empty.[/red]")
        raise typer.Exit(2)
    c = _container()
    uid = _user_id(c, user, create=False)
    c.indexer.index_pending(uid)
    resp = c.ask_service.ask(uid, question, since=s, until=u)
    if as_json:
        print(resp.model_dump_json())
    else:
        if resp.safety is not None:
            print_safety(resp.safety)
        if resp.safety is None or resp.safety.level != "crisis":
            out.print(resp.answer, highlight=False)


def print_safety(safety: Safety) -> None:
    """The safety message and resources, first and framed, so they cannot be missed."""
    from rich.panel import Panel

    lines = [safety.message, ""]
    for r in safety.resources:
        lines.append(f"• {r.name}: {r.contact}" + (f"  {r.url}" if r.url else ""))
    out.print(Panel("\n".join(lines), title="You matter", border_style="yellow"))


@app.command()
def reindex(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
) -> None:
    """Rebuild the vector index from the entry store (stored embeddings are reused)."""
    c = _container()
    uid = _user_id(c, user, create=False) if user else None
    n = c.indexer.reindex(uid)
    out.print(f"Reindexed {n} entries.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the versioned insight API (OpenAPI docs at /docs)."""
    import uvicorn

    _container().close()  # validate settings before starting workers
    # access_log off: the app writes its own JSON access log (route templates, no query).
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    examples: Annotated[Path, typer.Option(help="Folder of sample journals.")] = Path("examples"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Load only.")] = False,
) -> None:
    """Load the sample journals (one user per folder), print an API key, and serve."""
    from ingest.store import get_user_by_name, issue_api_key

    c = _container()
    keys = {}
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        uid = _user_id(c, folder.name, create=True)
        report = c.importer.import_path(uid, folder)
        t = report.totals
        err.print(f"{folder.name}: {t['imported']} imported, {t['unchanged']} unchanged")
        with c.sessions() as session:
            u = get_user_by_name(session, folder.name)
            assert u is not None
            keys[folder.name] = issue_api_key(session, u)
            session.commit()
    url = f"http://{host}:{port}"
    print(f"trustlens API: {url}  (docs: {url}/docs)")
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

        uvicorn.run(
            "service.app:create_app", factory=True, host=host, port=port, access_log=False
        )


if __name__ == "__main__":  # pragma: no cover
    app()
