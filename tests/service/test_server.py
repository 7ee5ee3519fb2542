"""``trustlens serve`` as a real process: start-up errors in two lines, SIGTERM always
stops it (also when the server is stuck holding its interpreter lock), and forced
database errors on SQLite and PostgreSQL leave no journal text, file name, question
or key in any log line, and do not reset the keep-alive connection.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, ROOT, free_port
from tests.service.cli.test_cli import EXE
from tests.service.test_faults import read_only

MARKERS = ["Zanzibarian", "quokkafeather", "Ombudsgiraffe", "Pelicanfile", "tangerinequest"]
TEXT = "Zanzibarian lighthouse; quokkafeather promise broken again."


def env(data_dir: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTLENS_")}
    base.update(
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(":"),
        TRUSTLENS_DATA_DIR=str(data_dir),
        TRUSTLENS_ADMIN_KEY=ADMIN_KEY,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
        COLUMNS="250",
        NO_COLOR="1",
    )
    base.update(extra)
    return base


def start_errors(data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), "serve", "--port", str(free_port())],
        env=env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_two_lines(r: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert r.returncode == 2, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, r.stderr
    assert "Traceback" not in r.stderr
    for part in parts:
        assert part in r.stderr, r.stderr


def test_start_up_errors_name_the_setting_the_path_and_the_fix(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    with read_only(ro):
        r = start_errors(ro)
    assert_two_lines(r, "TRUSTLENS_DATA_DIR", str(ro), "Read-only file system", "Fix:")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    r = start_errors(tmp_path / "d", TRUSTLENS_DATABASE_URL=url)
    assert_two_lines(r, "TRUSTLENS_DATABASE_URL", url, "Fix: start the database server")
    r = start_errors(tmp_path / "d", TRUSTLENS_RATE_LIMIT="lots")
    assert_two_lines(r, "TRUSTLENS_RATE_LIMIT", "'lots'")
    redis = f"redis://127.0.0.1:{free_port()}"
    r = start_errors(tmp_path / "d", TRUSTLENS_RATE_LIMIT_STORAGE=redis)
    assert_two_lines(r, "TRUSTLENS_RATE_LIMIT_STORAGE", redis, "Fix:")


def test_the_supervisor_stops_a_server_stuck_holding_the_gil(tmp_path: Path) -> None:
    """The child ignores SIGTERM and then holds the GIL in C (catastrophic regex
    backtracking), as Chroma's bindings were seen to: only SIGKILL stops it."""
    stuck = (
        "import os, re, signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print(os.getpid(), flush=True); re.match(r'(a*)*b', 'a' * 64)"
    )
    code = (
        "import sys; from service.cli.server import supervise; "
        f"sys.exit(supervise([sys.executable, '-c', {stuck!r}], 1.0))"
    )
    sup = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sup.stdout is not None
    child = int(sup.stdout.readline())
    time.sleep(0.5)
    t0 = time.monotonic()
    sup.send_signal(signal.SIGTERM)
    rc = sup.wait(timeout=15)
    took = time.monotonic() - t0
    assert rc == 1 and took < 6, (rc, took)
    assert "did not stop within 1 s of SIGTERM" in (sup.stderr.read() if sup.stderr else "")
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


# ------------------------------------------------------------- a real server process


class Server:
    def __init__(self, data_dir: Path, log: Path, **extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = open(log, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(EXE), "serve", "--port", str(self.port)],
            env=env(data_dir, TRUSTLENS_SHUTDOWN_TIMEOUT_S="5", **extra),
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 180
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.5)

    def stop(self) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self._out.close()
        return rc, time.monotonic() - t0


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, Any], http.client.HTTPResponse]:
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    return resp.status, (json.loads(raw) if raw else {}), resp


def fail_entry_writes(store: str, target: str) -> None:
    """A trigger that makes every write of an entry fail inside the database driver."""
    if store == "sqlite":
        db = sqlite3.connect(target)
        db.executescript(
            "CREATE TRIGGER f12_fail_i BEFORE INSERT ON entries "
            "BEGIN SELECT RAISE(ABORT, 'forced failure'); END;"
            "CREATE TRIGGER f12_fail_u BEFORE UPDATE ON entries "
            "BEGIN SELECT RAISE(ABORT, 'forced failure'); END;"
        )
        db.close()
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(target)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION f12_fail() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER f12_fail BEFORE INSERT OR UPDATE ON entries "
                "FOR EACH ROW EXECUTE FUNCTION f12_fail()"
            )
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    if request.param == "sqlite":
        yield "sqlite", {}
    else:
        url = request.getfixturevalue("pg_url")
        yield "postgres", {"TRUSTLENS_DATABASE_URL": url}
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS f12_fail ON entries"))
            conn.execute(text("DROP FUNCTION IF EXISTS f12_fail()"))
        engine.dispose()


@pytest.mark.model
def test_forced_database_errors_leave_no_journal_text_in_the_log(
    tmp_path: Path, store: tuple[str, dict[str, str]]
) -> None:
    kind, extra = store
    log = tmp_path / "server.log"
    server = Server(tmp_path / "data", log, **extra)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        status, body, _ = request(conn, "POST", "/v1/users", {"name": "ana"}, **admin)
        assert status == 201, body
        key = body["api_key"]
        h = {"Authorization": f"Bearer {key}"}
        entry = {"id": "z1", "date": "2024-02-01", "text": TEXT, "tags": ["Ombudsgiraffe"]}
        status, body, _ = request(conn, "POST", "/v1/entries", entry, **h)
        assert status == 201, body

        target = extra.get("TRUSTLENS_DATABASE_URL") or str(tmp_path / "data" / "trustlens.db")
        fail_entry_writes(kind, target)
        sock = conn.sock
        status, body, resp = request(
            conn, "POST", "/v1/entries", {**entry, "id": "z2", "text": TEXT + " again"}, **h
        )
        assert status == 500, body
        assert body["detail"].startswith("Something went wrong on our side")
        assert (resp.getheader("connection") or "").lower() != "close"
        assert "Zanzibarian" not in json.dumps(body)
        # The connection is still open: the next request goes over the same socket.
        status, _, _ = request(conn, "GET", "/healthz")
        assert status == 200 and conn.sock is sock

        boundary = "f12boundary"
        upload = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="Pelicanfile.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + json.dumps({"id": "z3", "date": "2024-02-02", "text": TEXT})
            + f"\n\r\n--{boundary}--\r\n"
        ).encode()
        status, body, _ = request(
            conn,
            "POST",
            "/v1/entries/import/file",
            upload,
            **h,
            **{"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert status in (200, 500), body
        assert "Zanzibarian" not in json.dumps(body)
        status, body, _ = request(
            conn, "POST", "/v1/ask", {"question": "what did tangerinequest promise?"}, **h
        )
        assert status == 200, body
        conn.close()
    finally:
        rc, took = server.stop()
    assert rc == 0 and took < 15, (rc, took)  # SIGTERM stops it, gracefully
    text = log.read_text()
    lines = text.splitlines()
    assert any('"unhandled IntegrityError"' in line or "unhandled" in line for line in lines), text
    unhandled = [json.loads(line) for line in lines if '"trustlens.errors"' in line]
    assert unhandled and all(len(rec["request_id"]) == 32 for rec in unhandled), text
    assert "Traceback" not in text and "[parameters" not in text
    for word in [*MARKERS, key]:
        assert word.lower() not in text.lower(), f"{word!r} reached the log:\n{text}"
