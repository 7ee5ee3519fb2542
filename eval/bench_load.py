"""``trustlens bench load``: the API under concurrent writers and askers, against
``trustlens ingest`` of the same texts, in one run.

- **API**: a real ``uvicorn`` server process on the loopback interface (embedded
  defaults in a temporary folder, the packaged model), ``clients`` threads each with its
  own HTTP connection writing ``POST /v1/entries`` until ``entries`` are sent, then
  asking ``POST /v1/ask``; every request is timed and its status counted. Afterwards the
  store is read back through ``GET /v1/index/status``: how many acknowledged writes are
  stored exactly once and indexed.
- **ingest**: ``Importer.import_path`` (what ``trustlens ingest`` runs) on a JSONL file
  of exactly the same entries, into its own fresh store, timed once before and once
  after the API phase (the machine's load moves); the ratio is API writes/s over the
  mean of the two ingest rates.

Both sides warm up first (one entry each, not counted): model and tagger loading are
start-up, not throughput. Bounded: at most ``clients`` connections, ``max_seconds`` per
phase, loopback only.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from eval.bench_common import percentile, synthetic_entries

HOST = "127.0.0.1"  # loopback only


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _summary(latencies: list[float], wall: float, statuses: Counter[int]) -> dict[str, Any]:
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    return {
        "requests": sum(statuses.values()),
        "ok": ok,
        "seconds": round(wall, 3),
        "per_s": round(ok / wall, 3) if wall > 0 else None,
        "p50_ms": round(1000 * percentile(latencies, 50), 1) if latencies else None,
        "p95_ms": round(1000 * percentile(latencies, 95), 1) if latencies else None,
        "errors_by_status": {
            str(code): n for code, n in sorted(statuses.items()) if not 200 <= code < 300
        },
    }


def _run_clients(
    clients: int, jobs: list[Any], send: Any, max_seconds: float
) -> tuple[float, list[float], Counter[int], list[Any]]:
    """Run ``send(client, job)`` over ``jobs`` from ``clients`` threads; returns the wall
    time, latencies, statuses and the jobs that were acknowledged (2xx)."""
    lock = threading.Lock()
    it = iter(jobs)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    acked: list[Any] = []
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        with httpx.Client(timeout=120) as client:
            while time.perf_counter() < deadline:
                with lock:
                    job = next(it, None)
                if job is None:
                    return
                t0 = time.perf_counter()
                try:
                    code = send(client, job)
                except httpx.HTTPError:
                    code = 0  # no answer (connection reset, timeout)
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    statuses[code] += 1
                    if 200 <= code < 300:
                        acked.append(job)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, statuses, acked


def _ingest_rate(entries: list[dict[str, Any]], root: Path, label: str) -> dict[str, Any]:
    from service.container import Container
    from service.settings import Settings

    folder = root / f"ingest-{label}"
    c = Container(Settings(data_dir=folder / "data"))
    try:
        with c.sessions() as session:
            from ingest.store import get_or_create_user

            uid = get_or_create_user(session, "bench").id
            session.commit()
        warm = folder / "warm.jsonl"
        warm.write_text(
            json.dumps({"id": "warm", "date": "2022-01-01", "text": "A warm-up line."}) + "\n"
        )
        c.importer.import_path(uid, warm)
        path = folder / "journal.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in entries))
        t0 = time.perf_counter()
        report = c.importer.import_path(uid, path)
        wall = time.perf_counter() - t0
    finally:
        c.close()
    n = report.totals["imported"]
    return {"entries": n, "seconds": round(wall, 3), "entries_per_s": round(n / wall, 3)}


class _Server:
    def __init__(self, data_dir: Path, admin_key: str, log: Path):
        self.port = _free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = {
            **os.environ,
            "TRUSTLENS_DATA_DIR": str(data_dir),
            "TRUSTLENS_ADMIN_KEY": admin_key,
            "TRUSTLENS_RATE_LIMIT": "1000000/minute",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory"),
                *("--host", HOST, "--port", str(self.port), "--no-access-log"),
                *("--timeout-keep-alive", "120"),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start: see {log}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def bench_load(
    entries: int = 300, clients: int = 8, asks: int = 40, max_seconds: float = 600
) -> dict[str, Any]:
    texts = synthetic_entries(entries, seed=11)
    questions = [
        "what do I usually do when someone lets me down?",
        "how do I feel about work lately?",
        "when did I feel let down by my family?",
        "do I push people away?",
    ]
    with tempfile.TemporaryDirectory(prefix="trustlens-bench-load-") as tmp:
        root = Path(tmp)
        ingest_before = _ingest_rate(texts, root, "before")
        admin = secrets.token_urlsafe(16)
        server = _Server(root / "api", admin, root / "server.log")
        try:
            r = httpx.post(
                f"{server.url}/v1/users",
                json={"name": "bench"},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=60,
            )
            r.raise_for_status()
            key = {"Authorization": f"Bearer {r.json()['api_key']}"}
            warm = {"id": "warm", "date": "2022-01-01", "text": "A warm-up line."}
            httpx.post(f"{server.url}/v1/entries", json=warm, headers=key, timeout=120)
            httpx.post(f"{server.url}/v1/ask", json={"question": "warm"}, headers=key, timeout=120)

            indexed_at_return: list[str] = []

            def write(client: httpx.Client, e: dict[str, Any]) -> int:
                r = client.post(f"{server.url}/v1/entries", json=e, headers=key)
                if r.status_code < 300 and r.json().get("indexed"):
                    indexed_at_return.append(e["id"])
                return r.status_code

            w_wall, w_lat, w_status, acked = _run_clients(clients, texts, write, max_seconds)

            def ask(client: httpx.Client, q: str) -> int:
                return client.post(
                    f"{server.url}/v1/ask", json={"question": q}, headers=key
                ).status_code

            jobs = [questions[i % len(questions)] for i in range(asks)]
            a_wall, a_lat, a_status, _ = _run_clients(clients, jobs, ask, max_seconds)

            # Read back: each acknowledged id stored once, and indexed (wait for the queue).
            deadline = time.time() + 120
            while True:
                st = httpx.get(f"{server.url}/v1/index/status", headers=key, timeout=120).json()
                if st["pending"] == 0 or time.time() > deadline:
                    break
                time.sleep(0.5)
            stored = Counter(s["entry_id"] for s in st["items"])
            indexed = {s["entry_id"] for s in st["items"] if s["indexed"]}
            acked_ids = [e["id"] for e in acked]
            once_indexed = sum(1 for i in acked_ids if stored[i] == 1 and i in indexed)
        finally:
            server.stop()
        ingest_after = _ingest_rate(texts, root, "after")
    writes = _summary(w_lat, w_wall, w_status)
    ingest_mean = (ingest_before["entries_per_s"] + ingest_after["entries_per_s"]) / 2
    return {
        "writes": writes,
        "asks": _summary(a_lat, a_wall, a_status),
        "acknowledged_writes": len(acked_ids),
        "acknowledged_stored_once_and_indexed": once_indexed,
        "lost": len(acked_ids) - sum(1 for i in acked_ids if stored[i] >= 1),
        "duplicated": sum(1 for i in acked_ids if stored[i] > 1),
        "acknowledged_indexed_at_return": len(indexed_at_return),
        "ingest": {
            "before": ingest_before,
            "after": ingest_after,
            "mean_entries_per_s": ingest_mean,
        },
        "ratio_api_writes_vs_ingest": round((writes["per_s"] or 0) / ingest_mean, 3),
        "config": {
            "entries": entries,
            "clients": clients,
            "asks": asks,
            "max_seconds": max_seconds,
            "texts": "eval.bench_common.synthetic_entries(seed=11), the same for both",
            "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg()[0],
        },
    }
