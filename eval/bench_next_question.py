"""``trustlens bench next-question``: the next question after a write, against the floor.

Issue 12 asks that, after a write to a journal of 100k chunks, the next question's p50
stay within 1.5x of *query embedding plus a raw Chroma query*: what any retrieval must
pay at least. Here one user's journal of ``chunks`` synthetic one-sentence chunks is
written as the indexer writes (``eval.bench_after_write.Writer``) with random unit
vectors of the embedding model's dimension (embedding 100k texts would take an hour and
the retrieval cost does not depend on what the vectors say). Then, ``repeats`` times,
one more entry is written and, in alternating order, timed:

- **baseline**: ``embed_query`` of a fresh question (never embedded before, so no cache
  helps) and one ``collection.query`` on Chroma for that user's ``candidates`` nearest;
- **retrieval**: the hybrid retriever's ``invoke`` for another fresh question: query
  embedding, bringing the per-user BM25 and dense matrix to the new revision, the exact
  dense search, BM25 and fusion (what every answer starts with);
- **ask**: ``AskService.ask`` for a third fresh question: planning, retrieval, the
  extractive answer and its checks (the whole next question, for reference).

Reported: each median, and the ratios retrieval / baseline and ask / baseline, all
from the same run on the same data.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eval.bench_after_write import SENTENCES_PER_ENTRY, Writer
from eval.bench_common import timed

QUESTIONS = (
    "When did Sam cancel the trip to the coast",
    "What did my sister say about the rent money",
    "How did I feel after the phone call with Jordan",
)


def _time(fn: Callable[[str], Any], question: str) -> float:
    seconds, _ = timed(lambda: fn(question))
    return seconds


def bench_next_question(chunks: int = 100_000, repeats: int = 5, seed: int = 13) -> dict[str, Any]:
    from ingest.store import get_or_create_user
    from service.container import Container
    from service.settings import Settings

    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="trustlens-bench-next-question-") as tmp:
        c = Container(Settings(data_dir=Path(tmp), llm="extractive"))
        try:
            dim = len(c.embeddings.embed_query("dimension probe"))
            with c.sessions() as session:
                uid = get_or_create_user(session, "bench").id
                session.commit()
            writer = Writer(c, uid, seed, dim=dim)
            load_s, _ = timed(lambda: writer.write(chunks))
            retriever = c.retrievers.for_user(uid)
            candidates = int(getattr(retriever, "candidates", 40))
            collection = c.index.collection

            def baseline(q: str) -> Any:
                v = c.embeddings.embed_query(q)
                return collection.query(
                    query_embeddings=[v],
                    n_results=candidates,
                    where={"user_id": uid},
                    include=["metadatas", "distances"],
                )

            def retrieval(q: str) -> Any:
                return c.retrievers.for_user(uid).invoke(q)

            def ask(q: str) -> Any:
                return c.ask.ask(uid, q + "?")

            # Warm every path once at the loaded revision, as a running worker is.
            methods: list[tuple[str, Callable[[str], Any]]] = [
                ("baseline", baseline),
                ("retrieval", retrieval),
                ("ask", ask),
            ]
            cold = {name: _time(fn, f"{QUESTIONS[0]} warm {name}") for name, fn in methods}
            for r in range(repeats):
                writer.write(SENTENCES_PER_ENTRY)  # one more entry: a new revision
                times: dict[str, float] = {}
                order = methods if r % 2 == 0 else methods[::-1]
                for i, (name, fn) in enumerate(order):
                    q = f"{QUESTIONS[i % len(QUESTIONS)]} round {r} {name}"
                    times[name] = _time(fn, q)
                rounds.append({f"{k}_ms": 1000 * v for k, v in times.items()})
            total = c.index.count(uid)
        finally:
            c.close()

    med = {
        k: statistics.median(r[f"{k}_ms"] for r in rounds) for k in ("baseline", "retrieval", "ask")
    }
    return {
        "chunks": total,
        "load_seconds": load_s,
        "baseline_ms": med["baseline"],
        "retrieval_ms": med["retrieval"],
        "ask_ms": med["ask"],
        "ratio_retrieval_vs_baseline": med["retrieval"] / med["baseline"],
        "ratio_ask_vs_baseline": med["ask"] / med["baseline"],
        "cold_ms": {k: 1000 * v for k, v in cold.items()},
        "rounds": rounds,
        "config": {
            "chunks": chunks,
            "repeats": repeats,
            "seed": seed,
            "candidates": candidates,
            "write": f"one entry of {SENTENCES_PER_ENTRY} one-sentence chunks before each round",
            "vectors": f"random unit vectors, {dim}-dimensional (the embedding model's)",
            "timing": "after each write, baseline, retrieval and ask in alternating order, "
            "each on a question never embedded before; medians over the rounds; cold_ms: "
            "the first call of each on the loaded journal",
        },
    }
