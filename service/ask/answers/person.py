"""One person's story ("tell me about Jas and me"): the entries that mention them.

A name is matched as a word in the entry (any case, possessive included), within the
question's period, oldest first; each is quoted with the first sentence that names them.
"""

from __future__ import annotations

import re

from service.ask.answers.common import Drafted, Period, cite, entries_in, plural
from service.insight.service import Journal


def name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """A name as a word in any case, possessive or plural included."""
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})(?:'s|’s|s)?(?![\w])", re.IGNORECASE)


def answer(j: Journal, people: tuple[str, ...], period: Period) -> Drafted | None:
    if not people:
        return None
    pat = name_pattern(people)
    cites = []
    for eid in entries_in(j, period):
        m = pat.search(j.texts[eid])
        if m:
            cites.append(cite(j, eid, m.start(), m.end()))
    if not cites:
        return None
    who = " and ".join(people)
    n = len(cites)
    summary = (
        f"You wrote about {who} in {plural(n, 'entry')}, from {cites[0].date} "
        f"to {cites[-1].date}. The first and the most recent are shown first."
        if n > 1
        else f"You wrote about {who} once, on {cites[0].date}."
    )
    evidence = [cites[0], cites[-1], *cites[1:-1]] if n > 1 else cites
    return Drafted(summary, cites, evidence)
