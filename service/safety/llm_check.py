"""A second opinion from the configured LLM on texts the offline gate is unsure about.

The offline gate (patterns, then the learned stage) keeps false alarms on everyday
writing rare, so its learned stage decides near its thresholds. When an OpenAI-compatible
model is configured, the texts whose level the classifier alone decided, in either band,
are shown to it with ``prompts/safety_check/<v>`` (a C-SSRS-style rating, 0 to 6):

- a ``concern`` the classifier alone raised (no pattern, no cue explaining it);
- no level, but a classifier probability within ``NEAR`` of a threshold.

Its rating maps as the training labels do (``eval/crisis_cssrs.py``): 4 or more is
``crisis``, 1 to 3 ``concern``, 0 none. It may raise the level, or lower a ``concern``
the classifier alone raised to none. It never lowers a ``crisis`` (found by the patterns
or by the classifier's crisis head); an error, a timeout or an unparseable reply leaves
the offline decision as it was. A v1 prompt's ``{"crisis": true}`` reply still raises.

The text goes to the same endpoint that already receives journal excerpts for answers,
with every name on the person's people list replaced by the placeholder the answer's
request uses ("Person A"; ``service.answer.pseudonyms``): the rating is about the
writer's own state, which no name changes. The offline stages read the text as written.
What was sent is kept on the opinion (``sent_to_llm``); nothing is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from prompts import load_prompt
from service.answer.pseudonyms import Pseudonyms
from service.answer.sent import Sent, as_sent
from service.safety.detector import Assessment, Hit
from service.safety.rules import KINDS, load_rules
from service.safety.schemas import Level

NEAR = 0.1  # a probability this close below a threshold is a near miss
CRISIS_FROM = 4  # C-SSRS intent, plan or behaviour
CONCERN_FROM = 1  # a wish to be dead or more

Names = Callable[[], Sequence[str]]  # the person's people list, read only when asking


def no_names() -> Sequence[str]:
    return ()


@dataclass(frozen=True)
class Opinion:
    """The assessment after the second opinion, and the messages the model was sent
    (``[]`` when it was not asked), names already replaced."""

    assessment: Assessment
    sent_to_llm: Sent = field(default_factory=list)


def classifier_only(a: Assessment) -> bool:
    return bool(a.hits) and all(
        h.rule.startswith("classifier:") and h.why == "classifier" for h in a.hits
    )


def unsure(a: Assessment, threshold: float = 2.0, crisis_threshold: float = 2.0) -> bool:
    """A concern the classifier alone raised, or no level from a near miss."""
    if a.level == "concern":
        return classifier_only(a)
    if a.level is None and a.scored:
        return any(
            u.p >= threshold - NEAR or u.p_crisis >= crisis_threshold - NEAR for u in a.scored
        )
    return False


def rated_level(reply: Any) -> tuple[Level | None, bool]:
    """The level a reply gives, and whether it gave one at all."""
    if not isinstance(reply, dict):
        return None, False
    sev = reply.get("severity")
    if isinstance(sev, int) and not isinstance(sev, bool) and 0 <= sev <= 6:
        if sev >= CRISIS_FROM:
            return "crisis", True
        return ("concern" if sev >= CONCERN_FROM else None), True
    if reply.get("crisis") is True:  # the v1 prompt's reply
        return "crisis", True
    return None, False


class LLMCrisisCheck:
    def __init__(self, chat_model: BaseChatModel, prompt_version: str | None = None):
        self.prompt = prompt = ChatPromptTemplate.from_messages(
            [
                ("system", load_prompt("safety_check", "system", prompt_version)),
                ("human", load_prompt("safety_check", "human", prompt_version)),
            ]
        )
        self.chain: Runnable[dict[str, Any], Any] = prompt | chat_model | JsonOutputParser()
        spec = load_rules().classifier
        self.threshold = spec.threshold if spec else 2.0
        self.crisis_threshold = spec.crisis_threshold if spec else 2.0

    def review(self, text: str, a: Assessment, names: Names = no_names) -> Assessment:
        """``a``, raised or (a classifier-only concern) lowered when the model says so."""
        return self.second_opinion(text, a, names).assessment

    def second_opinion(self, text: str, a: Assessment, names: Names = no_names) -> Opinion:
        """Ask the model about ``text`` when ``a`` is unsure, with ``names`` (called only
        then: reading the people list costs a query) replaced by placeholders."""
        if not unsure(a, self.threshold, self.crisis_threshold):
            return Opinion(a)
        inputs = {"text": Pseudonyms(names(), outgoing=[text]).hide(text)}
        sent = as_sent(self.prompt, inputs)
        try:
            reply = self.chain.invoke(inputs)
        except Exception:  # an unreachable, slow or confused model changes nothing
            return Opinion(a, sent)
        return Opinion(_decided(a, reply), sent)


def _decided(a: Assessment, reply: Any) -> Assessment:
    """``a`` as the model's reply leaves it: raised, lowered (a concern the classifier
    alone raised) or, for a reply that rates nothing new, ``a`` itself."""
    level, rated = rated_level(reply)
    if not rated or level == a.level:
        return a
    if level is None:  # lowering: only a concern the classifier alone raised
        return Assessment(level=None, hits=[], scored=a.scored)
    if a.level == "crisis" or (a.level == "concern" and level != "crisis"):
        return a
    kind = reply.get("kind")
    if kind not in KINDS:
        kind = a.hits[0].kind if a.hits else "suicidal"
    hit = Hit(f"llm:{kind}", str(kind), level, "llm")
    return Assessment(level=level, hits=[*a.hits, hit], scored=a.scored)
