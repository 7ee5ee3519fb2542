"""What every kind of answer shares: the drafted answer, its rendering, quotes, periods.

An answer reads as a person would want it: one to three sentences that say what the
journal shows, then the evidence, each a dated quote of whole sentences (never a fragment
under five words). Citations carry exactly those quotes, so the grounding checker can
verify every one against the entry's text.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field

from service.ask.schemas import BehaviorPublic
from service.insight.journal import Journal
from service.insight.quotes import whole_sentences
from service.schemas import Citation


@dataclass(frozen=True)
class Period:
    since: dt.date | None = None
    until: dt.date | None = None

    def holds(self, date: str | dt.date) -> bool:
        d = dt.date.fromisoformat(date) if isinstance(date, str) else date
        return (self.since is None or d >= self.since) and (self.until is None or d <= self.until)


@dataclass
class Drafted:
    """An answer before rendering: the summary, the evidence lines, every citation."""

    summary: str
    citations: list[Citation] = field(default_factory=list)
    evidence: list[Citation] = field(default_factory=list)  # shown under the summary
    behaviors: list[BehaviorPublic] = field(default_factory=list)

    def render(self) -> str:
        """The summary, then every citation as a dated quote: the chosen evidence first,
        then the rest, so each cited quote can be read in the answer itself."""
        lines = [self.summary.strip()]
        # A set, not ``c not in self.evidence``: that is quadratic, and an answer that
        # cites every entry naming someone took 27 s at 4,484 entries.
        first = {(c.entry_id, c.date, c.quote) for c in self.evidence}
        shown = list(self.evidence) + [
            c for c in self.citations if (c.entry_id, c.date, c.quote) not in first
        ]
        if shown:
            lines.append("")
            lines += [f'- {c.date}: "{c.quote}"' for c in shown]
        return "\n".join(lines)


def cite(j: Journal, entry_id: str, start: int, end: int) -> Citation:
    """A citation of the whole sentence(s) around ``start:end`` of one entry."""
    text = j.texts[entry_id]
    return Citation(
        entry_id=entry_id, date=j.dates[entry_id], quote=whole_sentences(text, start, end)
    )


def first_sentence(j: Journal, entry_id: str) -> Citation:
    return cite(j, entry_id, 0, 1)


def entries_in(j: Journal, period: Period) -> list[str]:
    """The person's entry ids inside the period, oldest first."""
    order = j.by_date()
    lo = 0 if period.since is None else bisect.bisect_left(order, (period.since.isoformat(), ""))
    hi = len(order)
    if period.until is not None:
        hi = bisect.bisect_left(order, ((period.until + dt.timedelta(days=1)).isoformat(), ""))
    return [e for _, e in order[lo:hi] if e in j.texts]


def plural(n: int, word: str) -> str:
    """ "1 time", "3 times"; words ending in -y take -ies ("2 entries")."""
    if n == 1:
        return f"1 {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def span_of(d: dt.date | str) -> str:
    return d if isinstance(d, str) else d.isoformat()
