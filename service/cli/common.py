"""What every command shares: the user and JSON options, building the container from
valid settings, resolving the user, and printing safety notices and errors one way.

JSON printed with ``--json`` is a contract other tools rely on (see the README); human
output goes through rich. Journal text is printed only when the person asked for it.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from service.errors import DomainError

if TYPE_CHECKING:
    from service.container import Container
    from service.safety.schemas import Safety
    from service.settings import Settings

err = Console(stderr=True)
out = Console()

UserOpt = Annotated[str, typer.Option("--user", "-u", help="Whose journal.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


class CommandGroup(TyperGroup):
    """The top-level group: a service's refusal (``DomainError``) is printed as one red
    line and ends the command with its exit code, in every command, the same way."""

    # The parameter type is the Context of the click that typer vendors.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except DomainError as e:
            err.print(f"[red]{e.detail}[/red]", highlight=False)
            raise typer.Exit(e.exit_code) from None


def settings() -> Settings:
    """The settings from the environment, or one red line per bad setting and exit 2."""
    from service.settings import Settings

    try:
        return Settings()
    except ValidationError as e:
        for problem in e.errors():
            loc = "_".join(str(p) for p in problem["loc"]).upper()
            where = f"setting TRUSTLENS_{loc}" if loc else "settings"
            msg = str(problem["msg"]).removeprefix("Value error, ")
            err.print(f"[red]Invalid {where}:[/red] {msg}", highlight=False)
        raise typer.Exit(2) from None


def _startup_error(what: str, fix: str) -> typer.Exit:
    """A start-up failure as two lines (what, with the setting and the path; the fix),
    never a traceback, and exit code 2."""
    err.print(f"[red]{what}[/red]", highlight=False, soft_wrap=True)
    err.print(f"Fix: {fix}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def check_data_dir(settings: Settings) -> None:
    """The data folder can be created and written (a small file is written, synced and
    removed), or a two-line error naming TRUSTLENS_DATA_DIR, the folder and the fix."""
    if not settings.uses_data_dir:
        return
    path = settings.data_dir
    probe = path / f".write-check-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * 4096)
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as e:
        why = e.strerror or type(e).__name__
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            fix = f"free space on the disk of {path}, or set TRUSTLENS_DATA_DIR elsewhere."
        else:
            fix = f"make {path} writable, or set TRUSTLENS_DATA_DIR to a writable folder."
        raise _startup_error(
            f"Cannot write the data folder {path} (TRUSTLENS_DATA_DIR): {why}.", fix
        ) from None


def _database_error(settings: Settings, e: Exception) -> typer.Exit:
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url).render_as_string(hide_password=True)
    orig = getattr(e, "orig", None) or e
    why = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:200]
    setting = "TRUSTLENS_DATABASE_URL" if settings.database_url else "TRUSTLENS_DATA_DIR"
    fix = (
        "start the database server, or correct TRUSTLENS_DATABASE_URL."
        if settings.database_url
        else f"check that {settings.data_dir} holds a trustlens database and is writable."
    )
    return _startup_error(f"Cannot open the database {url} ({setting}): {why}", fix)


def container() -> Container:
    """The container, from settings that are checked first (a bad setting is named),
    with a writable data folder and a database that answers; each failure is told in
    two lines (the setting, the path or URL, the fix), never as a traceback."""
    s = settings()
    check_data_dir(s)
    # Imported once the settings are valid: it loads chromadb, torch and langchain.
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from service.container import Container

    try:
        return Container(s)
    except (DBAPIError, SQLAlchemyError) as e:
        raise _database_error(s, e) from None


def user_id(c: Container, name: str, create: bool) -> str:
    from ingest.store import get_or_create_user, get_user_by_name

    with c.sessions() as session:
        user = get_or_create_user(session, name) if create else get_user_by_name(session, name)
        if user is None:
            err.print(f"[red]No user named {name!r}. Import a journal first.[/red]")
            raise typer.Exit(1)
        session.commit()
        return user.id


def setup(user: str, create: bool = False) -> tuple[Container, str]:
    """The container and the user's id, with anything committed but unindexed indexed."""
    c = container()
    uid = user_id(c, user, create=create)
    c.indexer.index_pending(uid)
    return c, uid


def parse_date(value: str | None, flag: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{flag} must be a date like 2024-03-02, got {value!r}[/red]")
        raise typer.Exit(2) from None


def print_safety(safety: Safety) -> None:
    """The safety message and resources, first and framed, so they cannot be missed."""
    from rich.panel import Panel

    lines = [safety.message, ""]
    for r in safety.resources:
        lines.append(f"• {r.name}: {r.contact}" + (f"  {r.url}" if r.url else ""))
    out.print(Panel("\n".join(lines), title="You matter", border_style="yellow"))


def print_citations(cites: list[Any]) -> None:
    for ct in cites:
        out.print(f'    [dim]{ct.date} ({ct.entry_id}): "{ct.quote}"[/dim]', highlight=False)


def first_error(e: ValidationError) -> str:
    p = e.errors()[0]
    return f"{'.'.join(str(x) for x in p['loc'])}: {p['msg']}"
