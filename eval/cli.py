"""``trustlens eval ...`` and ``trustlens bench ...``.

Each command prints a readable table, or one JSON object with ``--json``, and writes its
results (with settings and versions) under ``eval/results/``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

eval_app = typer.Typer(help="Measure quality on real and labelled data.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed and memory against baselines.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def emit(
    name: str, payload: dict[str, Any], config: dict[str, Any], as_json: bool, table: Table | None
) -> None:
    """Write the result file, then print JSON or the table."""
    from eval.results import write_result

    path = write_result(name, payload, config)
    if as_json:
        print(json.dumps({**payload, "config": config, "results_file": str(path)}))
    else:
        if table is not None:
            out.print(table)
        out.print(f"results: {path}")


@eval_app.command("journal")
def eval_journal(as_json: JsonOpt = False) -> None:
    """Answers on the labelled development journals (eval/datasets/journal_dev.json)."""
    from eval.journal_eval import DATASET, evaluate_answers, ingest_journals, load_dataset
    from service.container import Container
    from service.settings import Settings

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        c = Container(settings)
        ds = load_dataset()
        result = evaluate_answers(c, ds, ingest_journals(c, ds, root))
        c.close()
    config = {
        "dataset": str(DATASET.relative_to(root)),
        "embedding_model": "packaged MiniLM",
        "chunk_max_words": settings.chunk_max_words,
        "llm": settings.llm,
    }
    table = Table("id", "question", "abstained", "precision", "recall", "verbatim")
    for r in result["questions"]:
        table.add_row(
            r["id"],
            r["question"][:50],
            str(r["abstained"]),
            _fmt(r["precision"]),
            _fmt(r["recall"]),
            _fmt(r["verbatim"]),
        )
    for k, v in result["summary"].items():
        table.add_row("", k, "", _fmt(v), "", "")
    emit("journal", result, config, as_json, table)


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if isinstance(v, float) else str(v)
