"""Questions about one behaviour ("do I push people away before they can leave me?").

The entries whose labels (the tagger's, with the person's corrections applied) show the
behaviour the question names, each quoted with the sentence that shows it.
"""

from __future__ import annotations

from service.ask.answers.common import Drafted, Period, cite, plural
from service.ask.planner import Plan
from service.insight.habits import behaviour_phrases
from service.insight.service import Journal


def answer(j: Journal, plan: Plan, period: Period) -> Drafted | None:
    wanted = set(plan.labels)
    hits = []
    for eid, el in j.labels.items():
        if eid not in j.texts or not period.holds(j.dates[eid]):
            continue
        spans = [s for name, s in el.labels.items() if name in wanted and s.end > s.start]
        if spans:
            best = max(spans, key=lambda s: s.score)
            hits.append((j.dates[eid], eid, best))
    if not hits:
        return None
    hits.sort(key=lambda h: (h[0], h[1]))
    cites = [cite(j, eid, s.start, s.end) for _, eid, s in hits]
    phrases = behaviour_phrases()
    what = " or ".join(phrases.get(x, x.replace("_", " ")) for x in plan.labels)
    summary = (
        f"Yes: you {what} in {plural(len(cites), 'entry')}, "
        f"from {cites[0].date} to {cites[-1].date}."
        if len(cites) > 1
        else f"Once, on {cites[0].date}: you {what}."
    )
    return Drafted(summary, cites)
