"""An updatable BM25 index: documents are added and removed one at a time.

``bm25s.BM25`` precomputes every (document, term) score, so its index is only ever
built whole: one new chunk changes N and the average length, hence every score. This
index keeps what those scores are made of instead (per term, the documents holding it
with their term frequency; per document, its length; N and the total length) and
computes idf and the length norm when a question is asked. Adding or removing one
chunk is then a handful of appends, whatever the size of the journal.

The scores are bm25s's defaults, to the float: the Lucene variant (``method="lucene"``:
idf ``log(1 + (N - df + 0.5) / (df + 0.5))``, term part ``tf / (tf + k1 (1 - b + b dl /
avgdl))``), k1 1.5, b 0.75, every query token counted as often as it occurs, documents
without tokens counted in N and in the average length. ``tests/service/retrieval/
test_bm25.py`` holds it to ``bm25s.BM25`` on random corpora, after adds and deletes.

Postings are append-only ``array('i')`` pairs (document slot, term frequency): a removed
document's slot is marked dead and skipped when scoring, and the arrays are compacted
(dead slots dropped, the living renumbered) once the dead outnumber the living.
Memory stays near bm25s's (eight bytes a posting), not a Python object per posting.

Not thread-safe: the caller (``LexicalIndex``) holds a lock around every call.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Sequence

import numpy as np

K1 = 1.5  # bm25s.BM25() defaults
B = 0.75


class Bm25Index:
    """BM25 (Lucene variant) over documents named by string keys."""

    def __init__(self, k1: float = K1, b: float = B):
        self.k1 = k1
        self.b = b
        self._term_id: dict[str, int] = {}
        self._post_slots: list[array[int]] = []  # per term id: slots, dead ones included
        self._post_tfs: list[array[int]] = []  # per term id: tf, aligned with slots
        self._df: list[int] = []  # per term id: living documents that hold the term
        self._slot_of: dict[str, int] = {}
        self._keys: list[str | None] = []  # per slot; None once removed
        self._doc_terms: list[tuple[tuple[int, ...], tuple[int, ...]] | None] = []
        self._lengths = np.zeros(64, dtype=np.int64)
        self._alive = np.zeros(64, dtype=bool)
        self._total_len = 0
        self._dead = 0

    # ------------------------------------------------------------------ contents
    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, key: str) -> bool:
        return key in self._slot_of

    def has_term(self, term: str) -> bool:
        """Whether any document holds ``term`` (a stemmed token)."""
        tid = self._term_id.get(term)
        return tid is not None and self._df[tid] > 0

    def vocabulary(self) -> frozenset[str]:
        return frozenset(t for t, tid in self._term_id.items() if self._df[tid] > 0)

    # ------------------------------------------------------------------- updates
    def add(self, key: str, tokens: Sequence[str]) -> None:
        """Index a document's tokens under ``key`` (replacing what ``key`` held)."""
        if key in self._slot_of:
            self.remove(key)
        slot = len(self._keys)
        if slot >= len(self._lengths):
            grown = max(64, 2 * len(self._lengths))
            self._lengths = np.resize(self._lengths, grown)
            self._alive = np.resize(self._alive, grown)
        counts = Counter(tokens)
        tids: list[int] = []
        tfs: list[int] = []
        for term, tf in counts.items():
            tid = self._term_id.get(term)
            if tid is None:
                tid = len(self._df)
                self._term_id[term] = tid
                self._post_slots.append(array("i"))
                self._post_tfs.append(array("i"))
                self._df.append(0)
            self._post_slots[tid].append(slot)
            self._post_tfs[tid].append(tf)
            self._df[tid] += 1
            tids.append(tid)
            tfs.append(tf)
        self._slot_of[key] = slot
        self._keys.append(key)
        self._doc_terms.append((tuple(tids), tuple(tfs)))
        self._lengths[slot] = len(tokens)
        self._alive[slot] = True
        self._total_len += len(tokens)

    def remove(self, key: str) -> None:
        """Drop a document (a key not held is ignored)."""
        slot = self._slot_of.pop(key, None)
        if slot is None:
            return
        terms = self._doc_terms[slot]
        assert terms is not None
        for tid in terms[0]:
            self._df[tid] -= 1
        self._keys[slot] = None
        self._doc_terms[slot] = None
        self._alive[slot] = False
        self._total_len -= int(self._lengths[slot])
        self._dead += 1
        if self._dead > max(1024, len(self._slot_of)):
            self._compact()

    def _compact(self) -> None:
        """Drop dead slots from every posting list and renumber the living densely."""
        n_slots = len(self._keys)
        alive = self._alive[:n_slots]
        new_slot = np.cumsum(alive) - 1
        for tid in range(len(self._df)):
            slots = np.frombuffer(self._post_slots[tid], dtype=np.int32)
            tfs = np.frombuffer(self._post_tfs[tid], dtype=np.int32)
            keep = alive[slots]
            fresh_slots = array("i", new_slot[slots[keep]].astype(np.int32).tobytes())
            fresh_tfs = array("i", tfs[keep].tobytes())
            del slots, tfs  # release the buffer views before the arrays are replaced
            self._post_slots[tid] = fresh_slots
            self._post_tfs[tid] = fresh_tfs
        living = np.flatnonzero(alive)
        self._keys = [self._keys[i] for i in living]
        self._doc_terms = [self._doc_terms[i] for i in living]
        size = max(64, 2 * len(living))
        lengths = np.zeros(size, dtype=np.int64)
        lengths[: len(living)] = self._lengths[living]
        self._lengths = lengths
        self._alive = np.zeros(size, dtype=bool)
        self._alive[: len(living)] = True
        self._slot_of = {k: i for i, k in enumerate(self._keys) if k is not None}
        # Terms no document holds any more are dropped, so the vocabulary cannot grow
        # without bound over a long life of edits.
        used = [tid for tid in range(len(self._df)) if self._df[tid] > 0]
        remap = {old: new for new, old in enumerate(used)}
        self._term_id = {t: remap[tid] for t, tid in self._term_id.items() if tid in remap}
        self._post_slots = [self._post_slots[tid] for tid in used]
        self._post_tfs = [self._post_tfs[tid] for tid in used]
        self._df = [self._df[tid] for tid in used]
        self._doc_terms = [
            None if d is None else (tuple(remap[t] for t in d[0]), d[1]) for d in self._doc_terms
        ]
        self._dead = 0

    # ------------------------------------------------------------------- queries
    def scores(self, query_tokens: Sequence[str]) -> dict[str, float]:
        """Every document's score for the query (zero scores left out)."""
        raw = self._score_slots(query_tokens)
        if raw is None:
            return {}
        return {self._keys[int(i)] or "": float(raw[i]) for i in np.flatnonzero(raw)}

    def top(self, query_tokens: Sequence[str], k: int) -> list[tuple[str, float]]:
        """The ``k`` best documents with a positive score, best first (ties by key)."""
        raw = self._score_slots(query_tokens)
        if raw is None or k <= 0:
            return []
        positive = np.flatnonzero(raw > 0)
        if len(positive) > k:
            # The k-th best score; everything tied with it stays in until the key decides.
            kth = np.partition(raw[positive], len(positive) - k)[len(positive) - k]
            positive = positive[raw[positive] >= kth]
        ranked = sorted(
            ((self._keys[int(i)] or "", float(raw[i])) for i in positive),
            key=lambda kv: (-kv[1], kv[0]),
        )
        return ranked[:k]

    def _score_slots(self, query_tokens: Sequence[str]) -> np.ndarray | None:
        n = len(self._slot_of)
        if n == 0 or self._total_len == 0:
            return None
        n_slots = len(self._keys)
        avgdl = self._total_len / n
        norm = self.k1 * (1 - self.b + self.b * self._lengths[:n_slots] / avgdl)
        alive = self._alive[:n_slots]
        out = np.zeros(n_slots, dtype=np.float64)
        found = False
        for term in query_tokens:  # repeated tokens count again, as in bm25s
            tid = self._term_id.get(term)
            if tid is None or self._df[tid] == 0:
                continue
            found = True
            df = self._df[tid]
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            slots = np.array(self._post_slots[tid], dtype=np.int64)
            tfs = np.array(self._post_tfs[tid], dtype=np.float64)
            keep = alive[slots]
            slots, tfs = slots[keep], tfs[keep]
            out[slots] += idf * tfs / (tfs + norm[slots])
        return out if found else None
