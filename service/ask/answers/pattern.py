"""Questions about one behaviour ("do I push people away before they can leave me?").

The entries whose labels (the tagger's, with the person's corrections applied) show the
behaviour the question names, each quoted with the sentence that shows it, and the
entries where the writer's response to an episode is that behaviour (the episode
detector reads responses in context, so it finds some the per-chunk tagger misses).
"""

from __future__ import annotations

from service.ask.answers.common import Drafted, Period, cite, plural
from service.ask.planner import Plan
from service.insight.habits import behaviour_phrases
from service.insight.service import Journal


def answer(j: Journal, plan: Plan, period: Period) -> Drafted | None:
    wanted = set(plan.labels)
    found: dict[str, tuple[int, int]] = {}
    for eid, el in j.labels.items():
        if eid not in j.texts or not period.holds(j.dates[eid]):
            continue
        spans = [s for name, s in el.labels.items() if name in wanted and s.end > s.start]
        if spans:
            best = max(spans, key=lambda s: s.score)
            found[eid] = (best.start, best.end)
    for e in j.episodes:
        if (
            e.response is not None
            and e.response_label in wanted
            and e.entry_id in j.texts
            and e.entry_id not in found
            and period.holds(e.date)
        ):
            found[e.entry_id] = e.response
    if not found:
        return None
    order = sorted(found, key=lambda eid: (j.dates[eid], eid))
    cites = [cite(j, eid, *found[eid]) for eid in order]
    phrases = behaviour_phrases()
    what = " or ".join(phrases.get(x, x.replace("_", " ")) for x in plan.labels)
    summary = (
        f"Yes: you {what} in {plural(len(cites), 'entry')}, "
        f"from {cites[0].date} to {cites[-1].date}."
        if len(cites) > 1
        else f"Once, on {cites[0].date}: you {what}."
    )
    return Drafted(summary, cites)
