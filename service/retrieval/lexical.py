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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import bm25s
import numpy as np
import Stemmer

from ingest.vector_index import ChromaIndex, IndexHit, date_number, indexed_at
from service.lru import PerUserLRU
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
    vector: np.ndarray | None = None  # as stored in the vector index


class _Dense:
    """The user's vectors as one matrix, kept up to date in place.

    Rows are in no particular order (``nearest`` orders its candidates itself). Chunks
    are appended into spare rows (the arrays double when full) and removed by marking
    their row dead; the matrix is compacted when over half its rows are dead. At 100k
    chunks, rebuilding or concatenating it after each write was 0.46 s of the next
    question's 2.7 s.

    Rows below ``n`` are never rewritten: a reader holds a ``_DenseView`` (the arrays
    and ``n``) and scores it outside the user's lock while a write appends beyond ``n``,
    marks rows dead in a new copy of the live-row mask, or compacts into new arrays.
    """

    def __init__(self) -> None:
        self.hits: list[IndexHit] = []
        self.vectors = np.zeros((0, 0), dtype=np.float32)  # as stored
        self.unit = np.zeros((0, 0), dtype=np.float32)  # length 1: cosine is a dot product
        self.dates = np.zeros(0, dtype=np.int64)  # YYYYMMDD
        self.alive = np.zeros(0, dtype=bool)
        self.row: dict[str, int] = {}  # chunk id -> its live row
        self.n = 0

    def add(self, docs: Sequence[_Doc]) -> None:
        rows = [d for d in docs if d.vector is not None]
        if not rows:
            return
        self.remove([d.hit.chunk_id for d in rows])
        new = np.stack([np.asarray(d.vector, dtype=np.float32) for d in rows])
        if self.vectors.shape[1] != new.shape[1]:
            self._reshape(new.shape[1])
        if self.n + len(rows) > len(self.vectors):
            self._grow(self.n + len(rows))
        a, b = self.n, self.n + len(rows)
        norms = np.linalg.norm(new, axis=1, keepdims=True)
        self.vectors[a:b] = new
        self.unit[a:b] = new / np.where(norms == 0, 1.0, norms)
        self.dates[a:b] = [date_number(d.hit.date) for d in rows]
        self.alive[a:b] = True
        for i, d in enumerate(rows):
            self.row[d.hit.chunk_id] = a + i
        self.hits.extend(d.hit for d in rows)
        self.n = b

    def remove(self, chunk_ids: Iterable[str]) -> None:
        dead = [r for r in (self.row.pop(c, None) for c in chunk_ids) if r is not None]
        if not dead:
            return
        self.alive = self.alive.copy()  # a reader may hold the old mask
        self.alive[dead] = False
        if len(self.row) < self.n // 2:
            self._grow(max(len(self.row), 1), compact=True)

    def _reshape(self, dim: int) -> None:
        """A first vector, or vectors of another model: every row is dropped."""
        self.hits, self.row, self.n = [], {}, 0
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.unit = np.zeros((0, dim), dtype=np.float32)
        self.dates = np.zeros(0, dtype=np.int64)
        self.alive = np.zeros(0, dtype=bool)

    def _grow(self, need: int, compact: bool = False) -> None:
        """New arrays (never resized in place: a reader may hold the old ones) with room
        for ``need`` rows and more; ``compact`` also drops dead rows."""
        keep = np.flatnonzero(self.alive[: self.n]) if compact else np.arange(self.n)
        cap = max(64, 2 * need)
        dim = self.vectors.shape[1]
        vectors = np.zeros((cap, dim), dtype=np.float32)
        unit = np.zeros((cap, dim), dtype=np.float32)
        dates = np.zeros(cap, dtype=np.int64)
        alive = np.zeros(cap, dtype=bool)
        m = len(keep)
        vectors[:m] = self.vectors[keep]
        unit[:m] = self.unit[keep]
        dates[:m] = self.dates[keep]
        alive[:m] = self.alive[keep]
        hits = [self.hits[int(i)] for i in keep]
        self.vectors, self.unit, self.dates, self.alive, self.hits = (
            vectors,
            unit,
            dates,
            alive,
            hits,
        )
        self.row = {h.chunk_id: i for i, h in enumerate(hits) if alive[i]}
        self.n = m

    def view(self) -> _DenseView:
        return _DenseView(self.hits, self.vectors, self.unit, self.dates, self.alive, self.n)


