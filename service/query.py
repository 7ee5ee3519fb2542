"""Query understanding: what kind of question this is, and which trust labels it names.

"What do I usually do when I feel betrayed?" asks about a habit across many episodes,
triggered by a feeling (betrayal). Knowing that lets retrieval look for episodes of that
feeling (through the taxonomy's example sentences, not only the literal question) and
lets the answer gather every episode rather than the single closest passage.

"A time I felt lonely" / "when did I feel anxious?" / "times I was jealous" ask for
episodes of one emotion. The emotion lexicon (``prompts/emotions``) names the emotion and
gives example situations of it, which become the expansions: entries rarely say "I felt
lonely", they say "I ate dinner by myself again".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from service.retrieval.lexical import GENERIC_QUESTION_WORDS
from service.taxonomy import load_emotions, load_taxonomy

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
# "felt X", "feel so X", "was really X", "been X", "got X": X is the emotion asked about.
_FELT = re.compile(
    r"\b(?:felt|feel|feeling|feels|was|were|been|being|am|got|get|getting)\s+(?:i\s+)?"
    r"(?:(?:ever|so|really|very|quite|truly|pretty|extremely|a\s+bit|a\s+little|kind\s+of)\s+)?"
    r"([a-z][a-z'-]*)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def match_emotion(question: str) -> str | None:
    """The lexicon emotion a "felt X" question names: its name, else a one-word cue stem."""
    emotions = load_emotions().emotions
    words = [m.group(1).lower() for m in _FELT.finditer(question)]
    for w in words:
        if w in emotions:
            return w
    for w in words:
        for name, emo in emotions.items():
            if any(" " not in c and w.startswith(c) for c in emo.cues):
                return name
    return None


@dataclass(frozen=True)
class QueryPlan:
    question: str
    habit: bool  # asks what the person tends to do, across episodes
    focus: str  # the part of the question that names the situation
    trigger: bool  # focus is the situation of a habit question ("... when I feel X")
    labels: tuple[str, ...] = field(default_factory=tuple)  # taxonomy labels named by cues
    emotion: str | None = None  # the lexicon emotion a "felt X" question asks about

    @property
    def uses_emotion(self) -> bool:
        """Emotion examples drive retrieval, unless a habit question names a trust label
        (those keep the trust taxonomy's examples, as before the lexicon existed)."""
        return self.emotion is not None and not (self.habit and self.labels)

    @property
    def expansions(self) -> list[str]:
        """The focus and example sentences of the named labels, as extra retrieval queries."""
        if self.uses_emotion:
            assert self.emotion is not None
            emotion = load_emotions().emotions[self.emotion]
            return [*emotion.examples, emotion.definition]
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
        if self.uses_emotion:
            return load_emotions().expansion_weight
        return 1.0 if self.trigger and self.labels else 0.5

    @property
    def search_text(self) -> str:
        """The text for the lexical and the literal dense search: for an emotion question,
        the question without its generic words ("a time I felt") plus the emotion's cue
        words, since entries name a feeling in many ways or not at all."""
        if not self.uses_emotion:
            return self.question
        assert self.emotion is not None
        words = [w for w in _WORD.findall(self.question) if w.lower() not in GENERIC_QUESTION_WORDS]
        return " ".join([*words, *load_emotions().emotions[self.emotion].cues])


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
    return QueryPlan(
        question=q,
        habit=habit,
        focus=focus,
        trigger=m is not None,
        labels=labels,
        emotion=match_emotion(q),
    )
