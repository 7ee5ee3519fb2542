"""What every command shares: the user and JSON options, building the container from
valid settings, resolving the user, and printing safety notices and errors one way.

JSON printed with ``--json`` is a contract other tools rely on (see the README); human
output goes through rich. Journal text is printed only when the person asked for it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from service.errors import DomainError

if TYPE_CHECKING:
    from service.container import Container
    from service.safety.schemas import Safety

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


def container() -> Container:
    """The container, from settings that are checked first (a bad setting is named)."""
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
