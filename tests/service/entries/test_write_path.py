"""The write path against real server processes (uvicorn, ``tests/serve_fake.py``):
the durable index queue, concurrent writers of one id, preconditions, the index server
going away and coming back, kill -9 mid-write, and two servers sharing one store.

Every request is a real HTTP request from several threads; no answer may be a 500.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, ROOT, free_port

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None, what: str, limit: float = 90):
    deadline = time.time() + limit
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if (proc is not None and proc.poll() is not None) or time.time() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.2)


class Server:
    """``uvicorn tests.serve_fake:create`` in its own process, on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1):
        self.env, self.log, self.workers = env, log, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        out = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "tests.serve_fake:create", "--factory"),
                *("--host", "127.0.0.1", "--port", str(self.port)),
                *("--workers", str(self.workers)),
                # Longer than any pause of the clients: an idle keep-alive connection is
                # not closed under a client that is about to reuse it.
                *("--timeout-keep-alive", "120"),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _wait_http(f"{self.url}/healthz", self.proc, "trustlens")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None


class ChromaProcess:
    """A ``chroma run`` server that a test may stop and start again (same port, same
    folder), to take the index away in the middle of writes."""

    def __init__(self, path: Path):
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaProcess:
        exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        self.proc = subprocess.Popen(
            [exe, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"{self.url}/api/v2/heartbeat", self.proc, "chroma")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TRUSTLENS_DATA_DIR": str(tmp_path / "data"),
        "TRUSTLENS_ADMIN_KEY": ADMIN_KEY,
        "TRUSTLENS_RATE_LIMIT": "100000/minute",
        "TRUSTLENS_CHROMA_COLLECTION": f"w_{uuid.uuid4().hex[:10]}",
        **extra,
    }


def new_key(url: str) -> dict[str, str]:
    r = httpx.post(f"{url}/v1/users", json={"name": uuid.uuid4().hex[:12]}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['api_key']}"}


def text_for(i: int) -> str:
    words = ["harbour", "lantern", "orchard", "violin", "glacier", "meadow", "canyon"]
    return (
        f"Note {i}: I waited at the {words[i % 7]} for Rowan number {i} and felt let down. "
        f"Marker token zq{i}x appears only here."
    )


