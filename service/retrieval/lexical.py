"""BM25 over one user's chunks, built from the index and cached per index revision.

The cache key includes the user's ``index_revision`` from the entry store, so every
worker sees a write as soon as it commits without any shared in-memory state.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import bm25s
import Stemmer

from ingest.vector_index import ChromaIndex, IndexHit


@dataclass
class _UserBM25:
    model: Any
    hits: list[IndexHit]


class LexicalIndex:
    """Per-user BM25 models, kept for the most recent users."""

    def __init__(self, max_users: int = 16, language: str = "english"):
        self._stemmer = Stemmer.Stemmer(language)
        self._cache: OrderedDict[tuple[str, int], _UserBM25] = OrderedDict()
        self._max = max_users
        self._lock = threading.Lock()

    def _tokenize(self, texts: list[str]) -> Any:
        return bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)

    def _model_for(self, index: ChromaIndex, user_id: str, revision: int) -> _UserBM25 | None:
        key = (user_id, revision)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        hits = index.documents(user_id)
        if not hits:
            return None
        model = bm25s.BM25()
        model.index(self._tokenize([h.text for h in hits]), show_progress=False)
        built = _UserBM25(model=model, hits=hits)
        with self._lock:
            for old in [k for k in self._cache if k[0] == user_id]:
                del self._cache[old]
            self._cache[key] = built
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return built

    def search(
        self, index: ChromaIndex, user_id: str, revision: int, query: str, k: int
    ) -> list[tuple[IndexHit, float]]:
        """Chunks with a positive BM25 score, best first."""
        built = self._model_for(index, user_id, revision)
        if built is None:
            return []
        q = self._tokenize([query])
        if not q.ids[0]:
            return []
        k = min(k, len(built.hits))
        docs, scores = built.model.retrieve(q, k=k, show_progress=False)
        return [
            (built.hits[int(d)], float(s))
            for d, s in zip(docs[0], scores[0], strict=True)
            if float(s) > 0
        ]
