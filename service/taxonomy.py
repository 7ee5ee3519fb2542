"""The trust taxonomy, loaded from its versioned data file under ``prompts/taxonomy``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

GROUPS = ("patterns", "repair", "emotions")


@dataclass(frozen=True)
class Label:
    name: str
    group: str  # patterns | repair | emotions
    definition: str
    examples: tuple[str, ...]
    cues: tuple[str, ...]


@lru_cache
def load_taxonomy(version: str = "v1") -> dict[str, Label]:
    path = resources.files("prompts").joinpath("taxonomy", version, "taxonomy.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    labels: dict[str, Label] = {}
    for group in GROUPS:
        for name, spec in (data.get(group) or {}).items():
            labels[name] = Label(
                name=name,
                group=group,
                definition=str(spec["definition"]),
                examples=tuple(spec.get("examples") or ()),
                cues=tuple(c.lower() for c in spec.get("cues") or ()),
            )
    return labels
