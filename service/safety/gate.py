"""The safety gate as every feature runs it: one object, one method, handed to services.

Patterns first, then the learned stage on the service's own embeddings, then (when an
LLM is configured) its second opinion. Ask, reflect, entries and write all call
``SafetyGate.check``, so there is exactly one place that decides what a text gets.
"""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from service.safety.detector import Reviewer, detect_crisis
from service.safety.schemas import About, Safety


class SafetyGate:
    def __init__(self, embeddings: Embeddings | None, reviewer: Reviewer | None = None):
        self.embeddings = embeddings
        self.reviewer = reviewer

    def check(self, text: str, about: About = "text") -> Safety | None:
        """``Safety`` when ``text`` carries crisis (or concerning) language, else None.
        ``about`` names the text in the notice (question, situation or entry).

        ``crisis`` replaces the insight; ``concern`` is shown beside it (the caller still
        answers, reflects or suggests follow-ups)."""
        return detect_crisis(text, self.embeddings, self.reviewer, about)
