"""``trustlens bench after-write``: the first lexical search after one new entry.

Every write bumps the person's index revision, and the next question brings the BM25
index to it. Before issue 12 that meant a rebuild: every chunk's metadata and text
read back, all of it tokenised, a new ``bm25s.BM25`` built. ``LexicalIndex`` now reads
the chunk ids and the entries' versions and tokenises only what changed.

One user's journal of ``chunks`` synthetic one-sentence chunks (five per entry, the
sentences of ``eval.bench_common``) is written to a fresh SQLite store and embedded
Chroma in the order the indexer writes (entries, then vectors, then the index state
with a revision bump). The vectors are random and small: the lexical path never reads
them, and embedding 20k texts would only slow the set-up. Then, ``repeats`` times: one
more entry is written the same way, and the first search after it is timed for

- **incremental**: ``LexicalIndex.search`` on the index warmed at the previous revision;
- **rebuild**: ``rebuild_search``, the lexical path as it was (``documents`` + bm25s).

The two run in alternating order, in one process, on the same data; both must return
the same chunks. Reported: each method's median, the ratio rebuild / incremental, and
the cold first build of each for reference.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from eval.bench_common import sentence, timed

DIM = 32
SENTENCES_PER_ENTRY = 5
QUERY = "When did Sam cancel the trip to the coast?"


def rebuild_search(
    index: Any, user_id: str, query: str, k: int, stemmer: Any
) -> list[tuple[Any, float]]:
    """The lexical search before issue 12, as it ran after every write: every chunk
    read back with its text, tokenised, indexed by a new ``bm25s.BM25``, then searched."""
    hits = index.documents(user_id)
    if not hits:
        return []
    model = bm25s.BM25()
    tokens = bm25s.tokenize(
        [h.text for h in hits], stopwords="en", stemmer=stemmer, show_progress=False
    )
    model.index(tokens, show_progress=False)
    q = bm25s.tokenize([query], stopwords="en", stemmer=stemmer, show_progress=False)
    if not q.ids[0]:
        return []
    docs, scores = model.retrieve(q, k=min(k, len(hits)), show_progress=False)
    return [
        (hits[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if float(s) > 0
    ]


class Writer:
    """Writes synthetic entries for one user as the indexer orders its writes."""

    def __init__(self, c: Any, user_id: str, seed: int, dim: int = DIM):
        self.c = c
        self.user_id = user_id
        self.rng = random.Random(seed)
        self.nrng = np.random.default_rng(seed)
        self.dim = dim
        self.next = 0

    def write(self, n_chunks: int) -> None:
        from ingest.store import Entry, UserEntries, content_hash
        from ingest.vector_index import IndexRecord, chunk_id

        done = 0
        while done < n_chunks:
            entries: list[Any] = []
            records: list[Any] = []
            while done < n_chunks and len(entries) < 1000:
                n = min(SENTENCES_PER_ENTRY, n_chunks - done)
                sents = [sentence(self.rng) for _ in range(n)]
                text = " ".join(sents)
                eid = f"s{self.next:07d}"
                date = dt.date(2020, 1, 1) + dt.timedelta(days=self.next % 2000)
                entries.append(
                    Entry(
                        user_id=self.user_id,
                        entry_id=eid,
                        date=date,
                        text=text,
                        tags=[],
                        source="bench",
                        content_hash=content_hash(text, date, []),
                    )
                )
                vecs = self.nrng.standard_normal((n, self.dim)).astype(np.float32)
                pos = 0
                for seq, s in enumerate(sents):
                    records.append(
                        IndexRecord(
                            chunk_id=chunk_id(self.user_id, eid, seq),
                            user_id=self.user_id,
                            entry_id=eid,
                            date=date,
                            start=pos,
                            end=pos + len(s),
                            text=s,
                            embedding=vecs[seq] / np.linalg.norm(vecs[seq]),
                        )
                    )
                    pos += len(s) + 1
                done += n
                self.next += 1
            with self.c.sessions() as session:
                session.add_all(entries)
                session.commit()
                self.c.index.upsert(records)
                UserEntries(session, self.user_id).mark_indexed(entries)
                session.commit()

    def revision(self) -> int:
        from ingest.store import UserEntries

        with self.c.sessions() as session:
            return UserEntries(session, self.user_id).revision()


def bench_after_write(chunks: int = 20000, repeats: int = 3, seed: int = 13) -> dict[str, Any]:
    import Stemmer

    from ingest.store import get_or_create_user
    from service.container import Container
    from service.retrieval.lexical import LexicalIndex
    from service.settings import Settings

    k = 120  # what the hybrid retriever asks for (3 x 40 candidates)
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="trustlens-bench-after-write-") as tmp:
        c = Container(Settings(data_dir=Path(tmp), llm="extractive"))
        try:
            with c.sessions() as session:
                uid = get_or_create_user(session, "bench").id
                session.commit()
            writer = Writer(c, uid, seed)
            load_s, _ = timed(lambda: writer.write(chunks))
            lexical = LexicalIndex()
            stemmer = Stemmer.Stemmer("english")
            rev = writer.revision()
            cold_incremental_s, _ = timed(lambda: lexical.search(c.index, uid, rev, QUERY, k))
            cold_rebuild_s, _ = timed(lambda: rebuild_search(c.index, uid, QUERY, k, stemmer))
            for r in range(repeats):
                writer.write(SENTENCES_PER_ENTRY)  # one more entry: a new revision
                rev = writer.revision()
                times: dict[str, float] = {}
                found: dict[str, dict[str, float]] = {}

                def incremental(rev: int = rev) -> list[tuple[Any, float]]:
                    return lexical.search(c.index, uid, rev, QUERY, k)

                def rebuild() -> list[tuple[Any, float]]:
                    return rebuild_search(c.index, uid, QUERY, k, stemmer)

                order = [("incremental", incremental), ("rebuild", rebuild)]
                for name, fn in order if r % 2 == 0 else order[::-1]:
                    times[name], hits = timed(fn)
                    found[name] = {h.chunk_id: s for h, s in hits}
                rounds.append(
                    {
                        "incremental_ms": 1000 * times["incremental"],
                        "rebuild_ms": 1000 * times["rebuild"],
                        "same_results": _same(found["incremental"], found["rebuild"]),
                    }
                )
            total = c.index.count(uid)
        finally:
            c.close()

    inc = statistics.median(r["incremental_ms"] for r in rounds)
    reb = statistics.median(r["rebuild_ms"] for r in rounds)
    return {
        "chunks": total,
        "load_seconds": load_s,
        "incremental_ms": inc,
        "rebuild_ms": reb,
        "ratio_rebuild_vs_incremental": reb / inc,
        "cold_build_ms": {
            "incremental": 1000 * cold_incremental_s,
            "rebuild": 1000 * cold_rebuild_s,
        },
        "same_results": all(r["same_results"] for r in rounds),
        "rounds": rounds,
        "config": {
            "chunks": chunks,
            "repeats": repeats,
            "seed": seed,
            "k": k,
            "query": QUERY,
            "write": f"one entry of {SENTENCES_PER_ENTRY} one-sentence chunks per round",
            "vectors": f"random, {DIM}-dimensional (the lexical path never reads them)",
            "timing": "first search after each write, incremental and rebuild in "
            "alternating order; medians over the rounds; cold_build_ms: the first search "
            "of each on the loaded journal",
        },
    }


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Same scores; the same chunks except where equal scores at the cut leave a choice."""
    sa, sb = sorted(a.values()), sorted(b.values())
    if len(sa) != len(sb) or any(abs(x - y) > 1e-5 for x, y in zip(sa, sb, strict=True)):
        return False
    cut = min(sa, default=0.0) + 1e-5
    return {c for c, s in a.items() if s > cut} == {c for c, s in b.items() if s > cut}
