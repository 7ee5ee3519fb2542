"""Habit questions ("what do I usually do when someone lets me down?"): counted episodes.

A habit is counted over the person's stored episodes (``ingest/episodes.py`` found them at
ingest: what someone did, and what the writer did about it), not read from the passages
that happen to resemble the question. The episodes are those of the question's situation:
its feeling family (being let down covers cancelled plans, broken promises, lies, credit
taken, secrets passed on, being forgotten or left out), the person it names, and its
period. Only the writer's own responses count as behaviour; each count cites one episode.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ingest.episodes_store import StoredEpisode
from service.ask.answers.common import Drafted, Period, cite, plural
from service.ask.answers.person import name_pattern
from service.ask.planner import Plan
from service.ask.schemas import BehaviorPublic
from service.ask.situations import Situations
from service.insight.habits import behaviour_phrases, second_person
from service.insight.service import Journal
from service.schemas import Citation

MAX_TRIGGER_WORDS = 12


def mentions(
    j: Journal, e: StoredEpisode, names: set[str], people: frozenset[str] | None = None
) -> bool:
    """The episode is about one of ``names``: its doer is one of them, or the entry
    names one and the doer is not someone else by name. Who let the writer down is read
    from the sentences near the trigger, and in the dev journals it was often unread or
    a word for the person ("he", "my brother" for Sipho) in just the entries a
    person-specific habit question is about; a doer read as another name ("Jordan" in a
    question about Marcus) is that other person's episode even where the entry mentions
    both. A capitalised doer that the journal never uses as a person's name (``people``:
    a place, a brand, a word opening a sentence such as "Recap" or "Context") is no one,
    and the entry's names decide."""
    if e.by and e.by.lower() in names:
        return True
    if e.by and e.by[:1].isupper() and (people is None or e.by.lower() in people):
        return False  # someone else, by name
    return name_pattern(tuple(names)).search(j.texts[e.entry_id]) is not None


@dataclass(frozen=True)
class Readers:
    """What a habit answer reads besides the journal and the plan: episode triggers
    against a narrow situation, and the names the journal uses for people (a
    capitalised doer outside them is no one)."""

    situations: Situations | None = None
    people: frozenset[str] | None = None


def select(
    j: Journal, plan: Plan, period: Period, readers: Readers = Readers()
) -> list[StoredEpisode]:
    """The episodes a habit question is about, with a response the writer describes.
    A narrow situation ("when someone goes quiet on me") keeps the episodes whose
    trigger tells it (``service.ask.situations``), unless the question names a person."""
    eps = [
        e
        for e in j.episodes
        if e.entry_id in j.texts and period.holds(e.date) and e.response is not None
    ]
    if plan.feeling is not None:
        eps = [e for e in eps if e.family == plan.feeling]
    if plan.people:
        names = {p.lower() for p in plan.people}
        eps = [e for e in eps if mentions(j, e, names, readers.people)]
    elif plan.situation and readers.situations is not None and eps:
        triggers = [j.texts[e.entry_id][slice(*e.trigger)] for e in eps]
        told = readers.situations.described(plan.situation, triggers)
        eps = [e for e, keep in zip(eps, told, strict=True) if keep]
    return eps


def _when(plan: Plan) -> str:
    trigger = (plan.trigger or "").strip().rstrip("?.! ")
    if not trigger or len(trigger.split()) > MAX_TRIGGER_WORDS:
        return "When you feel let down" if plan.feeling == "let_down" else "In these moments"
    return "When " + second_person(trigger)


def answer(j: Journal, plan: Plan, period: Period, readers: Readers = Readers()) -> Drafted | None:
    """Counted responses over the situation's episodes; None when there are none."""
    eps = select(j, plan, period, readers)
    if not eps:
        return None
    counted = [e for e in eps if e.response_label]
    by_label: dict[str, list[StoredEpisode]] = {}
    for e in counted:
        by_label.setdefault(str(e.response_label), []).append(e)
    ranked = sorted(by_label.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    phrases = behaviour_phrases()

    def quote(e: StoredEpisode) -> Citation:
        a, b = e.response or e.trigger
        return cite(j, e.entry_id, a, b)

    behaviors = [
        BehaviorPublic(pattern=label, count=len(es), of=len(eps), citations=[quote(e) for e in es])
        for label, es in ranked
    ]
    citations = list({e.entry_id: quote(e) for e in eps}.values())
    summary = _summary(_when(plan), ranked, len(eps), phrases)
    evidence = [c for b in behaviors for c in b.citations[: 2 if b is behaviors[0] else 1]]
    return Drafted(summary, citations, evidence or citations, behaviors)


def _summary(
    when: str, ranked: list[tuple[str, list[StoredEpisode]]], total: int, phrases: dict[str, str]
) -> str:
    times = plural(total, "time")
    if not ranked:
        return f"{when}, your journal tells it {times}, but not what you did about it."
    (top, top_eps), rest = ranked[0], ranked[1:]
    what = phrases.get(top, top.replace("_", " "))
    lead = "most often" if len(top_eps) > 1 else "once"
    text = f"{when}, you {lead} {what} ({len(top_eps)} of the {times} you wrote about)."
    if rest:
        also = [f"{phrases.get(k, k.replace('_', ' '))} ({len(v)})" for k, v in rest[:2]]
        text += " You also " + " and ".join(also) + "."
    return text


def top_label(eps: list[StoredEpisode]) -> str | None:
    counts = Counter(e.response_label for e in eps if e.response_label)
    return counts.most_common(1)[0][0] if counts else None
