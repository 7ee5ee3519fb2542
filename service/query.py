"""Query understanding: what kind of question this is, and which trust labels it names.

"What do I usually do when I feel betrayed?" asks about a habit across many episodes,
triggered by a feeling (betrayal). Knowing that lets retrieval look for episodes of that
feeling (through the taxonomy's example sentences, not only the literal question) and
lets the answer gather every episode rather than the single closest passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.taxonomy import load_taxonomy

_HABIT = re.compile(
    r"\b(usually|normally|typically|tend to|always|every time|whenever|how do i (react|respond|"
    r"handle|cope|deal)|what do i do when|what happens when i|do i (ever )?(push|test|check|"
    r"pull|go quiet|shut|avoid|withdraw|leave))\b",
    re.IGNORECASE,
)
# "... do/react/feel ... when X": X is the situation the habit is about.
_WHEN_CLAUSE = re.compile(
    r"\b(?:do|does|react|respond|handle|cope|deal|happens|behave|act)\b.*?"
    r"\b(?:when|whenever|after)\b\s+(.*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class QueryPlan:
    question: str
    habit: bool  # asks what the person tends to do, across episodes
    focus: str  # the part of the question that names the situation
    trigger: bool  # focus is the situation of a habit question ("... when I feel X")
    labels: tuple[str, ...] = field(default_factory=tuple)  # taxonomy labels named by cues

    @property
    def expansions(self) -> list[str]:
        """The focus and example sentences of the named labels, as extra retrieval queries."""
        if not self.labels:
            return []
        tax = load_taxonomy()
        return [self.focus, *(ex for name in self.labels for ex in tax[name].examples)]

    @property
    def expansion_weight(self) -> float:
        """How much the expansions count against the literal question.

        For "what do I do when I feel betrayed?" the trigger says everything there is to
        match; the rest of the question ("what do I usually do") matches any entry.
        """
        return 1.0 if self.trigger and self.labels else 0.5


def _cue_hit(cue: str, text: str) -> bool:
    # Cues are stems: match at a word start ("betray" matches "betrayed").
    return re.search(r"\b" + re.escape(cue), text) is not None


def plan_query(question: str) -> QueryPlan:
    q = question.strip()
    lower = q.lower()
    habit = bool(_HABIT.search(lower))
    m = _WHEN_CLAUSE.search(q.rstrip("?!. ")) if habit else None
    focus = m.group(1) if m else q
    focus_lower = focus.lower()
    labels = tuple(
        name
        for name, label in load_taxonomy().items()
        if any(_cue_hit(c, focus_lower) for c in label.cues)
    )
    return QueryPlan(question=q, habit=habit, focus=focus, trigger=m is not None, labels=labels)
