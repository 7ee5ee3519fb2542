"""Origin questions ("when did I first learn not to count on people?").

The answer is the person's stories told in retrospect (an entry whose era is ``origin``:
a childhood scene, a parent, an old relationship, told from now), oldest told first,
and, when the journal holds none, the earliest episode of each of their recurring
responses: where the pattern first shows in what they wrote.
"""

from __future__ import annotations

from service.ask.answers.common import Drafted, Period, cite, plural
from service.ask.answers.habit import top_label
from service.insight.journal import Journal
from service.schemas import Citation


def _origin_quote(j: Journal, entry_id: str) -> Citation:
    """The entry's most retrospective sentence: its origin-era chunk, else its start."""
    for s in j.spans.get(entry_id, []):
        if s.group == "era" and s.label == "origin" and s.end - s.start < len(j.texts[entry_id]):
            return cite(j, entry_id, s.start, s.end)
    return cite(j, entry_id, 0, 1)


def answer(j: Journal, period: Period) -> Drafted | None:
    told = sorted(
        (e for e, el in j.labels.items() if el.era == "origin" and e in j.texts),
        key=lambda e: (j.dates[e], e),
    )
    told = [e for e in told if period.holds(j.dates[e])]
    if told:
        cites = [_origin_quote(j, e) for e in told]
        summary = (
            f"You have written about where this began {plural(len(told), 'time')}, looking "
            f"back from now; the first time was on {cites[0].date}."
        )
        return Drafted(summary, cites)
    eps = [e for e in j.episodes if e.entry_id in j.texts and period.holds(e.date)]
    if not eps:
        return None
    label = top_label(eps)
    first = next((e for e in eps if e.response_label == label), eps[0])
    a, b = first.response or first.trigger
    c = cite(j, first.entry_id, a, b)
    summary = (
        "Your journal tells no story from before it began; the earliest time your most "
        f"frequent response shows is {c.date}."
    )
    return Drafted(summary, [c])
