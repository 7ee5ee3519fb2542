"""BM25 over one user's chunks, kept per user and brought up to date per index revision.

Every read passes the user's ``index_revision`` from the entry store; a cached index of
another revision is brought up to date before it answers, so every worker sees a write
as soon as it commits without any shared in-memory state.

Bringing it up to date does not rebuild it (at 100k chunks a rebuild took ~15 s, paid
by the first question after any write). It reads what changed: the user's chunk ids
from the vector index (no metadata, no text) and a version token per entry from the
store (hashes and index state, no text); only chunks that are new, or whose entry's
version moved, are read back with their texts and tokenised; chunks gone are dropped.
Scoring is ``service.retrieval.bm25.Bm25Index``: bm25s's scores, updatable.

Each chunk's stored vector is kept beside it, for an exact nearest-neighbour search
(``nearest``), which the hybrid retriever uses instead of Chroma's approximate one.
Chroma builds its HNSW graph with several threads, so two builds of the same journal
(say, with encryption at rest on and off) get different graphs, and its search returns
a different few of the nearest chunks from each: the answers then cite different
entries. Scoring every chunk of one person's journal costs milliseconds, and the result
depends on the vectors alone; equal similarities are ordered by entry date, entry id and
position in the entry, never by an id or by the order Chroma returns.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import bm25s
import numpy as np
import Stemmer

from ingest.vector_index import ChromaIndex, IndexHit, date_number, indexed_at
from service.retrieval.bm25 import Bm25Index

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
class _Doc:
    hit: IndexHit
    version: str | None  # its entry's version when the hit was read (None: unknown)
    vector: np.ndarray | None = None  # as stored in the vector index


@dataclass
class _Dense:
    """The user's vectors as one matrix. Rows are in no particular order: ``nearest``
    orders its candidates itself, so a write that only adds chunks appends rows
    (``extended``) instead of rebuilding the matrix (at 20k chunks the rebuild was most
    of the next question's retrieval)."""

    hits: list[IndexHit]
    vectors: np.ndarray  # as stored
    unit: np.ndarray  # scaled to length 1: cosine similarity is a dot product
    dates: np.ndarray  # YYYYMMDD

    @classmethod
    def of(cls, docs: Sequence[_Doc]) -> _Dense:
        rows = [d for d in docs if d.vector is not None]
        if not rows:
            empty = np.zeros((0, 0), dtype=np.float32)
            return cls([], empty, empty, np.zeros(0, dtype=np.int64))
        vectors = np.stack([np.asarray(d.vector, dtype=np.float32) for d in rows])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return cls(
            hits=[d.hit for d in rows],
            vectors=vectors,
            unit=vectors / np.where(norms == 0, 1.0, norms),
            dates=np.asarray([date_number(d.hit.date) for d in rows], dtype=np.int64),
        )

    def extended(self, docs: Sequence[_Doc]) -> _Dense:
        """This matrix with rows for ``docs`` (chunks new to it) appended."""
        more = _Dense.of(docs)
        if not more.hits:
            return self
        if not self.hits:
            return more
        return _Dense(
            hits=self.hits + more.hits,
            vectors=np.concatenate([self.vectors, more.vectors]),
            unit=np.concatenate([self.unit, more.unit]),
            dates=np.concatenate([self.dates, more.dates]),
        )


def _tie_order(h: IndexHit) -> tuple[dt.date, str, int, str]:
    return (h.date, h.entry_id, h.start, h.chunk_id)


def _top(scores: np.ndarray, k: int, hits: Sequence[IndexHit]) -> list[int]:
    """Indices of the ``k`` best scores, best first; equal scores by entry date, entry
    id, position in the entry and chunk id. Every score tied with the k-th is a
    candidate, so the cut is the same whatever order the rows are in."""
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    if k < n:
        kth = np.partition(-scores, k - 1)[k - 1]
        candidates = np.flatnonzero(-scores <= kth)
    else:
        candidates = np.arange(n)
    order = sorted(candidates.tolist(), key=lambda i: (-float(scores[i]), _tie_order(hits[i])))
    return order[:k]


@dataclass
class _UserLexical:
    """One person's chunks and their BM25 index; only ever that person's."""

    user_id: str
    revision: int | None = None  # None: never read
    docs: dict[str, _Doc] = field(default_factory=dict)
    bm25: Bm25Index = field(default_factory=Bm25Index)
    dense: _Dense | None = None  # built when first asked for after a change
    # Chunks added since ``dense`` was built (appended when it is next read).
    dense_added: list[_Doc] = field(default_factory=list)
    # Held while the index is brought up to date and while it is read: an update
    # changes it in place, and one person's questions rarely overlap.
    lock: threading.Lock = field(default_factory=threading.Lock)


# How long after an entry was marked indexed a vector index that does not show it yet is
# taken to be lagging (read again on the next question) rather than the entry to have no
# chunks at all.
LAG_WINDOW = dt.timedelta(seconds=120)


def _lagging(
    versions: dict[str, str], docs: Iterable[_Doc], now: dt.datetime | None = None
) -> bool:
    """Whether an entry the store marked indexed in the last ``LAG_WINDOW`` has no chunk
    among those the vector index returned.

    The store's mark is committed after the chunks were written to the index, so such an
    entry means the index's answer was older than the store's (a Chroma server that has
    just come back, or a replica behind). Recording the revision then would keep the
    entry out of every answer until the next write; a CI run saw exactly that once
    (the entry written last while the index was down was never cited).
    """
    shown = {d.hit.entry_id for d in docs}
    now = now or dt.datetime.now(dt.UTC)
    for entry_id, token in versions.items():
        if entry_id in shown:
            continue
        at = indexed_at(token)
        if at is not None and now - at < LAG_WINDOW:
            return True
    return False


class LexicalIndex:
    """Per-user BM25 indexes, kept for the ``max_users`` most recent users."""

    def __init__(self, max_users: int = 16, language: str = "english"):
        self._stemmer = Stemmer.Stemmer(language)
        self._cache: OrderedDict[str, _UserLexical] = OrderedDict()
        self._max = max_users
        self._lock = threading.Lock()  # guards ``_cache`` (each user's index has its own)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        if not texts:
            return []
        tokens = bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return [list(t) for t in tokens]

    def _user(self, user_id: str) -> _UserLexical:
        """This user's entry in the LRU (created empty), marked most recent."""
        with self._lock:
            state = self._cache.get(user_id)
            if state is None:
                state = self._cache[user_id] = _UserLexical(user_id)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
            return state

    @contextmanager
    def _current(self, index: ChromaIndex, user_id: str, revision: int) -> Iterator[_UserLexical]:
        """The user's index, brought to ``revision`` first, held locked while in use.

        Any revision other than the one last read (older ones too) is read again: a
        newer one is never missed, and the read is of the current state, so a request
        that saw an older revision is never answered from anything staler than it saw.
        """
        if not user_id:
            raise ValueError("the lexical index is only ever read for one user")
        state = self._user(user_id)
        with state.lock:
            if state.revision != revision:
                complete = self._update(index, state)
                # Not recorded while the vector index lags the store (see ``_lagging``):
                # the next read at this revision reads what changed again.
                state.revision = revision if complete else None
            yield state

    def _update(self, index: ChromaIndex, state: _UserLexical) -> bool:
        """Bring ``state`` to what the index and the store hold now, reading only changes;
        False when the vector index did not yet show an entry the store calls indexed.

        Versions are read before the ids and the hits: a write that commits in between
        moves a version past the one recorded here, so it is read again next time (the
        other order could record a new version beside an old text, for good).
        Everything is read first and the index changed last, so a failed read leaves
        the index as it was, at its old revision, to be retried.
        """
        user_id = state.user_id
        versions = index.entry_versions(user_id)
        gone: list[str] = []
        vectors: dict[str, np.ndarray]
        if not state.docs:  # a first read: everything, in one pass
            hits, matrix = index.documents_with_vectors(user_id)
            vectors = {h.chunk_id: matrix[i] for i, h in enumerate(hits)}
        else:
            ids = index.chunk_ids(user_id)
            current = set(ids)
            gone = [cid for cid in state.docs if cid not in current]
            stale = [
                cid
                for cid in ids
                if cid not in state.docs
                or versions is None
                or state.docs[cid].version != versions.get(state.docs[cid].hit.entry_id)
            ]
            hits, vectors = (
                index.documents_by_id_with_vectors(user_id, stale) if stale else ([], {})
            )
            got = {h.chunk_id for h in hits}
            gone += [cid for cid in stale if cid not in got and cid in state.docs]
        changed = [
            h for h in hits if h.chunk_id not in state.docs or state.docs[h.chunk_id].hit != h
        ]
        tokens = self._tokenize([h.text for h in changed])
        added = [h.chunk_id for h in hits if h.chunk_id not in state.docs]
        only_added = not gone and len(added) == len(hits)

        for cid in gone:
            state.bm25.remove(cid)
            del state.docs[cid]
        for h in hits:
            version = None if versions is None else versions.get(h.entry_id)
            state.docs[h.chunk_id] = _Doc(h, version, vectors.get(h.chunk_id))
        if not only_added:
            state.dense, state.dense_added = None, []  # removed or changed: built again
        elif state.dense is not None:
            state.dense_added.extend(state.docs[cid] for cid in added)
        for h, toks in zip(changed, tokens, strict=True):
            state.bm25.add(h.chunk_id, toks)
        return versions is None or not _lagging(versions, state.docs.values())

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
        with self._current(index, user_id, revision) as state:
            if not state.docs:
                return 0.0
            return sum(state.bm25.has_term(t) for t in terms) / len(terms)

    def search(
        self, index: ChromaIndex, user_id: str, revision: int, query: str, k: int
    ) -> list[tuple[IndexHit, float]]:
        """Chunks with a positive BM25 score, best first (equal scores by chunk id)."""
        (q,) = self._tokenize([query])
        if not q:
            return []
        with self._current(index, user_id, revision) as state:
            return [(state.docs[cid].hit, s) for cid, s in state.bm25.top(q, k)]

    def nearest(
        self,
        index: ChromaIndex,
        user_id: str,
        revision: int,
        queries: Sequence[np.ndarray],
        k: int,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> tuple[list[list[IndexHit]], dict[str, np.ndarray]]:
        """The ``k`` chunks most similar (cosine) to each query vector, found exactly, best
        first (equal similarities by entry date, entry id, position), and the stored
        vector of every hit: what ``ChromaIndex.query_many`` gives, without depending on
        how Chroma's approximate index happened to be built."""
        with self._current(index, user_id, revision) as state:
            if state.dense is None:
                state.dense = _Dense.of(list(state.docs.values()))
            elif state.dense_added:
                state.dense = state.dense.extended(state.dense_added)
            state.dense_added = []
            dense = state.dense
        allowed = np.ones(len(dense.hits), dtype=bool)
        if since is not None:
            allowed &= dense.dates >= date_number(since)
        if until is not None:
            allowed &= dense.dates <= date_number(until)
        pool = np.flatnonzero(allowed)
        out: list[list[IndexHit]] = []
        vectors: dict[str, np.ndarray] = {}
        for q in queries:
            qv = np.asarray(q, dtype=np.float32)
            qn = float(np.linalg.norm(qv))
            scores = dense.unit[pool] @ (qv / qn if qn else qv) if len(pool) else np.zeros(0)
            ranked = _top(scores, k, [dense.hits[int(i)] for i in pool] if len(pool) else [])
            hits = []
            for j in ranked:
                i = int(pool[j])
                h = dense.hits[i]
                hits.append(dataclasses.replace(h, similarity=float(scores[j])))
                vectors[h.chunk_id] = dense.vectors[i]
            out.append(hits)
        return out, vectors

    def vectors(
        self, index: ChromaIndex, user_id: str, revision: int, chunk_ids: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """Stored vectors of these chunks of the user's (others are left out)."""
        with self._current(index, user_id, revision) as state:
            docs = ((cid, state.docs.get(cid)) for cid in chunk_ids)
            return {cid: d.vector for cid, d in docs if d is not None and d.vector is not None}
