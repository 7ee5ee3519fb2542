"""Guided practices: question sets kept as files, personalised with the person's words.

Each practice (``prompts/practices/<version>/<name>.yaml``) lists plain questions and,
for each, which labels of the person's entries can make it personal. A personalised
question quotes one dated sentence of their own, verbatim; where they have written
nothing that fits, the plain question is asked instead: no evidence, no personalising.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import BaseModel, Field

from ingest.labels_store import EntryLabels
from prompts import asset_files, chosen_version, load_yaml
from service.errors import UnknownPractice
from service.insight.quotes import label_quotes, tidy
from service.insight.schemas import PracticeQuestion, PracticeResponse


class QuestionSpec(BaseModel):
    id: str
    text: str
    personalised: str
    labels: list[str] = Field(default_factory=list)
    era: str | None = None


class Practice(BaseModel):
    name: str
    title: str
    purpose: str
    questions: list[QuestionSpec]


def practice_names() -> list[str]:
    return [name.removesuffix(".yaml") for name in asset_files("practices", ".yaml")]


def normalise_name(name: str) -> str:
    """'Trust History', 'trust-history' and 'trust_history' name the same practice."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@lru_cache
def load_practice(name: str) -> Practice:
    key = normalise_name(name)
    if key not in practice_names():
        raise UnknownPractice(f"No practice named {name!r}; known: {', '.join(practice_names())}.")
    data = load_yaml("practices", f"{key}.yaml")
    questions = [
        QuestionSpec(
            id=q["id"],
            text=q["text"],
            personalised=q["personalised"],
            labels=list((q.get("evidence") or {}).get("labels") or []),
            era=(q.get("evidence") or {}).get("era"),
        )
        for q in data["questions"]
    ]
    return Practice(
        name=key, title=data["title"], purpose=str(data["purpose"]).strip(), questions=questions
    )


def personalise(
    practice: Practice, labels: dict[str, EntryLabels], texts: dict[str, str]
) -> PracticeResponse:
    """The practice's questions, each quoting a different entry of the person where one fits.

    A question asking about an era (e.g. the origins) only uses entries of that era;
    within a practice no entry is quoted twice, so the questions open different doors.
    """
    used: set[str] = set()
    out: list[PracticeQuestion] = []
    for q in practice.questions:
        quotes = [
            x for x in label_quotes(labels, texts, q.labels, era=q.era) if x.entry_id not in used
        ]
        if not quotes:
            out.append(PracticeQuestion(id=q.id, question=q.text, plain=q.text, personalised=False))
            continue
        best = quotes[0]
        used.add(best.entry_id)
        out.append(
            PracticeQuestion(
                id=q.id,
                question=tidy(q.personalised.format(date=best.date, quote=best.quote)),
                plain=q.text,
                personalised=True,
                citations=[best.citation()],
            )
        )
    return PracticeResponse(
        practice=practice.name,
        title=practice.title,
        purpose=practice.purpose,
        version=chosen_version("practices"),
        questions=out,
    )
