"""A second opinion from the configured LLM on texts the offline gate is unsure about.

The offline gate (patterns, then the learned stage) must keep false alarms on everyday
writing rare, so many real crises reach only ``concern`` (resources beside the answer;
README "Crisis safety"). When an OpenAI-compatible model is configured, those texts,
and only those whose concern came from the classifier rather than from a past, joke or
someone-else cue, are shown to it with ``prompts/safety_check/<v>``. A "crisis" reply
raises the level to ``crisis``; anything else (no, an error, a timeout, an unparseable
reply) leaves the offline decision as it was. It can only escalate, never silence.

The text goes to the same endpoint that already receives journal excerpts for answers;
nothing is logged.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from prompts import load_prompt
from service.safety.detector import Assessment, Hit
from service.safety.rules import KINDS


def unsure(a: Assessment) -> bool:
    """Concern that only the classifier raised, with no cue explaining it away."""
    return (
        a.level == "concern"
        and bool(a.hits)
        and all(h.rule.startswith("classifier:") and h.why == "classifier" for h in a.hits)
    )


class LLMCrisisCheck:
    def __init__(self, chat_model: BaseChatModel, prompt_version: str | None = None):
        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", load_prompt("safety_check", "system", prompt_version)),
                ("human", load_prompt("safety_check", "human", prompt_version)),
            ]
        )
        self.chain: Runnable[dict[str, Any], Any] = prompt | chat_model | JsonOutputParser()

    def review(self, text: str, a: Assessment) -> Assessment:
        """``a``, raised to crisis when the model says so about an unsure text."""
        if not unsure(a):
            return a
        try:
            reply = self.chain.invoke({"text": text})
        except Exception:  # an unreachable or confused model changes nothing
            return a
        if not isinstance(reply, dict) or reply.get("crisis") is not True:
            return a
        kind = reply.get("kind")
        if kind not in KINDS:
            kind = a.hits[0].kind
        hit = Hit(f"llm:{kind}", str(kind), "crisis", "llm")
        return Assessment(level="crisis", hits=[*a.hits, hit], scored=a.scored)
