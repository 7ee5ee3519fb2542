"""The draft an answerer hands to the grounding checker before anything is shown.

The answer contract itself (``AskResponse``) lives in ``service.ask.schemas``."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.ask.schemas import AskResponse, Mode
from service.schemas import Citation


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
    # The messages exactly as sent to an LLM (names already replaced); None: nothing sent.
    sent_to_llm: list[dict[str, str]] | None = None


def abstention(question: str, mode: Mode, topic: str) -> AskResponse:
    return AskResponse(
        question=question,
        answer=f"I couldn't find anything in your journal about {topic}.",
        abstained=True,
        mode=mode,
        citations=[],
    )
