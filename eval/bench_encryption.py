"""``trustlens bench encryption``: what sealing text at rest costs (issue 14).

Two builds of the same service in one process, with one loaded model: encryption on
(the default) and off (``TRUSTLENS_ENCRYPTION=false``, text stored in the clear, a
setting for this measurement only). Runs are interleaved so that the noise of a shared
machine hits both alike:

- **ingest**: ``Importer.import_path`` of the same synthetic journal into a fresh store
  and index (``eval.bench_ingest.run_trustlens``), ``repeats`` runs of each build in
  alternating order (on, off, off, on, ...). Reported: the fastest and the median run.
- **ask**: two stores filled with the same synthetic journal (``eval.bench_ask.
  load_journal``); every question is asked of both, in alternating order, and p50/p95 of
  ``AskService.ask`` are compared. Building the BM25 model (which reads and, with
  encryption, opens every entry, and reads the vectors for the exact dense search) is
  timed apart, once per build. Both builds must cite the same: ``same_citations``, and
  ``differing_questions`` lists the numbers (``q07``) of any question that did not.

Ratios are encrypted / plain: 1.05 means encryption adds 5 %. On a shared machine two
runs of one build differ by more than that, so the encrypted runs also time the
cryptography itself: every ``Keyring.seal`` and ``Keyring.open`` (AES-GCM, base64, the
data key's lookup), summed as ``crypto_seconds`` and reported as a share of the
encrypted runs' time. That share does not move with the machine's load the way two
separate runs do.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial, wraps
from pathlib import Path
from typing import Any

from eval.bench_ask import load_journal, make_queries, template_vectors
from eval.bench_common import max_rss_mib, percentile, synthetic_entries, timed
from eval.bench_ingest import run_trustlens, write_jsonl

BUILDS = ("encrypted", "plain")


class _CryptoClock:
    """Seconds spent inside ``Keyring.seal`` and ``Keyring.open`` while ``timing()`` is on."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    @contextmanager
    def timing(self) -> Iterator[None]:
        from ingest.crypto import Keyring

        originals = {name: getattr(Keyring, name) for name in ("seal", "open")}

        def clocked(f: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(f)
            def inner(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return f(*a, **k)
                finally:
                    self.seconds += time.perf_counter() - t
                    self.calls += 1

            return inner

        for name, f in originals.items():
            setattr(Keyring, name, clocked(f))
        try:
            yield
        finally:
            for name, f in originals.items():
                setattr(Keyring, name, f)


def _ingest(
    data: list[dict[str, Any]], embeddings: Any, root: Path, repeats: int
) -> dict[str, Any]:
    jsonl = write_jsonl(data, root / "journal.jsonl")
    warm = write_jsonl(data[:8], root / "warm.jsonl")
    for b in BUILDS:  # model kernels, pysbd, SQLAlchemy, Chroma's first client
        run_trustlens(warm, embeddings, root / f"warm-{b}", encryption=b == "encrypted")
    times: dict[str, list[float]] = {b: [] for b in BUILDS}
    clock = _CryptoClock()
    chunks = 0
    for r in range(repeats):
        order = BUILDS if r % 2 == 0 else BUILDS[::-1]
        for b in order:
            if b == "encrypted":
                with clock.timing():
                    res = run_trustlens(jsonl, embeddings, root / f"{b}{r}", encryption=True)
            else:
                res = run_trustlens(jsonl, embeddings, root / f"{b}{r}", encryption=False)
            times[b].append(res["seconds"])
            chunks = len(res["chunks"])
    best = {b: min(v) for b, v in times.items()}
    median = {b: statistics.median(v) for b, v in times.items()}
    return {
        "entries": len(data),
        "chunks": chunks,
        "seconds_all": times,
        "best_seconds": best,
        "median_seconds": median,
        "entries_per_s_best": {b: len(data) / best[b] for b in BUILDS},
        "ratio_best": best["encrypted"] / best["plain"],
        "ratio_median": median["encrypted"] / median["plain"],
        # Includes Chroma's start and the index's reads after import_path returns: an
        # upper bound on what the cryptography adds to the timed imports.
        "crypto_seconds": clock.seconds,
        "crypto_calls": clock.calls,
        "crypto_share": clock.seconds / sum(times["encrypted"]),
    }


def _lexical(c: Any, uid: str) -> Any:
    return c.lexical.search(c.index, uid, c.retrievers.revision(uid), "trust", 1)


def _ask(model: Any, size: int, queries: int, root: Path, seed: int) -> dict[str, Any]:
    from ingest.embedding import SentenceTransformerEmbeddings
    from ingest.store import get_or_create_user
    from service.container import Container
    from service.settings import Settings, packaged_model_path

    tvecs = template_vectors(model)
    qs = make_queries(queries, seed)
    containers: dict[str, Any] = {}
    users: dict[str, str] = {}
    lexical_ms: dict[str, float] = {}
    try:
        for b in BUILDS:
            settings = Settings(
                data_dir=root / f"ask-{b}", llm="extractive", encryption=b == "encrypted"
            )
            emb = SentenceTransformerEmbeddings(
                packaged_model_path(), batch_size=settings.embedding_batch_size
            )
            emb._model = model
            c = containers[b] = Container(settings, embeddings=emb)
            with c.sessions() as session:
                users[b] = get_or_create_user(session, "bench").id
                session.commit()
            load_journal(c, users[b], size, tvecs, seed)
        for b in BUILDS:
            c, uid = containers[b], users[b]
            t, _ = timed(partial(_lexical, c, uid))
            lexical_ms[b] = 1000 * t
            c.ask.ask(uid, "When did someone let me down?")  # the first ask, untimed
        lat: dict[str, list[float]] = {b: [] for b in BUILDS}
        answers: dict[str, list[Any]] = {b: [] for b in BUILDS}
        clock = _CryptoClock()
        for qi, q in enumerate(qs):
            for b in BUILDS if qi % 2 == 0 else BUILDS[::-1]:
                c, uid = containers[b], users[b]
                if b == "encrypted":
                    with clock.timing():
                        t, res = timed(partial(c.ask.ask, uid, q))
                else:
                    t, res = timed(partial(c.ask.ask, uid, q))
                lat[b].append(t)
                answers[b].append([(x.entry_id, x.quote) for x in res.citations])
    finally:
        for c in containers.values():
            c.close()
    differ = [
        f"q{qi:02d}" for qi in range(len(qs)) if answers["encrypted"][qi] != answers["plain"][qi]
    ]
    p50 = {b: 1000 * percentile(v, 50) for b, v in lat.items()}
    p95 = {b: 1000 * percentile(v, 95) for b, v in lat.items()}
    return {
        "chunks": size,
        "queries": queries,
        "p50_ms": p50,
        "p95_ms": p95,
        "lexical_build_ms": lexical_ms,
        "same_citations": not differ,
        # Which questions cited differently: their numbers in the question list (q00, ...),
        # never their text or what they cited (the journal's words stay out of results).
        "differing_questions": differ,
        "ratio_p50": p50["encrypted"] / p50["plain"],
        "ratio_p95": p95["encrypted"] / p95["plain"],
        "crypto_seconds": clock.seconds,
        "crypto_calls": clock.calls,
        "crypto_share": clock.seconds / sum(lat["encrypted"]),
    }


def bench_encryption(
    entries: int = 200, repeats: int = 6, chunks: int = 2000, queries: int = 60, seed: int = 7
) -> dict[str, Any]:
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import Settings, packaged_model_path

    settings = Settings()
    ours = SentenceTransformerEmbeddings(
        packaged_model_path(), batch_size=settings.embedding_batch_size
    )
    data = synthetic_entries(entries, seed)
    with tempfile.TemporaryDirectory(prefix="trustlens-bench-encryption-") as tmp:
        root = Path(tmp)
        ingest = _ingest(data, ours, root, repeats)
        ask = _ask(ours.model, chunks, queries, root, seed)
    return {
        "ingest": ingest,
        "ask": ask,
        "max_rss_mib": max_rss_mib(),
        "config": {
            "entries": entries,
            "repeats": repeats,
            "ask_chunks": chunks,
            "queries": queries,
            "seed": seed,
            "embedding_model": "packaged all-MiniLM-L6-v2",
            "device": "cpu",
            "builds": "encrypted: TRUSTLENS_ENCRYPTION=true (default); plain: false",
            "timing": "one process, one model; ingest runs alternate build order (fresh store "
            "and index each), ask questions alternate build order; ratios encrypted/plain",
        },
    }
