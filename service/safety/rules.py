"""The crisis rules, loaded from their versioned data file ``prompts/safety/<v>/crisis.yaml``.

Phrases, cues, messages and resources live in that one file (not in code) so they can be
reviewed by people who are not programmers and so results can name the version they used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from prompts import load_yaml
from service.safety.classifier import TrainedClassifier, load_classifier

KINDS = ("suicidal", "self_harm", "danger")


@dataclass(frozen=True)
class Pattern:
    id: str
    kind: str  # suicidal | self_harm | danger
    regex: re.Pattern[str]
    self_only: bool  # False: the words alone do not say whose experience it is


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    contact: str
    url: str | None
    kinds: tuple[str, ...]


@dataclass(frozen=True)
class ClassifierSpec:
    """The learned second stage for one embedding model, and prototypes (training
    examples that also name the kind of what the model finds)."""

    model: str
    prototypes: dict[str, tuple[str, ...]]  # kind -> sentences; "benign" is the foil
    trained: TrainedClassifier | None  # None until `trustlens eval crisis-train` has run

    @property
    def threshold(self) -> float:
        """Concern from here (picked by cross-validation, stored with the weights)."""
        return self.trained.threshold if self.trained else 2.0

    @property
    def crisis_threshold(self) -> float:
        """Crisis from here, for statements (never for questions)."""
        return self.trained.crisis_threshold if self.trained else 2.0


@dataclass(frozen=True)
class CrisisRules:
    version: int
    messages: dict[str, str]  # self | danger | concern
    resources: tuple[ResourceSpec, ...]
    normalize: tuple[tuple[re.Pattern[str], str], ...]
    patterns: tuple[Pattern, ...]
    idioms: tuple[re.Pattern[str], ...]
    negation: re.Pattern[str]
    negation_window_words: int
    negated_topic: re.Pattern[str]
    negation_exceptions: tuple[re.Pattern[str], ...]
    past: re.Pattern[str]
    recent: re.Pattern[str]
    recurring: re.Pattern[str]
    joke: re.Pattern[str]
    third_party: re.Pattern[str]
    question: re.Pattern[str]
    classifier: ClassifierSpec | None


def _re(source: Any) -> re.Pattern[str]:
    return re.compile(str(source))


@lru_cache
def load_rules(version: str | None = None) -> CrisisRules:
    data = load_yaml("safety", "crisis.yaml", version)
    filler = str(data["filler_word"])
    patterns = []
    for kind in KINDS:
        for spec in data["patterns"].get(kind) or ():
            patterns.append(
                Pattern(
                    id=str(spec["id"]),
                    kind=kind,
                    regex=_re(str(spec["re"]).replace("{W}", filler)),
                    self_only=bool(spec.get("self_only", True)),
                )
            )
    return CrisisRules(
        version=int(data.get("version", 1)),
        messages={k: " ".join(str(v).split()) for k, v in data["messages"].items()},
        resources=tuple(
            ResourceSpec(
                name=str(r["name"]),
                contact=str(r["contact"]),
                url=str(r["url"]) if r.get("url") else None,
                kinds=tuple(r.get("for") or KINDS),
            )
            for r in data["resources"]
        ),
        normalize=tuple((_re(a), str(b)) for a, b in data.get("normalize") or ()),
        patterns=tuple(patterns),
        idioms=tuple(_re(s) for s in data.get("idioms") or ()),
        negation=_re(data["negation"]),
        negation_window_words=int(data.get("negation_window_words", 4)),
        negated_topic=_re(data["negated_topic"]),
        negation_exceptions=tuple(_re(s) for s in data.get("negation_exceptions") or ()),
        past=_re(data["past"]),
        recent=_re(data["recent"]),
        recurring=_re(data["recurring"]),
        joke=_re(data["joke"]),
        third_party=_re(data["third_party"]),
        question=_re(data["question"]),
        classifier=_classifier(data.get("classifier")),
    )


def _classifier(spec: dict[str, Any] | None) -> ClassifierSpec | None:
    if not spec:
        return None
    return ClassifierSpec(
        model=str(spec["model"]),
        prototypes={k: tuple(str(x) for x in v) for k, v in spec["prototypes"].items()},
        trained=load_classifier(str(spec["weights"])),
    )
