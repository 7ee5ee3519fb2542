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
from importlib import resources

import yaml

from ingest.labels_store import EntryLabels
from service.insight.reflect import MIN_ECHO_SIMILARITY, Candidate
from service.insight.schemas import Followup
from service.schemas import Citation
from service.taxonomy import load_taxonomy

MAX_FOLLOWUPS = 3
RELATED_SIMILARITY = 0.35  # a past entry this close in meaning counts as related


@lru_cache
def _templates() -> dict[str, object]:
    path = resources.files("prompts").joinpath("followups", "v1", "questions.yaml")
    data: dict[str, object] = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    tax = load_taxonomy()
    t = _templates()
    mine = set(new_labels.labels) if new_labels else set()
    best: dict[str, Candidate] = {}
    for c in candidates:
        el = labels.get(c.entry_id)
        if c.entry_id == entry_id or el is None or c.entry_id not in texts:
            continue
        if el.date > entry_date or c.similarity < MIN_ECHO_SIMILARITY:
            continue
        if c.entry_id not in best or c.similarity > best[c.entry_id].similarity:
            best[c.entry_id] = c
    related = sorted(best.values(), key=lambda c: -c.similarity)
    used: set[str] = set()
    out: list[Followup] = []

    def add(kind: str, eid: str, start: int, end: int) -> None:
        el = labels[eid]
        quote = texts[eid][start:end].strip()
        if not quote or eid in used or len(out) >= MAX_FOLLOWUPS:
            return
        used.add(eid)
        template = str(t[kind])
        out.append(
            Followup(
                kind=kind,
                question=template.format(
                    date=el.date.isoformat(), month=_month(el.date), quote=quote
                ),
                citations=[Citation(entry_id=eid, date=el.date.isoformat(), quote=quote)],
            )
        )

    def shared(eid: str, group: str) -> list[str]:
        return [n for n in labels[eid].labels if n in mine and tax[n].group == group]

    # Same feeling, same move, then the origin it may echo, then a step that helped.
    for kind, group in (("same_feeling", "emotions"), ("same_pattern", "patterns")):
        for c in related:
            names = shared(c.entry_id, group)
            if names:
                s = labels[c.entry_id].labels[names[0]]
                add(kind, c.entry_id, s.start, s.end)
                break
    for c in related:
        el = labels[c.entry_id]
        if el.era == "origin" or c.era == "origin":
            add("origin", c.entry_id, c.start, c.end)
            break
    if mine & {n for n, lab in tax.items() if lab.group == "patterns"}:
        repairs = [
            (s.score, eid, s)
            for eid, el in labels.items()
            if eid != entry_id and el.date <= entry_date and eid in texts
            for n, s in el.labels.items()
            if tax.get(n) is not None and tax[n].group == "repair"
        ]
        if repairs:
            _, eid, s = max(repairs, key=lambda r: (labels[r[1]].date, r[0]))
            add("repair", eid, s.start, s.end)
    # Nothing labelled in common, but clearly related in meaning: ask about the feeling.
    if not out:
        for c in related:
            if c.similarity >= RELATED_SIMILARITY:
                add("same_feeling", c.entry_id, c.start, c.end)
                break
    if not out:
        plain = t["plain"]
        assert isinstance(plain, list)
        out.append(Followup(kind="plain", question=str(plain[0])))
    return out
