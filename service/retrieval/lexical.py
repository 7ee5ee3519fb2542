"""BM25 over one user's chunks, built from the index and cached per index revision.

The cache key includes the user's ``index_revision`` from the entry store, so every
worker sees a write as soon as it commits without any shared in-memory state.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import bm25s
import Stemmer

from ingest.vector_index import ChromaIndex, IndexHit

_STOP = frozenset(bm25s.stopwords.STOPWORDS_EN)


# Words that carry no topic in a question about one's own journal ("how are things
# going", "what happened"): they must not count as evidence that a topic is covered.
GENERIC_QUESTION_WORDS = frozenset(
    """
    actually again always any anything anyone ask asked better bit day days did does
    doing done ever every feel feeling felt get getting go going gone good got happen
    happened happening has have how issue issues journal just kind know last lately like
    lot make made mean much never new normally often people person really recently say
    said see seem show sometimes start started still stuff tell tend thing things think
    thought time times today tried try trying typically usually want wanted way week
    well went what when where whether which while who why wrote write year years
    """.split()
)


@dataclass
class _UserBM25:
    model: Any
    hits: list[IndexHit]
    vocabulary: frozenset[str]


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
        tokens = self._tokenize([h.text for h in hits])
        model.index(tokens, show_progress=False)
        built = _UserBM25(model=model, hits=hits, vocabulary=frozenset(tokens.vocab))
        with self._lock:
            for old in [k for k in self._cache if k[0] == user_id]:
                del self._cache[old]
            self._cache[key] = built
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return built

    def key_terms(self, query: str) -> list[str]:
        """Stemmed topic words of a question (stopwords and generic words removed)."""
        words = [w for w in re.findall(r"[a-z0-9]+", query.lower()) if len(w) > 2]
        words = [w for w in words if w not in GENERIC_QUESTION_WORDS and w not in _STOP]
        return list(dict.fromkeys(self._stemmer.stemWords(words)))

    def coverage(self, index: ChromaIndex, user_id: str, revision: int, query: str) -> float:
        """Share of the question's topic words that occur in the user's journal at all.

        1.0 when the question has no topic words (nothing to be missing).
        """
        terms = self.key_terms(query)
        if not terms:
            return 1.0
        built = self._model_for(index, user_id, revision)
        if built is None:
            return 0.0
        return sum(t in built.vocabulary for t in terms) / len(terms)

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
