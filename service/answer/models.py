"""The answer contract shared by the CLI (``ask --json``) and the API (``POST /v1/ask``),
and the draft an answerer hands to the grounding checker before anything is shown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from service.safety.detector import Safety

Mode = Literal["extractive", "llm"]


class Citation(BaseModel):
    entry_id: str = Field(description="The id of the person's own entry.")
    date: str = Field(description="The entry's date, YYYY-MM-DD.")
    quote: str = Field(description="An exact substring of that entry's text.")


class BehaviorPublic(BaseModel):
    """A response counted across the episodes a habit question is about."""

    pattern: str = Field(description="The trust pattern or repair signal shown.")
    count: int = Field(description="Episodes in which it occurs.")
    of: int = Field(description="Episodes of the trigger in all.")
    citations: list[Citation] = Field(description="One per counted episode.")


class AskResponse(BaseModel):
    question: str
    answer: str
    abstained: bool
    mode: Mode
    citations: list[Citation] = Field(default_factory=list)
    safety: Safety | None = Field(
        default=None,
        description="Set when the question carries crisis language: a short message and "
        "resources. At level 'crisis' it replaces the answer (no insight is generated).",
    )
    behaviors: list[BehaviorPublic] = Field(
        default_factory=list,
        description="For 'what do I usually do when ...' questions: counted responses.",
    )


@dataclass
class Claim:
    """One statement about the person and the quotes that back it."""

    statement: str
    citations: list[Citation]
    show_quotes: bool = False  # append the checked quotes to the statement when rendered


@dataclass
class Draft:
    """An answer before checking. ``intro`` is written after checking, from what survived."""

    question: str
    mode: Mode
    claims: list[Claim] = field(default_factory=list)
    intro: str = ""


def abstention(question: str, mode: Mode, topic: str) -> AskResponse:
    return AskResponse(
        question=question,
        answer=f"I couldn't find anything in your journal about {topic}.",
        abstained=True,
        mode=mode,
        citations=[],
    )
