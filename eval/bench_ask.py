"""``trustlens bench ask``: latency of ``ask`` (extractive) as the journal grows.

For each size (in chunks) a fresh SQLite store and embedded Chroma are filled with a
synthetic journal: entries of five sentences, one chunk per sentence, written straight
into the store and the index (embedding 100k texts would take hours on a CPU). Each
chunk's vector is the packaged model's embedding of its sentence template plus
deterministic Gaussian noise, normalised: realistic similarities (questions about a
broken promise land near broken-promise sentences) at no embedding cost. The texts are
real sentences, so BM25 has real words to match.

Timed per question, interleaved so that machine noise hits all three alike:

- **trustlens**: ``AskService.ask`` (plan, hybrid retrieval, evidence, extractive draft,
  grounding check). Building the BM25 model (once per index revision: reading every
  chunk back from Chroma, tokenising, indexing) is timed on its own
  (``lexical_build_ms``), then the first ask (``cold_first_ask_ms``), then the rest.
- **raw Chroma**: the question embedded with ``SentenceTransformer.encode`` and one
  ``collection.query`` (k = ``retrieval_k``, filtered by user).
- **LangChain**: ``langchain_chroma.Chroma(...).similarity_search`` on the same
  collection, with a plain LangChain embeddings wrapper around the same model.

Memory: the peak of Python allocations (``tracemalloc``) over three extra questions per
method, the resident set after loading each size, and the process's peak RSS.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench_common import (
    TEMPLATES,
    max_rss_mib,
    percentile,
    python_peak_mib,
    question,
    render,
    rss_mib,
    timed,
)
from eval.bench_ingest import PlainEmbeddings

DEFAULT_SIZES = (1000, 10000, 100000)
SENTENCES_PER_ENTRY = 5
NOISE = 0.6  # cosine to the template's vector is about 1 / sqrt(1 + NOISE**2) = 0.86


def template_vectors(model: Any) -> np.ndarray:
    """One normalised embedding per sentence template (rendered with fixed slots)."""
    rng = random.Random(0)
    texts = [render(rng, t) for t in TEMPLATES]
    return np.asarray(
        model.encode(texts, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32
    )


def load_journal(c: Any, user_id: str, n_chunks: int, tvecs: np.ndarray, seed: int) -> None:
    """Write ``n_chunks`` one-sentence chunks (in five-sentence entries) to store + index."""
    from ingest.store import Entry, content_hash
    from ingest.vector_index import IndexRecord, chunk_id

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    start = dt.date(2020, 1, 1)
    dim = tvecs.shape[1]
    done = 0
    i = 0
    while done < n_chunks:
        entries = []
        records = []
        for _ in range(1000):
            if done >= n_chunks:
                break
            n = min(SENTENCES_PER_ENTRY, n_chunks - done)
            picks = [rng.randrange(len(TEMPLATES)) for _ in range(n)]
            sents = [render(rng, TEMPLATES[p]) for p in picks]
            text = " ".join(sents)
            eid = f"s{i:07d}"
            date = start + dt.timedelta(days=i % 2000)
            entries.append(
                Entry(
                    user_id=user_id,
                    entry_id=eid,
                    date=date,
                    text=text,
                    tags=[],
                    source="bench",
                    content_hash=content_hash(text, date, []),
                )
            )
            noise = nrng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
            vecs = tvecs[picks] + NOISE * noise
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            pos = 0
            for seq, (s, v) in enumerate(zip(sents, vecs, strict=True)):
                records.append(
                    IndexRecord(
                        chunk_id=chunk_id(user_id, eid, seq),
                        user_id=user_id,
                        entry_id=eid,
                        date=date,
                        start=pos,
                        end=pos + len(s),
                        text=s,
                        embedding=v,
                    )
                )
                pos += len(s) + 1
            done += n
            i += 1
        with c.sessions() as session:
            session.add_all(entries)
            session.commit()
        c.index.upsert(records)


def bench_size(
    size: int, queries: list[str], model: Any, tvecs: np.ndarray, root: Path, seed: int
) -> dict[str, Any]:
    from langchain_chroma import Chroma

    from ingest.embedding import SentenceTransformerEmbeddings
    from ingest.store import get_or_create_user
    from service.container import Container
    from service.settings import Settings, packaged_model_path

    settings = Settings(data_dir=root / f"n{size}", llm="extractive")
    ours = SentenceTransformerEmbeddings(
        packaged_model_path(), batch_size=settings.embedding_batch_size
    )
    ours._model = model  # share the loaded model with the baselines
    c = Container(settings, embeddings=ours)
    try:
        with c.sessions() as session:
            uid = get_or_create_user(session, "bench").id
            session.commit()
        load_s, _ = timed(lambda: load_journal(c, uid, size, tvecs, seed))
        k = settings.retrieval_k
        where = {"user_id": uid}
        coll = c.index.collection
        plain = PlainEmbeddings(model, settings.embedding_batch_size)
        lc = Chroma(
            client=c.chroma_client,
            collection_name=settings.chroma_collection,
            embedding_function=plain,
        )

        def raw(q: str) -> int:
            v = model.encode([q], normalize_embeddings=True, show_progress_bar=False)
            res = coll.query(
                query_embeddings=np.asarray(v, dtype=np.float32),
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            return len(res["ids"][0])

        def langchain(q: str) -> int:
            return len(lc.similarity_search(q, k=k, filter=where))

        def trustlens(q: str) -> Any:
            return c.ask.ask(uid, q)

        # The BM25 model is built once per index revision: timed on its own, so that the
        # first ask and the steady-state latencies below do not include it.
        lexical_s, _ = timed(
            lambda: c.lexical.search(c.index, uid, c.retrievers.revision(uid), "trust", 1)
        )
        cold_s, _ = timed(lambda: trustlens("When did someone let me down?"))
        raw("warm up")
        langchain("warm up")

        lat: dict[str, list[float]] = {"trustlens": [], "raw_chroma": [], "langchain": []}
        fns = {"trustlens": trustlens, "raw_chroma": raw, "langchain": langchain}
        abstained = 0
        for qi, q in enumerate(queries):
            names = list(fns)
            for name in names[qi % 3 :] + names[: qi % 3]:  # rotate the order
                t, res = timed(partial(fns[name], q))
                lat[name].append(t)
                if name == "trustlens":
                    abstained += bool(res.abstained)
        rss_loaded = rss_mib()
        mem: dict[str, float] = {}
        for name, fn in fns.items():
            peaks = [
                python_peak_mib(partial(fn, q))[0]
                for q in ("Who kept a promise?", "When did I feel hurt?", "What about the car?")
            ]
            mem[name] = max(peaks)
        chunks = c.index.count(uid)
    finally:
        c.close()

    methods = {
        name: {
            "p50_ms": 1000 * percentile(v, 50),
            "p95_ms": 1000 * percentile(v, 95),
            "mean_ms": 1000 * float(np.mean(v)),
            "python_peak_mib": mem[name],
        }
        for name, v in lat.items()
    }
    ours_p50 = methods["trustlens"]["p50_ms"]
    ours_p95 = methods["trustlens"]["p95_ms"]
    return {
        "chunks": chunks,
        "load_seconds": load_s,
        "lexical_build_ms": 1000 * lexical_s,
        "cold_first_ask_ms": 1000 * cold_s,
        "abstained": abstained,
        "queries": len(queries),
        "methods": methods,
        # Latency ratios (trustlens / baseline): how many times slower than the baseline.
        "p50_ratio_vs_raw_chroma": ours_p50 / methods["raw_chroma"]["p50_ms"],
        "p95_ratio_vs_raw_chroma": ours_p95 / methods["raw_chroma"]["p95_ms"],
        "p50_ratio_vs_langchain": ours_p50 / methods["langchain"]["p50_ms"],
        "p95_ratio_vs_langchain": ours_p95 / methods["langchain"]["p95_ms"],
        "rss_after_load_mib": rss_loaded,
    }


def make_queries(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        q = question(rng)
        if q not in seen or len(seen) > 5000:
            seen.add(q)
            out.append(q)
    return out


def bench_ask(
    sizes: tuple[int, ...] = DEFAULT_SIZES, queries: int = 30, seed: int = 11
) -> dict[str, Any]:
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import Settings, packaged_model_path

    settings = Settings(llm="extractive")
    model = SentenceTransformerEmbeddings(packaged_model_path()).model
    tvecs = template_vectors(model)
    qs = make_queries(queries, seed)
    results = {}
    with tempfile.TemporaryDirectory(prefix="trustlens-bench-ask-") as tmp:
        for size in sizes:
            results[str(size)] = bench_size(size, qs, model, tvecs, Path(tmp), seed)
    return {
        "sizes": results,
        "max_rss_mib": max_rss_mib(),
        "config": {
            "sizes": list(sizes),
            "queries": queries,
            "seed": seed,
            "retrieval_k": settings.retrieval_k,
            "llm": "extractive",
            "embedding_model": "packaged all-MiniLM-L6-v2",
            "vectors": "template embeddings + Gaussian noise (sigma 0.6), normalised",
            "chunking": "one sentence per chunk, five per entry",
            "timing": "per question, the three methods interleaved in rotating order; "
            "BM25 build (once per index revision) as lexical_build_ms, then the first "
            "trustlens ask as cold_first_ask_ms, both outside p50/p95",
            "memory": "python_peak_mib: tracemalloc peak over three extra questions; "
            "rss_after_load_mib: /proc/self/statm; max_rss_mib: getrusage peak RSS",
        },
    }
