"""The trust taxonomy, loaded from its versioned data file under ``prompts/taxonomy``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from prompts import load_yaml

GROUPS = ("patterns", "repair", "emotions")


@dataclass(frozen=True)
class Label:
    name: str
    group: str  # patterns | repair | emotions
    definition: str
    examples: tuple[str, ...]
    cues: tuple[str, ...]


@lru_cache
def load_taxonomy(version: str | None = None) -> dict[str, Label]:
    data = load_yaml("taxonomy", "taxonomy.yaml", version)
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


@dataclass(frozen=True)
class Emotion:
    """One emotion of the lexicon (``prompts/emotions``): what it means, how it is named
    (``cues``: word stems) and example situations used as retrieval prototypes."""

    name: str
    definition: str
    cues: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class EmotionLexicon:
    version: int
    expansion_weight: float  # how much the examples count against a "felt X" question
    emotions: dict[str, Emotion]


@lru_cache
def load_emotions(version: str | None = None) -> EmotionLexicon:
    data = load_yaml("emotions", "emotions.yaml", version)
    emotions = {
        str(name).lower(): Emotion(
            name=str(name).lower(),
            definition=str(spec["definition"]),
            cues=tuple(str(c).lower() for c in spec.get("cues") or ()),
            examples=tuple(str(x) for x in spec.get("examples") or ()),
        )
        for name, spec in (data.get("emotions") or {}).items()
    }
    return EmotionLexicon(
        version=int(data.get("version", 1)),
        expansion_weight=float(data.get("expansion_weight", 0.5)),
        emotions=emotions,
    )
