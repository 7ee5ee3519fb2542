"""``trustlens bench ingest``: import throughput against the model's own throughput.

Three ways of turning the same journal into a searchable index, timed in one process
with one loaded model and one batch size:

- **trustlens**: the real import path, ``Importer.import_path`` on a generated JSONL
  file (read → validate → SQLite store → sentence chunks → embed → Chroma).
- **raw encode**: ``SentenceTransformer.encode`` on exactly the chunk texts the import
  produced (the floor: the model's cost alone, nothing stored).
- **raw encode, all texts**: the same on every distinct text the import embeds: the
  chunks and, for the episode detector (``ingest/indexing.py``), each entry's sentences
  that are not a chunk themselves. Since episodes were added an import embeds about
  twice the text of its chunks, so ``ratio_vs_raw_encode_all`` shows what the rest of
  the import costs and ``ratio_vs_raw_encode`` what issue 12 asks about.
- **LangChain**: ``langchain_chroma.Chroma.from_documents`` with a plain LangChain
  ``Embeddings`` wrapper around the same model, on the same chunk texts, into a
  temporary folder (it starts from ready-made chunks: no reading, validation, SQL or
  chunking).

Each is run ``repeats`` times with a fresh store/index, alternating the order, and the
fastest run counts. What is timed is the work itself: ``import_path`` for trustlens and
``from_documents`` for LangChain; opening a store or client is start-up, reported apart
(``setup_seconds_all``). Memory: the peak of Python allocations (``tracemalloc``) in one
extra, untimed run of each, and the process's peak RSS (``getrusage``).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from eval.bench_common import max_rss_mib, python_peak_mib, synthetic_entries, timed

DEFAULT_ENTRIES = 200


class PlainEmbeddings(Embeddings):
    """The minimal LangChain wrapper most projects write: ``model.encode`` per call."""

    def __init__(self, model: Any, batch_size: int):
        self.model = model
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vecs = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vecs]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def write_jsonl(entries: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    return path


def run_trustlens(
    jsonl: Path, embeddings: Embeddings, workdir: Path, encryption: bool = True
) -> dict[str, Any]:
    """Import ``jsonl`` into a fresh store + index; returns timings, report and chunk texts.

    Only ``import_path`` is timed (``seconds``): opening the store and the Chroma client
    is the service's start-up, timed apart (``setup_seconds``), and reading the chunk
    texts back for the baselines is not part of an import at all. ``encryption=False``
    stores text in the clear (``TRUSTLENS_ENCRYPTION=false``), to measure what sealing
    costs (``eval/bench_encryption.py``).
    """
    from ingest.store import get_or_create_user
    from service.container import Container
    from service.settings import Settings

    settings = Settings(data_dir=workdir, encryption=encryption)
    setup_s, c = timed(lambda: Container(settings, embeddings=embeddings))
    try:
        with c.sessions() as session:
            uid = get_or_create_user(session, "bench").id
            session.commit()
        seconds, report = timed(partial(c.importer.import_path, uid, jsonl))
        hits = c.index.documents(uid)
        return {
            "seconds": seconds,
            "setup_seconds": setup_s,
            "totals": report.totals,
            "chunks": [h.text for h in hits],
        }
    finally:
        c.close()


def run_raw(model: Any, texts: list[str], batch_size: int) -> int:
    vecs = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    return len(vecs)


def embedded_texts(entries: list[dict[str, Any]], chunks: list[str]) -> list[str]:
    """Every distinct text an import of ``entries`` embeds: its chunks, then the
    sentences the episode detector reads that are not already a chunk."""
    from ingest.chunking import sentence_spans

    sentences = [e["text"][s.start : s.end] for e in entries for s in sentence_spans(e["text"])]
    return list(dict.fromkeys([*chunks, *sentences]))


def run_langchain(texts: list[str], embeddings: Embeddings, workdir: Path) -> dict[str, Any]:
    """``Chroma.from_documents`` into a fresh client; only ``from_documents`` is timed."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    setup_s, client = timed(
        lambda: chromadb.PersistentClient(
            path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False)
        )
    )
    docs = [Document(page_content=t, metadata={"n": i}) for i, t in enumerate(texts)]
    seconds, store = timed(
        lambda: Chroma.from_documents(
            docs, embeddings, client=client, collection_name=f"lc_{uuid.uuid4().hex[:8]}"
        )
    )
    return {"seconds": seconds, "setup_seconds": setup_s, "count": store._collection.count()}


