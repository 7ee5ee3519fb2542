"""Request and response models of ``ask`` (``POST /v1/ask``, the stream, ``ask --json``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from service.safety.schemas import Safety
from service.schemas import Citation, until_not_before_since

Mode = Literal["extractive", "llm"]
MAX_QUESTION_CHARS = 2000  # the schema's ceiling; TRUSTLENS_MAX_QUESTION_CHARS may be lower


class AskRequest(BaseModel):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        examples=["what do I usually do when I feel betrayed?"],
    )
    since: dt.date | None = Field(default=None, description="Only entries on/after this day.")
    until: dt.date | None = Field(default=None, description="Only entries on/before this day.")

    sent_to_llm: bool = Field(
        default=False,
        description="Also return exactly what was sent to the LLM (names already "
        "replaced by placeholders); [] when nothing was sent.",
    )

    _range = field_validator("until")(until_not_before_since)


class BehaviorPublic(BaseModel):
    """A response counted across the episodes a habit question is about."""

    pattern: str = Field(description="The trust pattern or repair signal shown.")
    count: int = Field(description="Episodes in which it occurs.")
    of: int = Field(description="Episodes of the trigger in all.")
    citations: list[Citation] = Field(description="One per counted episode.")


Kind = Literal["habit", "origin", "progress", "person", "pattern", "past_present", "lookup"]


class AskPlan(BaseModel):
    """How the question was understood: its kind, its period (resolved against the
    journal's own dates) and whom and which labels it is about."""

    kind: Kind
    since: dt.date | None = None
    until: dt.date | None = None
    people: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)


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
    plan: AskPlan | None = Field(
        default=None, description="How the question was understood (none for a safety answer)."
    )
    sent_to_llm: list[dict[str, str]] | None = Field(
        default=None,
        description="With sent_to_llm in the request: the messages exactly as sent to the "
        "LLM ({role, content}), names replaced by placeholders, request after request "
        "(the safety check's, when it asked one, then the answer's; each opens with its "
        "system message); [] when nothing was sent.",
    )
