"""Write evaluation and benchmark results with the settings and versions that produced them.

Every figure we quote should be traceable to a file here: what ran, on which data, with
which model, library versions and thresholds.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"
_PACKAGES = (
    "trustlens",
    "sentence-transformers",
    "torch",
    "chromadb",
    "langchain-core",
    "bm25s",
    "sqlalchemy",
    "numpy",
)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_result(
    name: str, payload: dict[str, Any], config: dict[str, Any], results_dir: Path = RESULTS_DIR
) -> Path:
    """Save ``payload`` as ``<results_dir>/<name>-<UTC timestamp>.json``; returns the path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    path = results_dir / f"{name}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    doc = {"name": name, "at": now.isoformat(), "config": config, "versions": versions(), **payload}
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    return path