def index_status(url: str, key: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{url}/v1/index/status", headers=key, timeout=30)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(params=["sqlite", "postgres"])
def store_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return base_env(tmp_path)
    pg: str = request.getfixturevalue("pg_url")
    return base_env(tmp_path, TRUSTLENS_DATABASE_URL=pg)


@pytest.fixture
def server(store_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    s = Server(store_env, tmp_path / "server.log").start()
    yield s
    s.stop()


def test_same_id_from_six_clients_ends_in_one_indexed_version(server: Server) -> None:
    key = new_key(server.url)
    statuses: Counter[int] = Counter()
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(6) as pool:
        for round_ in range(4):
            eid = f"race{round_}"
            body = {"id": eid, "date": "2024-01-01", "text": text_for(round_)}
            rs = list(
                pool.map(
                    lambda _, body=body: client.post(  # type: ignore[misc]
                        f"{server.url}/v1/entries", json=body, headers=key
                    ),
                    range(6),
                )
            )
            statuses.update(r.status_code for r in rs)
            assert sorted(r.status_code for r in rs) == [200] * 5 + [201], [r.text for r in rs]
            assert all(r.json()["indexed"] for r in rs)
            assert len({r.headers["etag"] for r in rs}) == 1
            # Six different texts for one new id: every request 2xx, one version stored.
            eid2 = f"mixed{round_}"
            rs = list(
                pool.map(
                    lambda i, eid2=eid2: client.post(  # type: ignore[misc]
                        f"{server.url}/v1/entries",
                        json={"id": eid2, "date": "2024-01-02", "text": text_for(100 + i)},
                        headers=key,
                    ),
                    range(6),
                )
            )
            statuses.update(r.status_code for r in rs)
            assert all(r.status_code in (200, 201) for r in rs), [r.text for r in rs]
            assert sum(r.status_code == 201 for r in rs) == 1
        page = client.get(f"{server.url}/v1/entries?limit=100", headers=key).json()
        ids = [e["id"] for e in page["items"]]
        assert sorted(ids) == sorted(
            {*(f"race{i}" for i in range(4)), *(f"mixed{i}" for i in range(4))}
        )
        deadline = time.time() + 20
        while (st := index_status(server.url, key))["pending"] and time.time() < deadline:
            time.sleep(0.2)
        assert st["pending"] == 0 and st["indexed"] == 8
        for item in st["items"]:
            got = client.get(f"{server.url}/v1/entries/{item['entry_id']}/status", headers=key)
            assert got.json()["index_chunks"] == got.json()["chunks"] > 0
    assert 500 not in statuses


def test_if_match_lets_one_of_many_concurrent_writers_win(server: Server) -> None:
    key = new_key(server.url)
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(6) as pool:
        r = client.post(
            f"{server.url}/v1/entries",
            json={"id": "p1", "date": "2024-02-01", "text": text_for(1)},
            headers=key,
        )
        assert r.status_code == 201
        tag = client.get(f"{server.url}/v1/entries/p1", headers=key).headers["etag"]
        assert tag == r.headers["etag"]

        def put(i: int) -> httpx.Response:
            return client.put(
                f"{server.url}/v1/entries/p1",
                json={"date": "2024-02-01", "text": text_for(200 + i)},
                headers={**key, "If-Match": tag},
            )

        rs = list(pool.map(put, range(6)))
        codes = sorted(r.status_code for r in rs)
        assert codes == [200] + [412] * 5, [r.text for r in rs]
        assert all(
            r.headers["content-type"].startswith("application/problem+json")
            for r in rs
            if r.status_code == 412
        )
        won = next(r for r in rs if r.status_code == 200)
        now = client.get(f"{server.url}/v1/entries/p1", headers=key)
        assert now.json()["text"] == won.json()["text"] and now.json()["indexed"]
        # A stale tag cannot delete either; the current one can.
        assert (
            client.delete(
                f"{server.url}/v1/entries/p1", headers={**key, "If-Match": tag}
            ).status_code
            == 412
        )
        assert (
            client.patch(
                f"{server.url}/v1/entries/p1",
                json={"tags": ["x"]},
                headers={**key, "If-Match": tag},
            ).status_code
            == 412
        )
        cur = now.headers["etag"]
        assert (
            client.delete(
                f"{server.url}/v1/entries/p1", headers={**key, "If-Match": cur}
            ).status_code
            == 204
        )
        assert client.get(f"{server.url}/v1/entries/p1", headers=key).status_code == 404


@pytest.mark.postgres
@pytest.mark.chroma_server
def test_index_server_down_for_30s_costs_no_500_and_heals_without_restart(
    tmp_path: Path, pg_url: str
) -> None:
    chroma = ChromaProcess(tmp_path / "chroma").start()
    env = base_env(
        tmp_path,
        TRUSTLENS_DATABASE_URL=pg_url,
        TRUSTLENS_CHROMA_URL=chroma.url,
        TRUSTLENS_INDEX_WAIT_S="1",
    )
    server = Server(env, tmp_path / "server.log").start()
    try:
        key = new_key(server.url)
        acked: dict[str, float] = {}
        statuses: Counter[int] = Counter()

        def write(client: httpx.Client, i: int) -> None:
            r = client.post(
                f"{server.url}/v1/entries",
                json={"id": f"d{i}", "date": "2024-03-01", "text": text_for(i)},
                headers=key,
            )
            statuses[r.status_code] += 1
            if r.status_code in (200, 201):
                acked[f"d{i}"] = time.time()

        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: write(client, i), range(8)))  # index up
            chroma.stop()
            down_until = time.time() + 30
            i = 8
            while time.time() < down_until:
                list(pool.map(lambda j: write(client, j), range(i, i + 4)))
                i += 4
            during = index_status(server.url, key)
            assert during["pending"] > 0
            failing = [s for s in during["items"] if s["state"] == "pending" and s["last_error"]]
            assert failing, during
            assert all("Rowan" not in (s["last_error"] or "") for s in failing)
            chroma.start()
            back = time.time()
            while True:
                st = index_status(server.url, key)
                if st["pending"] == 0 or time.time() > back + 60:
                    break
                time.sleep(0.5)
            healed = time.time() - back
            assert st["pending"] == 0, (
                f"{st['pending']} still pending 60 s after the index came back"
            )
            assert {s["entry_id"] for s in st["items"]} == set(acked)
            # The last entry, written while the index was down, is found by its own word.
            # Asked a few times: one CI run cited only d2 here, once; the server's log and
            # every answer go into the message so that a repeat can be diagnosed.
            answers = []
            for _ in range(5):
                ask = client.post(
                    f"{server.url}/v1/ask", json={"question": f"zq{i - 1}x Rowan"}, headers=key
                ).json()
                answers.append((ask.get("plan"), [c["entry_id"] for c in ask.get("citations", [])]))
                if f"d{i - 1}" in answers[-1][1]:
                    break
                time.sleep(1)
            log_tail = server.log.read_text(errors="replace")[-3000:]
            assert f"d{i - 1}" in answers[-1][1], (answers, log_tail)
        assert 500 not in statuses and set(statuses) <= {200, 201}, statuses
        print(f"writes {len(acked)}, healed {healed:.1f} s after the index came back")
    finally:
        server.stop()
        chroma.stop()


