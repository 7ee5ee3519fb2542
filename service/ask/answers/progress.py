"""Progress questions ("am I getting better at this?", "how have things changed between me
and Dad?"): the earliest third of the relevant entries against the latest third.

Relevant entries are all of the person's (or, when the question names someone, those
that mention them). Each third is read from the labels: defensive patterns and repair
signals per entry. Both ends are cited: the defensive moves of the earliest third and the
repair of the latest (or whatever each end shows), so the person can judge the change.
"""

from __future__ import annotations

from ingest.labels_store import EntryLabels
from service.ask.answers.common import Drafted, Period, cite, entries_in
from service.ask.answers.person import name_pattern
from service.ask.planner import Plan
from service.insight.progress import build_thirds
from service.insight.schemas import Thirds
from service.insight.service import Journal
from service.schemas import Citation
from service.taxonomy import load_taxonomy

MAX_PER_END = 8


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
    els: list[EntryLabels] = [j.labels[e] for e in ids if e in j.labels]
    t = build_thirds(els)
    if t is None:
        return None
    wanted = set(plan.labels)
    early = _cites(j, t.earliest.entry_ids, "patterns", wanted) or _cites(
        j, t.earliest.entry_ids, "repair", wanted
    )
    late = _cites(j, t.latest.entry_ids, "repair", wanted) or _cites(
        j, t.latest.entry_ids, "patterns", wanted
    )
    if not early:
        early = [cite(j, t.earliest.entry_ids[0], 0, 1)]
    if not late:
        late = [cite(j, t.latest.entry_ids[-1], 0, 1)]
    cites = early + [c for c in late if c not in early]
    evidence = [*early[:2], *late[:3]]
    return Drafted(_summary(t), cites, evidence)
