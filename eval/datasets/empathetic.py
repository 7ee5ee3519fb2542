"""EmpatheticDialogues situation prompts (32 emotions), read from ``../shared/data``.

The data is CC BY-NC 4.0 and stays where it is: it is read in place, never copied into
the repository, and nothing fit on it ships in the package (see SOURCE.md there).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "empathetic_dialogues"
SPLITS = ("dev", "test")

# The emotions that bear on trust: being let down, losing someone, fearing it, blaming oneself.
TRUST_EMOTIONS = (
    "trusting",
    "faithful",
    "disappointed",
    "devastated",
    "jealous",
    "lonely",
    "apprehensive",
    "anxious",
    "angry",
    "furious",
    "ashamed",
    "guilty",
)


@dataclass(frozen=True)
class Situation:
    row: int  # 1-based data row in the CSV (the header is row 0)
    emotion: str
    text: str


def load_labels(data_dir: Path = DATA_DIR) -> dict[int, str]:
    raw = json.loads((data_dir / "labels.json").read_text(encoding="utf-8"))
    return {int(k): str(v) for k, v in raw.items()}


def load_split(split: str, data_dir: Path = DATA_DIR) -> list[Situation]:
    """All situations of ``split`` in file order; blank texts are left out."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    labels = load_labels(data_dir)
    out = []
    with (data_dir / f"{split}.csv").open(encoding="utf-8", newline="") as f:
        for i, rec in enumerate(csv.DictReader(f), start=1):
            text = rec["content"].strip()
            if text:
                out.append(Situation(row=i, emotion=labels[int(rec["label"])], text=text))
    return out
