"""Which of a person's episodes a narrow habit situation describes.

"What do I do when someone goes quiet on me?" is not "what do I do when someone lets me
down?": counting every let-down episode answers the broad question, and cites cancelled
plans and borrowed money for a question about silence. The planner marks a situation as
narrow (``Plan.situation``) when it says what happened; this module keeps the episodes
whose trigger sentence says something close to it, by the cosine of their embeddings (the
same sentence-transformer as retrieval, so no second model), because the person tells
it in their own words ("left me on read", "two days and nothing") and no word list
covers them.

The rule is relative: an episode is kept when its cosine is within ``MARGIN`` of the
best-matching episode's. Cosines between a short situation and one diary sentence are
low and vary by voice (0.1 to 0.7 for the same kind of event), so no fixed threshold
held across writers. Chosen on the development journals' narrow habit questions
(``eval/datasets/journals/dev``: 9 questions; every let-down episode: precision 0.22,
recall 0.77; this rule: 0.45, 0.59; a fixed 0.15: 0.38, 0.57), not on any test journal.
Questions naming a person are left alone: their episodes are already that person's, and
the same rule cost them a third of their recall for a small gain in precision.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

MARGIN = 0.2  # kept: within this cosine of the best-matching trigger sentence
CACHED = 20_000  # trigger sentences whose vectors are kept, per process


class Situations:
    """Cosines between a situation and trigger sentences, with the sentences' vectors
    kept (keyed by a hash of the text, never the text) so a journal's episodes are
    embedded once, not per question."""

    def __init__(self, embeddings: Embeddings, margin: float = MARGIN):
        self.embeddings = embeddings
        self.margin = margin
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def cosines(self, situation: str, sentences: Sequence[str]) -> list[float]:
        if not sentences:
            return []
        query = np.asarray(self.embeddings.embed_query(situation), dtype=np.float32)
        vectors = self._sentence_vectors(sentences)
        norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(query)), 1e-12)
        return [float(x) for x in (vectors @ query) / np.maximum(norms, 1e-12)]

    def described(self, situation: str, sentences: Sequence[str]) -> list[bool]:
        """Per sentence: does it tell the situation (as closely as the best one, within
        the margin)?"""
        cosines = self.cosines(situation, sentences)
        best = max(cosines, default=0.0)
        return [c >= best - self.margin for c in cosines]

    def _sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(s.encode("utf-8")).hexdigest() for s in sentences]
        with self._lock:
            known = {k: self._vectors[k] for k in keys if k in self._vectors}
            for k in known:
                self._vectors.move_to_end(k)
        todo = {k: s for k, s in zip(keys, sentences, strict=True) if k not in known}
        if todo:
            found = self.embeddings.embed_documents(list(todo.values()))
            fresh = {k: np.asarray(v, dtype=np.float32) for k, v in zip(todo, found, strict=True)}
            known.update(fresh)
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > CACHED:
                    self._vectors.popitem(last=False)
        return np.vstack([known[k] for k in keys])
