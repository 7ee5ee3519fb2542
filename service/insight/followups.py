"""Follow-up questions when an entry is saved, grounded in the person's related past.

A reflective question lands better when it points at something the person already
wrote: "In March you wrote '...'. Is this the same feeling, or a different one?" The
related past comes from the same user's entries only (the retriever is bound to the
user), written before the new one. Questions turn toward patterns and toward telling
past from present; with no related past, one plain open question is asked instead.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from ingest.labels_store import EntryLabels
from prompts import load_yaml
from service.insight.quotes import tidy, whole_sentences
from service.insight.reflect import MIN_ECHO_SIMILARITY, Candidate
from service.insight.schemas import Followup
from service.schemas import Citation
from service.taxonomy import load_taxonomy

MAX_FOLLOWUPS = 3
RELATED_SIMILARITY = 0.35  # a past entry this close in meaning counts as related


@lru_cache
def _templates() -> dict[str, object]:
    data: dict[str, object] = load_yaml("followups", "questions.yaml")
    return data


def _month(d: dt.date) -> str:
    return d.strftime("%B %Y")


def followups(
    entry_id: str,
    entry_date: dt.date,
    new_labels: EntryLabels | None,
    candidates: list[Candidate],
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
) -> list[Followup]:
    """Up to three questions, each quoting a different related past entry."""
    related = _related(entry_id, entry_date, candidates, labels, texts)
    b = _Questions(labels, texts, set(new_labels.labels) if new_labels else set())
    # Same feeling, same move, then the origin it may echo, then a step that helped.
    for kind, group in (("same_feeling", "emotions"), ("same_pattern", "patterns")):
        b.first_shared(kind, group, related)
    origin = next(
        (c for c in related if labels[c.entry_id].era == "origin" or c.era == "origin"), None
    )
    if origin is not None:
        b.add("origin", origin.entry_id, origin.start, origin.end)
    b.latest_repair(entry_id, entry_date)
    # Nothing labelled in common, but clearly related in meaning: ask about the feeling.
    if not b.out:
        close = next((c for c in related if c.similarity >= RELATED_SIMILARITY), None)
        if close is not None:
            b.add("same_feeling", close.entry_id, close.start, close.end)
    if not b.out:
        plain = _templates()["plain"]
        assert isinstance(plain, list)
        b.out.append(Followup(kind="plain", question=str(plain[0])))
    return b.out


def _related(
    entry_id: str,
    entry_date: dt.date,
    candidates: list[Candidate],
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
) -> list[Candidate]:
    """Earlier entries close enough to the new one, best chunk of each, closest first."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        el = labels.get(c.entry_id)
        if c.entry_id == entry_id or el is None or c.entry_id not in texts:
            continue
        if el.date > entry_date or c.similarity < MIN_ECHO_SIMILARITY:
            continue
        if c.entry_id not in best or c.similarity > best[c.entry_id].similarity:
            best[c.entry_id] = c
    return sorted(best.values(), key=lambda c: -c.similarity)


class _Questions:
    """The follow-ups being built: each quotes a different entry, at most three."""

    def __init__(self, labels: dict[str, EntryLabels], texts: dict[str, str], mine: set[str]):
        self.labels = labels
        self.texts = texts
        self.mine = mine
        self.tax = load_taxonomy()
        self.templates = _templates()
        self.used: set[str] = set()
        self.out: list[Followup] = []

    def add(self, kind: str, eid: str, start: int, end: int) -> None:
        el = self.labels[eid]
        quote = whole_sentences(self.texts[eid], start, end)
        if not quote or eid in self.used or len(self.out) >= MAX_FOLLOWUPS:
            return
        self.used.add(eid)
        question = tidy(
            str(self.templates[kind]).format(
                date=el.date.isoformat(), month=_month(el.date), quote=quote
            )
        )
        cite = Citation(entry_id=eid, date=el.date.isoformat(), quote=quote)
        self.out.append(Followup(kind=kind, question=question, citations=[cite]))

    def first_shared(self, kind: str, group: str, related: list[Candidate]) -> None:
        """The closest entry sharing a label of ``group`` with the new one."""
        for c in related:
            names = [
                n
                for n in self.labels[c.entry_id].labels
                if n in self.mine and self.tax[n].group == group
            ]
            if names:
                s = self.labels[c.entry_id].labels[names[0]]
                self.add(kind, c.entry_id, s.start, s.end)
                return

    def latest_repair(self, entry_id: str, entry_date: dt.date) -> None:
        """After a defensive move: the most recent earlier step of repair, if any."""
        if not self.mine & {n for n, lab in self.tax.items() if lab.group == "patterns"}:
            return
        repairs = [
            (s.score, eid, s)
            for eid, el in self.labels.items()
            if eid != entry_id and el.date <= entry_date and eid in self.texts
            for n, s in el.labels.items()
            if self.tax.get(n) is not None and self.tax[n].group == "repair"
        ]
        if repairs:
            _, eid, s = max(repairs, key=lambda r: (self.labels[r[1]].date, r[0]))
            self.add("repair", eid, s.start, s.end)
