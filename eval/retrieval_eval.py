"""Retrieval quality on BEIR SciFact through the real ingest and retrieval path.

The corpus is imported for one user with ``container.importer.import_reads`` (each
abstract an entry whose id is the SciFact doc id), chunked and embedded as any journal
would be, and each claim is run through ``container.retrievers.for_user(user_id, mode=...)``.
Chunks are pooled back into documents (a document scores as its best chunk, in the
order the retriever ranked them) and scored with nDCG@10, recall@100 and MRR@10.

The store and index live in a persistent cache folder (``eval/results/cache/...``),
so a second run reuses the stored vectors: re-importing unchanged entries is a no-op.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean
from typing import Any

from eval.datasets.scifact import SciFact
from eval.metrics.mrr import mrr_at_k
from eval.metrics.ndcg import ndcg_at_k
from eval.metrics.recall import recall_at_k
from ingest.records import FileRead, RawEntry
from ingest.store import get_or_create_user

CACHE_ROOT = Path(__file__).parent / "results" / "cache"
EVAL_USER = "scifact"
# Every abstract gets the same (arbitrary) date: SciFact has none and no query filters.
CORPUS_DATE = dt.date(2000, 1, 1)
RETRIEVERS = ("dense", "bm25", "hybrid")
DEPTH = 100  # documents ranked per query (recall@100)


def cache_dir(chunk_max_words: int, root: Path = CACHE_ROOT) -> Path:
    return root / f"scifact-{chunk_max_words}"


def ingest_corpus(
    container: Any,
    docs: Sequence[Any],
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Import the abstracts for the eval user; returns (user id, import totals)."""
    with container.sessions() as s:
        uid = str(get_or_create_user(s, EVAL_USER).id)
        s.commit()
    read = FileRead(
        path="scifact:corpus_train.csv",
        entries=[
            RawEntry(text=d.text, date=CORPUS_DATE, id=d.doc_id, source=f"corpus:{d.doc_id}")
            for d in docs
        ],
    )
    report = container.importer.import_reads(uid, [read], progress)
    return uid, report.totals


def pool_documents(docs: Sequence[Any], depth: int = DEPTH) -> list[str]:
    """Entry ids in ranked order, each once (its best chunk's place), at most ``depth``."""
    out: list[str] = []
    seen: set[str] = set()
    for d in docs:
        eid = str(d.metadata["entry_id"])
        if eid not in seen:
            seen.add(eid)
            out.append(eid)
            if len(out) >= depth:
                break
    return out


def make_retriever(container: Any, user_id: str, mode: str, **options: Any) -> Any:
    """The service retriever for ``mode``, deep enough to rank ``DEPTH`` documents."""
    r = container.retrievers.for_user(user_id, mode=mode)
    update: dict[str, Any] = {"k": DEPTH, "candidates": DEPTH}
    update.update(options)
    for key, value in update.items():
        setattr(r, key, value)
    return r


def evaluate(
    container: Any,
    user_id: str,
    data: SciFact,
    query_ids: Sequence[str],
    mode: str,
    **options: Any,
) -> dict[str, Any]:
    """Mean nDCG@10, recall@100 and MRR@10 of one retriever over ``query_ids``."""
    retriever = make_retriever(container, user_id, mode, **options)
    per_query: dict[str, dict[str, float]] = {}
    t0 = time.perf_counter()
    for qid in query_ids:
        ranked = pool_documents(retriever.invoke(data.queries[qid]))
        rel = data.qrels[qid]
        per_query[qid] = {
            "ndcg@10": ndcg_at_k(ranked, rel, 10),
            "recall@100": recall_at_k(ranked, rel, 100),
            "mrr@10": mrr_at_k(ranked, rel, 10),
        }
    elapsed = time.perf_counter() - t0
    summary = {
        m: round(mean(q[m] for q in per_query.values()), 4)
        for m in ("ndcg@10", "recall@100", "mrr@10")
    }
    return {
        "retriever": mode,
        "queries": len(per_query),
        **summary,
        "seconds": round(elapsed, 1),
        "options": {k: v for k, v in options.items()},
        "per_query": {q: {m: round(v, 4) for m, v in s.items()} for q, s in per_query.items()},
    }


# Fusion used for SciFact's hybrid run: min-max scaled cosine and BM25 scores, equal
# weights. Chosen a priori (no sweep was run); any tuning would be on the test queries,
# as SciFact has no other split. The journal default (reciprocal rank fusion) is unchanged.
SCIFACT_HYBRID: dict[str, Any] = {"fusion": "convex", "weights": (0.5, 0.5)}


def hybrid_options() -> dict[str, Any]:
    return dict(SCIFACT_HYBRID)


def options_for(mode: str) -> dict[str, Any]:
    return hybrid_options() if mode == "hybrid" else {}


def run_retrieval_eval(
    container: Any,
    data: SciFact,
    modes: Sequence[str],
    limit_queries: int | None = None,
    docs: Sequence[Any] | None = None,
) -> dict[str, Any]:
    """Import the corpus (a no-op when cached), then evaluate each retriever."""
    t0 = time.perf_counter()
    user_id, totals = ingest_corpus(container, data.docs if docs is None else docs)
    t1 = time.perf_counter()
    qids = data.test_query_ids[:limit_queries] if limit_queries else data.test_query_ids
    results = [evaluate(container, user_id, data, qids, m, **options_for(m)) for m in modes]
    return {
        "summary": {
            r["retriever"]: {m: r[m] for m in ("ndcg@10", "recall@100", "mrr@10")} for r in results
        },
        "import": totals,
        "retrievers": results,
        "timing_s": {"ingest": round(t1 - t0, 2), "evaluate": round(time.perf_counter() - t1, 2)},
    }
