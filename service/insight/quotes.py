"""Dated, verbatim quotes picked from a person's labelled entries.

Every insight feature personalises with the same kind of evidence: the sentence of an
entry that shows a label (a pattern, a repair signal, a feeling). Picking it here, from
the label spans the tagger stored, keeps each quote an exact substring of the entry and
carries its id and date, so the grounding checker can verify it like any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ingest.labels_store import EntryLabels
from service.schemas import Citation


@dataclass(frozen=True)
class Quote:
    entry_id: str
    date: str
    era: str
    label: str
    quote: str
    score: float

    def citation(self) -> Citation:
        return Citation(entry_id=self.entry_id, date=self.date, quote=self.quote)


def label_quotes(
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    wanted: Iterable[str],
    era: str | None = None,
) -> list[Quote]:
    """Quotes for any of the ``wanted`` labels (in ``era`` if given), best first.

    One quote per entry (its best-scoring wanted label), so a list counts entries.
    """
    names = set(wanted)
    out: list[Quote] = []
    for eid, el in labels.items():
        if era and el.era != era:
            continue
        text = texts.get(eid)
        if text is None:
            continue
        hits = [s for name, s in el.labels.items() if name in names and s.end > s.start]
        if not hits:
            continue
        best = max(hits, key=lambda s: s.score)
        quote = text[best.start : best.end].strip()
        if not quote:
            continue
        out.append(
            Quote(
                entry_id=eid,
                date=el.date.isoformat(),
                era=el.era,
                label=best.label,
                quote=quote,
                score=best.score,
            )
        )
    return sorted(out, key=lambda q: (-q.score, q.date, q.entry_id))
