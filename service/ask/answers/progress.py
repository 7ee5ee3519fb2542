"""Progress questions ("am I getting better at this?", "how have things changed between me
and Dad?"): the earliest third of the relevant entries against the latest third.

Relevant entries are all of the person's (or, when the question names someone, those
that mention them). Each third is read from the labels: defensive patterns and repair
signals per entry. Both ends are cited, so the person can judge the change: the
defensive moves of the first half of the entries and the repair of the second (or, for
one person, every entry about them).
"""

from __future__ import annotations

from service.ask.answers import person
from service.ask.answers.common import Drafted, Period, cite, entries_in
from service.ask.answers.person import name_pattern
from service.ask.planner import Plan
from service.insight.progress import build_thirds
from service.insight.schemas import Thirds
from service.insight.service import Journal
from service.schemas import Citation
from service.taxonomy import load_taxonomy

MAX_PER_END = 12


def _groups() -> dict[str, str]:
    return {n: lab.group for n, lab in load_taxonomy().items()}


def _cites(j: Journal, ids: list[str], group: str, wanted: set[str]) -> list[Citation]:
    """One quote per entry showing a label of ``group`` (preferring the question's labels)."""
    groups = _groups()
    out = []
    for eid in ids:
        el = j.labels.get(eid)
        if el is None:
            continue
        spans = [s for n, s in el.labels.items() if groups.get(n) == group and s.end > s.start]
        focus = [s for s in spans if s.label in wanted] or spans
        if focus:
            best = max(focus, key=lambda s: s.score)
            out.append(cite(j, eid, best.start, best.end))
    return out[:MAX_PER_END]


def _summary(t: Thirds) -> str:
    e, la = t.earliest, t.latest
    figures = (
        f"defensive moves went from {e.defensive_per_entry:.1f} to {la.defensive_per_entry:.1f} "
        f"per entry and repair from {e.repair_per_entry:.1f} to {la.repair_per_entry:.1f}, "
        f"comparing {e.first_date}–{e.last_date} with {la.first_date}–{la.last_date}"
    )
    better = (t.repair == "up") + (t.defensive == "down")
    worse = (t.repair == "down") + (t.defensive == "up")
    if better > worse:
        return f"Yes, your writing shows change for the better: {figures}."
    if worse > better:
        return f"Not yet, by what you wrote: {figures}."
    return f"It is mixed: {figures}."


def answer(j: Journal, plan: Plan, period: Period) -> Drafted | None:
    ids = entries_in(j, period)
    if plan.people:
        pat = name_pattern(plan.people)
        ids = [e for e in ids if pat.search(j.texts[e])]
    t = build_thirds([j.labels[e] for e in ids if e in j.labels])
    if t is None:
        return None
    if plan.people:
        # Things with one person: every entry about them, so both ends can be read.
        told = person.answer(j, plan.people, period)
        cites = told.citations if told else []
    else:
        # The defensive moves of the first half against the repair of the second.
        half = len(ids) // 2
        wanted = set(plan.labels)
        cites = _cites(j, ids[:half], "patterns", wanted) + _cites(j, ids[half:], "repair", wanted)
    if not cites:
        cites = [cite(j, t.earliest.entry_ids[0], 0, 1), cite(j, t.latest.entry_ids[-1], 0, 1)]
    evidence = [*cites[:2], *cites[-3:]] if len(cites) > 5 else cites
    return Drafted(_summary(t), cites, evidence)
