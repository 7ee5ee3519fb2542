"""One person's story ("tell me about Jas and me"): the entries that mention them.

A name is matched as a word in the entry (any case, possessive included), within the
question's period, oldest first; each is quoted with the first sentence that names them.
Someone named all through a long journal is counted in full and quoted at most
``MAX_QUOTES`` times (the first, the most recent and evenly between): a list of
thousands of quotes answers nobody, and quoting 4,484 entries took over a second.
"""

from __future__ import annotations

import re

from service.ask.answers.common import Drafted, Period, cite, entries_in, plural
from service.insight.folding import fold, word_start
from service.insight.service import Journal


def name_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """A name as a word in any case, possessive or plural included."""
    alts = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alts})(?:'s|’s|s)?(?![\w])", re.IGNORECASE)


def folded_name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    """``name_pattern`` for the journal's folded texts (``Journal.folded``), where it
    finds the same matches at the same offsets (folding keeps every offset) several times
    faster, since it opens with the name itself (``word_start``). None when a name is not
    plain ASCII, which folding cannot promise to match exactly."""
    if not all(n.isascii() for n in names):
        return None
    alts = "|".join(word_start(fold(n)) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?:{alts})(?:'s|’s|s)?(?![\w])")


MAX_QUOTES = 50


def spread(n: int, most: int) -> list[int]:
    """Up to ``most`` of the positions 0..n-1: all of them, or the first, the last and
    evenly between."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def answer(j: Journal, people: tuple[str, ...], period: Period) -> Drafted | None:
    if not people:
        return None
    fast = folded_name_pattern(people)
    pat, texts = (name_pattern(people), j.texts) if fast is None else (fast, j.folded())
    # One substring pass over the journal first: the pattern on 20k texts was 0.2 s.
    may = j.mentioning(people)
    found = [
        (eid, m)
        for eid in entries_in(j, period)
        if (may is None or eid in may) and (m := pat.search(texts[eid]))
    ]
    if not found:
        return None
    n = len(found)
    cites = [
        cite(j, eid, m.start(), m.end()) for eid, m in (found[i] for i in spread(n, MAX_QUOTES))
    ]
    who = " and ".join(people)
    summary = (
        f"You wrote about {who} in {plural(n, 'entry')}, from {cites[0].date} "
        f"to {cites[-1].date}. The first and the most recent are shown first."
        if n > 1
        else f"You wrote about {who} once, on {cites[0].date}."
    )
    if len(cites) < n:
        summary += f" {len(cites)} of them are quoted, spread over that time."
    evidence = [cites[0], cites[-1], *cites[1:-1]] if len(cites) > 1 else cites
    return Drafted(summary, cites, evidence)
