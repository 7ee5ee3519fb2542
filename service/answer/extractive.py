"""The default answerer: no LLM, deterministic, offline.

It composes the answer from the person's own words only: for each supporting entry it
quotes the sentence (or two) closest in meaning to the question, verbatim, with the
entry's date. Nothing is paraphrased, so nothing can be invented.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.chunking import sentence_spans, word_count
from service.answer.evidence import Evidence
from service.answer.models import Claim, Draft
from service.ask.schemas import Mode
from service.schemas import Citation

MIN_QUOTE_WORDS = 6
# A quote shorter than this says nothing on its own ("Tea and bed.", "I wanted to."): such
# evidence, a chunk that is one short last sentence, is not quoted (``service.insight.
# quotes.MIN_QUOTE_WORDS``, the floor every other quote keeps).
QUOTE_FLOOR = 5
MAX_WHOLE_QUOTE_WORDS = 50  # evidence this short is quoted whole (what happened + what I did)


class ExtractiveAnswerer:
    mode: Mode = "extractive"

    def __init__(self, embeddings: Embeddings):
        self.embeddings = embeddings

    def best_quote(self, question_vec: np.ndarray, ev: Evidence) -> str:
        """The sentence of ``ev`` nearest the question, extended if it is very short."""
        spans = sentence_spans(ev.text)
        if not spans:
            return ev.text.strip()
        if word_count(ev.text) <= MAX_WHOLE_QUOTE_WORDS:
            return ev.text[spans[0].start : spans[-1].end]
        best = 0
        if len(spans) > 1:
            vecs = np.asarray(self.embeddings.embed_documents([s.of(ev.text) for s in spans]))
            best = int(np.argmax(vecs @ question_vec))
        start, end = spans[best].start, spans[best].end
        if word_count(ev.text[start:end]) < MIN_QUOTE_WORDS:
            if best + 1 < len(spans):
                end = spans[best + 1].end
            elif best > 0:
                start = spans[best - 1].start
        return ev.text[start:end]

    def draft(self, question: str, evidence: list[Evidence], names: Sequence[str] = ()) -> Draft:
        draft = Draft(
            question=question,
            mode="extractive",
            intro="Here is what you wrote about this in {n} {entries}, from {first} to {last}:",
        )
        if not evidence:
            return draft
        qvec = np.asarray(self.embeddings.embed_query(question))
        for e in sorted(evidence, key=lambda e: (e.date, e.entry_id)):
            quote = self.best_quote(qvec, e)
            if word_count(quote) < QUOTE_FLOOR:
                continue
            draft.claims.append(
                Claim(
                    statement=f'- {e.date}: "{quote}"',
                    citations=[Citation(entry_id=e.entry_id, date=e.date, quote=quote)],
                )
            )
        return draft