def bench_ingest(entries: int = DEFAULT_ENTRIES, repeats: int = 2, seed: int = 7) -> dict[str, Any]:
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import Settings, packaged_model_path

    settings = Settings()
    batch = settings.embedding_batch_size
    ours = SentenceTransformerEmbeddings(packaged_model_path(), batch_size=batch)
    model = ours.model
    plain = PlainEmbeddings(model, batch)
    data = synthetic_entries(entries, seed)

    with tempfile.TemporaryDirectory(prefix="trustlens-bench-ingest-") as tmp:
        root = Path(tmp)
        jsonl = write_jsonl(data, root / "journal.jsonl")
        # Warm-up (not timed): model kernels, pysbd, SQLAlchemy, Chroma's first client.
        warm = run_trustlens(write_jsonl(data[:8], root / "warm.jsonl"), ours, root / "warm")
        run_raw(model, warm["chunks"], batch)

        times: dict[str, list[float]] = {
            "trustlens": [],
            "raw_encode": [],
            "raw_encode_all": [],
            "langchain": [],
        }
        setup: dict[str, list[float]] = {"trustlens": [], "langchain": []}
        first: dict[str, Any] | None = None
        every: list[str] = []  # embedded_texts of the first import, split once
        for r in range(repeats):
            if r % 2 == 0:
                order = ["trustlens", "raw_encode", "raw_encode_all", "langchain"]
            else:
                order = ["langchain", "raw_encode_all", "raw_encode", "trustlens"]
            for name in order:
                if name == "trustlens":
                    res = run_trustlens(jsonl, ours, root / f"t{r}")
                    first = first or res
                    times[name].append(res["seconds"])
                    setup[name].append(res["setup_seconds"])
                    continue
                assert first is not None  # round 0 runs trustlens first
                texts = first["chunks"]
                if name == "raw_encode":
                    t, _ = timed(partial(run_raw, model, texts, batch))
                    times[name].append(t)
                elif name == "raw_encode_all":
                    every = every or embedded_texts(data, texts)
                    t, _ = timed(partial(run_raw, model, every, batch))
                    times[name].append(t)
                else:
                    lc = run_langchain(texts, plain, root / f"lc{r}")
                    times[name].append(lc["seconds"])
                    setup[name].append(lc["setup_seconds"])
        assert first is not None
        texts = first["chunks"]
        mem = {
            "trustlens": python_peak_mib(lambda: run_trustlens(jsonl, ours, root / "m"))[0],
            "raw_encode": python_peak_mib(lambda: run_raw(model, texts, batch))[0],
            "raw_encode_all": python_peak_mib(
                lambda: run_raw(model, every or embedded_texts(data, texts), batch)
            )[0],
            "langchain": python_peak_mib(lambda: run_langchain(texts, plain, root / "mlc"))[0],
        }

    best = {k: min(v) for k, v in times.items()}
    n_chunks = len(texts)
    methods = {
        name: {
            "seconds": best[name],
            "seconds_all": times[name],
            "entries_per_s": entries / best[name],
            "chunks_per_s": n_chunks / best[name],
            "python_peak_mib": mem[name],
            "setup_seconds_all": setup.get(name, []),
        }
        for name in times
    }
    return {
        "entries": entries,
        "chunks": n_chunks,
        "distinct_chunks": len(set(texts)),
        "embedded_texts": len(every or embedded_texts(data, texts)),
        "import_totals": first["totals"],
        "methods": methods,
        # Throughput ratios (time of the reference / time of trustlens): 1.0 = as fast.
        "ratio_vs_raw_encode": best["raw_encode"] / best["trustlens"],
        "ratio_vs_raw_encode_all": best["raw_encode_all"] / best["trustlens"],
        "ratio_vs_langchain": best["langchain"] / best["trustlens"],
        "overhead_share": 1.0 - best["raw_encode"] / best["trustlens"],
        "max_rss_mib": max_rss_mib(),
        "config": {
            "entries": entries,
            "repeats": repeats,
            "seed": seed,
            "embedding_batch_size": batch,
            "chunk_max_words": settings.chunk_max_words,
            "embedding_model": "packaged all-MiniLM-L6-v2",
            "device": "cpu",
            "timing": "fastest of repeats, fresh store and index each run, order alternated; "
            "trustlens: Importer.import_path only, langchain: Chroma.from_documents only "
            "(opening the store/client is start-up, reported as setup_seconds_all)",
            "memory": "python_peak_mib: tracemalloc peak in one extra untimed run; "
            "max_rss_mib: getrusage peak RSS of the whole process",
        },
    }
