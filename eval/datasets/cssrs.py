"""C-SSRS-labelled forum posts (development split), read from ``../shared/data/cssrs``.

Patil, Tao and Gedhu, "Evaluating Reasoning LLMs for Suicide Screening with the
Columbia-Suicide Severity Rating Scale" (arXiv:2505.13480, 2025), CC BY 4.0. These are
real people's words about suicide: they are read in place, never copied into the
repository, and never printed or logged; results name rows by their ``id`` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "cssrs"
SPLITS = ("dev",)
LEVELS = tuple(range(7))  # 0 none .. 6 behaviour (attempt, interrupted, preparation)
CRISIS_FROM = 4  # intent, plan or behaviour: the answer is replaced
CONCERN_FROM = 1  # a wish to be dead or more: resources at least


@dataclass(frozen=True)
class Post:
    id: str
    text: str
    severity: int

    @property
    def crisis(self) -> bool:
        """The gate's ``crisis`` band: level 4 or more (level 6 is any attempt or
        preparation, so it is included)."""
        return self.severity >= CRISIS_FROM

    @property
    def concern(self) -> bool:
        """At least ``concern``: levels 1 to 3 (and crisis, which is more)."""
        return self.severity >= CONCERN_FROM


def fold_of(post_id: str, folds: int) -> int:
    """A stable fold from the id (itself a hash of the text)."""
    return int(post_id.rsplit("-", 1)[-1], 16) % folds


def load_split(split: str = "dev", data_dir: Path = DATA_DIR) -> list[Post]:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    out = []
    path = data_dir / f"{split}.jsonl"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        severity = int(r["severity"])
        if severity not in LEVELS:
            raise ValueError(f"{path.name}:{n}: severity {severity} is not a C-SSRS level")
        out.append(Post(id=str(r["id"]), text=str(r["text"]), severity=severity))
    return out
