"""The safety gate as every feature runs it: one object, one method, handed to services.

Patterns first, then the learned stage on the service's own embeddings, then (when an
LLM is configured) its second opinion. Ask, reflect, entries and write all call
``SafetyGate.check`` (or ``checked``, to also see what the LLM was sent), so there is
exactly one place that decides what a text gets.

The second opinion is the one request here that leaves the process. Callers name the
person (``user_id``), so the gate can hide the names on that person's people list
behind the placeholders the answer's request uses; the list is read only when the
LLM is actually asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from langchain_core.embeddings import Embeddings

from service.answer.sent import Sent
from service.safety.detector import Assessment, assess, safety_for
from service.safety.llm_check import Names, Opinion, no_names
from service.safety.schemas import About, Safety

People = Callable[[str], Sequence[str]]  # user id -> their people list


class SecondOpinion(Protocol):
    """``service.safety.llm_check.LLMCrisisCheck``, or a test's stand-in."""

    def second_opinion(self, text: str, a: Assessment, names: Names = no_names) -> Opinion: ...


@dataclass(frozen=True)
class Checked:
    """What the gate decided about one text, and the messages the LLM was sent about it
    (``[]`` when it was not asked): what ``sent_to_llm`` shows."""

    safety: Safety | None
    sent_to_llm: Sent = field(default_factory=list)


class SafetyGate:
    def __init__(
        self,
        embeddings: Embeddings | None,
        reviewer: SecondOpinion | None = None,
        people: People | None = None,
    ):
        self.embeddings = embeddings
        self.reviewer = reviewer
        self.people = people

    def check(self, text: str, about: About = "text", user_id: str | None = None) -> Safety | None:
        """``Safety`` when ``text`` carries crisis (or concerning) language, else None.
        ``about`` names the text in the notice (question, situation or entry); ``user_id``
        whose text it is (their names never reach the LLM).

        ``crisis`` replaces the insight; ``concern`` is shown beside it (the caller still
        answers, reflects or suggests follow-ups)."""
        return self.checked(text, about, user_id).safety

    def checked(self, text: str, about: About = "text", user_id: str | None = None) -> Checked:
        """``check``, with what the second opinion sent (for ``sent_to_llm``)."""
        a = assess(text, self.embeddings)
        if self.reviewer is None:
            return Checked(safety_for(a, about=about))
        opinion = self.reviewer.second_opinion(text, a, self._names(user_id))
        return Checked(safety_for(opinion.assessment, about=about), opinion.sent_to_llm)

    def _names(self, user_id: str | None) -> Names:
        people = self.people
        if people is None or not user_id:
            return no_names
        return lambda: people(user_id)
