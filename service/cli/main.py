"""The ``trustlens`` app: every feature's commands, and the commands of plugins.

Each feature registers its own commands (``service/<feature>/cli.py``); packages that
extend the CLI (the evaluation and benchmark commands in ``eval/``) do so through the
``trustlens.cli`` entry point group, so nothing in ``service/`` imports them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from service.ask import cli as ask_cli
from service.cli import server
from service.cli.common import CommandGroup
from service.db import cli as db_cli
from service.entries import cli as entries_cli
from service.experiments import cli as experiments_cli
from service.heap import reexec_wiping
from service.insight import cli as insight_cli
from service.mcp import cli as mcp_cli
from service.patterns import cli as patterns_cli
from service.safety import cli as safety_cli

app = typer.Typer(
    cls=CommandGroup,
    help="trustlens: insight into trust, answered from your own journal.",
    no_args_is_help=True,
    add_completion=False,
)

for module in (
    entries_cli,
    ask_cli,
    insight_cli,
    patterns_cli,
    experiments_cli,
    safety_cli,
    server,
    mcp_cli,
    db_cli,
):
    module.register(app)

for plugin in entry_points(group="trustlens.cli"):
    plugin.load()(app)


def main() -> None:
    """The ``trustlens`` command: re-executed once so that freed memory is wiped
    (``service.heap``), then the app."""
    reexec_wiping()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
