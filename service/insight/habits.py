"""Answers built from the insight engine for two kinds of questions ``ask`` recognises.

- Habits ("what do I usually do when I feel betrayed?"): counted episodes, worded as
  "When you feel betrayed you most often go quiet or keep your distance (5 of 8
  episodes: 2024-03-02 "..."); you also ...". The wording of each response lives in
  ``prompts/answer/v1/behaviours.yaml``.
- Past versus present ("is my fear about my partner, or about my past?"): the
  reflection's echoes, same and different, as one answer.
Both return citations that have already been checked against the store.
"""

from __future__ import annotations

import re
from functools import lru_cache

from prompts import load_yaml
from service.ask.schemas import BehaviorPublic
from service.insight.episodes import Behaviour
from service.insight.quotes import tidy
from service.insight.schemas import ReflectResponse
from service.schemas import Citation

MAX_QUOTES_IN_TEXT = 2

_PRONOUNS = [
    (r"\bI'm\b", "you're"),
    (r"\bI am\b", "you are"),
    (r"\bI was\b", "you were"),
    (r"\bI\b", "you"),
    (r"\bmy\b", "your"),
    (r"\bme\b", "you"),
    (r"\bmyself\b", "yourself"),
    (r"\bmine\b", "yours"),
]


def second_person(text: str) -> str:
    out = text
    for pat, repl in _PRONOUNS:
        out = re.sub(pat, repl, out, flags=re.IGNORECASE)
    return out


@lru_cache
def behaviour_phrases() -> dict[str, str]:
    data = load_yaml("answer", "behaviours.yaml")
    return {str(k): str(v) for k, v in data["phrases"].items()}


def habit_answer(focus: str, behaviours: list[Behaviour]) -> tuple[str, list[BehaviorPublic]]:
    """The counted-episodes summary (then a few of its quotes) and the ``behaviors`` list
    of the ask JSON: "When you feel betrayed, you most often go quiet or keep your
    distance (2 of 2 episodes). You also ..." and under it the dated quotes."""
    if not behaviours:
        return "", []
    phrases = behaviour_phrases()
    when = second_person(focus.strip().rstrip("?.! "))
    top, rest = behaviours[0], behaviours[1:]
    lead = "most often" if top.count > 1 else "once"
    what = phrases.get(top.pattern, top.pattern.replace("_", " "))
    summary = f"When {when} you {lead} {what} ({top.count} of {top.of} episodes)."
    if rest:
        also = [
            f"{phrases.get(b.pattern, b.pattern.replace('_', ' '))} ({b.count} of {b.of})"
            for b in rest[:2]
        ]
        summary += " You also " + " and ".join(also) + "."
    shown = [c for b in behaviours[:3] for c in b.citations[:MAX_QUOTES_IN_TEXT]]
    lines = [summary, *(f'- {c.date}: "{c.quote}"' for c in shown)]
    public = [
        BehaviorPublic(pattern=b.pattern, count=b.count, of=b.of, citations=b.citations)
        for b in behaviours
    ]
    return "\n".join(lines), public


def past_present_answer(r: ReflectResponse) -> tuple[str, list[Citation]]:
    """The reflection as an answer: what it echoes, what is the same, what differs."""
    if r.abstained or not r.echoes:
        return "", []
    lines = []
    first = next((e for e in r.echoes if e.era == "origin"), r.echoes[0])
    lines.append(
        tidy(f'This echoes something you wrote on {first.date} ({first.era}): "{first.quote}".')
    )
    cites = [Citation(entry_id=first.entry_id, date=first.date, quote=first.quote)]
    for s in r.same:
        lines.append(f"Same then and now: {s.statement}")
        cites += [c for c in s.citations if c not in cites]
    for s in r.different:
        lines.append(f"Different now: {s.statement}")
        cites += [c for c in s.citations if c not in cites]
    lines.append("Questions to tell then from now:")
    lines += [f"- {q}" for q in r.questions]
    return "\n".join(lines), cites