@dataclass(frozen=True)
class _DenseView:
    """What one ``nearest`` scores: rows below ``n`` of arrays no write changes."""

    hits: list[IndexHit]
    vectors: np.ndarray
    unit: np.ndarray
    dates: np.ndarray
    alive: np.ndarray
    n: int


def _same_vector(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _tie_order(h: IndexHit) -> tuple[dt.date, str, int, str]:
    return (h.date, h.entry_id, h.start, h.chunk_id)


# How far below the k-th score a row is still a candidate, for ``_top``: a matrix-vector
# product's float32 rounding depends on where a row sits in the matrix (two copies of one
# vector scored 0.72566920 and 0.72566926), so near-ties are scored again exactly.
_NEAR = 1e-5


def _top(
    scores: np.ndarray,
    k: int,
    hit: Callable[[int], IndexHit],
    exact: Callable[[np.ndarray], np.ndarray],
) -> list[tuple[int, float]]:
    """The ``k`` best of ``scores`` as (index, score), best first; equal scores by entry
    date, entry id, position in the entry and chunk id (``hit(i)``: the chunk of score
    ``i``). Every score within ``_NEAR`` of the k-th is a candidate and is scored again
    by ``exact`` (a per-row sum, the same for the same vector wherever it sits), so the
    cut and the order are the same whatever order the rows are in."""
    n = len(scores)
    if n == 0 or k <= 0:
        return []
    if k < n:
        kth = np.partition(-scores, k - 1)[k - 1]
        candidates = np.flatnonzero(-scores <= kth + _NEAR)
    else:
        candidates = np.arange(n)
    again = exact(candidates)
    rescored = {int(i): float(s) for i, s in zip(candidates, again, strict=True)}
    order = sorted(rescored, key=lambda i: (-rescored[i], _tie_order(hit(i))))
    return [(i, rescored[i]) for i in order[:k]]


@dataclass
class _UserLexical:
    """One person's chunks and their BM25 index; only ever that person's."""

    user_id: str
    revision: int | None = None  # None: never read
    docs: dict[str, _Doc] = field(default_factory=dict)
    bm25: Bm25Index = field(default_factory=Bm25Index)
    dense: _Dense = field(default_factory=_Dense)
    # What the docs were read at: each entry's version token, and its chunks' ids.
    versions: dict[str, str] = field(default_factory=dict)
    by_entry: dict[str, set[str]] = field(default_factory=dict)
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
        self._cache: PerUserLRU[_UserLexical] = PerUserLRU(max_users, _UserLexical)

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        if not texts:
            return []
        tokens = bm25s.tokenize(
            texts, stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        return [list(t) for t in tokens]

    @contextmanager
    def _current(self, index: ChromaIndex, user_id: str, revision: int) -> Iterator[_UserLexical]:
        """The user's index, brought to ``revision`` first, held locked while in use.

        Any revision other than the one last read (older ones too) is read again: a
        newer one is never missed, and the read is of the current state, so a request
        that saw an older revision is never answered from anything staler than it saw.
        """
        if not user_id:
            raise ValueError("the lexical index is only ever read for one user")
        state = self._cache.get(user_id)
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

        Versions are read before the chunks: a write that commits in between moves a
        version past the one recorded here, so it is read again next time (the other
        order could record a new version beside an old text, for good). Everything is
        read first and the index changed last, so a failed read leaves the index as it
        was, at its old revision, to be retried.

        With the store's versions, only entries whose version moved (or that are new or
        gone) are read, by chunk id (``ChromaIndex.entry_chunks_with_vectors``): nothing
        here grows with the journal but the one query for the versions. Listing every
        chunk id instead was 1.9 s of the next question at 100k chunks.
        """
        user_id = state.user_id
        versions = index.entry_versions(user_id)
        if versions is None or not state.docs:
            return self._read_all(index, state, versions)
        moved = [eid for eid, tok in versions.items() if state.versions.get(eid) != tok]
        left = [eid for eid in state.by_entry if eid not in versions]
        hits, vectors = index.entry_chunks_with_vectors(user_id, moved) if moved else ([], {})
        now: dict[str, set[str]] = {}
        for h in hits:
            now.setdefault(h.entry_id, set()).add(h.chunk_id)
        gone = [
            cid
            for eid in [*moved, *left]
            for cid in state.by_entry.get(eid, set())
            if cid not in now.get(eid, set())
        ]
        self._apply(state, hits, vectors, gone)
        # An entry the store marked indexed lately but the index does not show is not
        # recorded (see ``_lagging``): the next read asks for it again.
        lagging = {eid for eid in moved if eid not in now and _lagging({eid: versions[eid]}, [])}
        for eid in left:
            state.versions.pop(eid, None)
            state.by_entry.pop(eid, None)
        for eid in moved:
            if eid in lagging:
                state.versions.pop(eid, None)
            else:
                state.versions[eid] = versions[eid]
        return not lagging

    def _read_all(
        self, index: ChromaIndex, state: _UserLexical, versions: dict[str, str] | None
    ) -> bool:
        """A first read (every chunk, in one pass), or a read without the store's versions
        (every chunk id listed, and every chunk read again)."""
        user_id = state.user_id
        gone: list[str] = []
        vectors: dict[str, np.ndarray]
        if not state.docs:
            hits, matrix = index.documents_with_vectors(user_id)
            vectors = {h.chunk_id: matrix[i] for i, h in enumerate(hits)}
        else:
            ids = index.chunk_ids(user_id)
            current = set(ids)
            gone = [cid for cid in state.docs if cid not in current]
            # nothing says which chunks changed: all of them are read again
            hits, vectors = index.documents_by_id_with_vectors(user_id, ids) if ids else ([], {})
        self._apply(state, hits, vectors, gone)
        if versions is None:
            state.versions = {}
            return True
        shown = {d.hit.entry_id for d in state.docs.values()}
        state.versions = {eid: tok for eid, tok in versions.items() if eid in shown}
        return not _lagging(versions, state.docs.values())

    def _apply(
        self,
        state: _UserLexical,
        hits: Sequence[IndexHit],
        vectors: dict[str, np.ndarray],
        gone: Sequence[str],
    ) -> None:
        """Drop ``gone`` chunks, then add or replace ``hits`` in the docs, BM25 and the
        dense matrix (BM25 only where the hit moved; the matrix also where the vector
        did, as after a re-index with another model)."""
        changed = [
            h for h in hits if h.chunk_id not in state.docs or state.docs[h.chunk_id].hit != h
        ]
        moved = [
            h
            for h in hits
            if (old := state.docs.get(h.chunk_id)) is None
            or old.hit != h
            or not _same_vector(old.vector, vectors.get(h.chunk_id))
        ]
        tokens = self._tokenize([h.text for h in changed])
        for cid in gone:
            doc = state.docs.pop(cid, None)
            state.bm25.remove(cid)
            if doc is not None:
                state.by_entry.get(doc.hit.entry_id, set()).discard(cid)
        state.dense.remove(gone)
        for h in hits:
            state.docs[h.chunk_id] = _Doc(h, vectors.get(h.chunk_id))
            state.by_entry.setdefault(h.entry_id, set()).add(h.chunk_id)
        for h, toks in zip(changed, tokens, strict=True):
            state.bm25.add(h.chunk_id, toks)
        state.dense.remove([h.chunk_id for h in moved if state.docs[h.chunk_id].vector is None])
        state.dense.add([state.docs[h.chunk_id] for h in moved])

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
            dense = state.dense.view()
        allowed = dense.alive[: dense.n].copy()
        if since is not None:
            allowed &= dense.dates[: dense.n] >= date_number(since)
        if until is not None:
            allowed &= dense.dates[: dense.n] <= date_number(until)
        pool = np.flatnonzero(allowed)
        out: list[list[IndexHit]] = []
        vectors: dict[str, np.ndarray] = {}
        for q in queries:
            qv = np.asarray(q, dtype=np.float32)
            qn = float(np.linalg.norm(qv))
            # every row scored, then the allowed ones taken: gathering the allowed rows
            # first would copy the whole matrix for each query
            unit_q = qv / qn if qn else qv
            if not len(pool):  # no chunks (or none in the period): nothing is near
                out.append([])
                continue
            every = dense.unit[: dense.n] @ unit_q
            scores = every[pool]

            def exact(js: np.ndarray, unit_q: np.ndarray = unit_q) -> np.ndarray:
                rows = dense.unit[pool[js]].astype(np.float64)
                return (rows * unit_q.astype(np.float64)).sum(axis=1).astype(np.float32)

            ranked = _top(scores, k, lambda j: dense.hits[int(pool[j])], exact)
            hits = []
            for j, score in ranked:
                i = int(pool[j])
                h = dense.hits[i]
                hits.append(dataclasses.replace(h, similarity=score))
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