def test_kill_9_mid_write_loses_nothing_acknowledged(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    server = Server(env, tmp_path / "server.log").start()
    key = new_key(server.url)
    acked: set[str] = set()

    def write(client: httpx.Client, i: int) -> None:
        try:
            r = client.post(
                f"{server.url}/v1/entries",
                json={"id": f"k{i}", "date": "2024-04-01", "text": text_for(i)},
                headers=key,
            )
        except httpx.HTTPError:
            return  # not acknowledged
        assert r.status_code in (200, 201), r.text
        acked.add(f"k{i}")

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(write, client, i) for i in range(400)]
        while len(acked) < 40:
            time.sleep(0.05)
        server.stop(signal.SIGKILL)
        for f in futures:
            f.result()
    assert len(acked) < 400
    server = Server(env, tmp_path / "server.log").start()
    try:
        deadline = time.time() + 30
        while (st := index_status(server.url, key))["pending"] and time.time() < deadline:
            time.sleep(0.3)
        stored = Counter(s["entry_id"] for s in st["items"])
        assert acked <= set(stored) and max(stored.values()) == 1
        assert st["pending"] == 0
    finally:
        server.stop()


@pytest.mark.postgres
@pytest.mark.chroma_server
def test_two_servers_share_one_store_and_drain_the_queue_once(
    tmp_path: Path, pg_url: str, chroma_server: str
) -> None:
    log = tmp_path / "indexed.log"
    env = base_env(
        tmp_path,
        TRUSTLENS_DATABASE_URL=pg_url,
        TRUSTLENS_CHROMA_URL=chroma_server,
        TRUSTLENS_TEST_INDEX_LOG=str(log),
    )
    a = Server(env, tmp_path / "a.log").start()
    b = Server(env, tmp_path / "b.log").start()
    try:
        key = new_key(a.url)
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(8) as pool:
            # Warm both (each builds its lexical cache for this user), then write through
            # one and ask through the other at once.
            for s in (a, b):
                client.post(f"{s.url}/v1/ask", json={"question": "Rowan"}, headers=key)
            lags = []
            for i in range(5):
                r = client.post(
                    f"{a.url}/v1/entries",
                    json={"id": f"w{i}", "date": "2024-05-01", "text": text_for(i)},
                    headers=key,
                )
                assert r.status_code == 201 and r.json()["indexed"]
                t0 = time.time()
                ask = client.post(
                    f"{b.url}/v1/ask", json={"question": f"zq{i}x Rowan"}, headers=key
                )
                lags.append(time.time() - t0)
                assert ask.status_code == 200
                assert f"w{i}" in [c["entry_id"] for c in ask.json()["citations"]]
            assert max(lags) < 1.0, lags
            # Many writes through both at once: every entry indexed exactly once.
            urls = [a.url, b.url]
            rs = list(
                pool.map(
                    lambda i: client.post(
                        f"{urls[i % 2]}/v1/entries",
                        json={"id": f"m{i}", "date": "2024-05-02", "text": text_for(i)},
                        headers=key,
                    ),
                    range(60),
                )
            )
            assert all(r.status_code == 201 for r in rs), [r.text for r in rs]
        lines = [ln.split() for ln in log.read_text().splitlines()]
        per_entry = Counter(pk for _, pk in lines)
        assert len(per_entry) == 65 and set(per_entry.values()) == {1}, per_entry.most_common(3)
        assert len({pid for pid, _ in lines}) == 2  # both processes drained some
    finally:
        a.stop()
        b.stop()
