"""Dated, verbatim quotes picked from a person's labelled entries.

Every insight feature personalises with the same kind of evidence: the sentence of an
entry that shows a label (a pattern, a repair signal, a feeling). Picking it here, from
the label spans the tagger stored, keeps each quote an exact substring of the entry and
carries its id and date, so the grounding checker can verify it like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.chunking import sentence_spans
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
        quote = whole_sentences(text, best.start, best.end)
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


MIN_QUOTE_WORDS = 5


def whole_sentences(text: str, start: int, end: int, min_words: int = MIN_QUOTE_WORDS) -> str:
    """The sentence(s) of ``text`` covering ``start:end``, grown to at least ``min_words``
    words with the next (else the previous) sentence: a quote shows what happened, never a
    fragment ("I didn't." says nothing on its own). Always a verbatim slice of ``text``."""
    spans = [(s.start, s.end) for s in sentence_spans(text)] or [(0, len(text))]
    first = next((i for i, (a, b) in enumerate(spans) if b > start), len(spans) - 1)
    last = next((i for i, (a, b) in enumerate(spans) if b >= end), len(spans) - 1)
    last = max(last, first)

    def words(i: int, j: int) -> int:
        return len(text[spans[i][0] : spans[j][1]].split())

    while words(first, last) < min_words and (first > 0 or last < len(spans) - 1):
        if last < len(spans) - 1:
            last += 1
        else:
            first -= 1
    return text[spans[first][0] : spans[last][1]].strip()


_DOUBLED = re.compile(r"([.!?…])([\"”’'])[.,;]")


def tidy(text: str) -> str:
    """No doubled punctuation where a quote ends a sentence: 'you wrote "I left."' and
    not 'you wrote "I left.".' (the quote itself stays verbatim)."""
    return _DOUBLED.sub(r"\1\2", text)
