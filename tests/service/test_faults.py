"""Storage faults: a full disk (a real, small tmpfs as the data folder) and a read-only
data folder (a read-only bind mount) turn /readyz to 503 and writes to 507/503
problems, never a 500, and the service recovers by itself once space returns.

Mounting needs root (CAP_SYS_ADMIN), as in CI; without it these tests fail, saying so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.container import Container
from service.problems import storage_fault
from service.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.fakes import WordHashEmbeddings
from tests.service.test_api import assert_problem, new_user


def _mount(*args: str) -> None:
    r = subprocess.run(["mount", *args], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed (these tests need root): {r.stderr}")


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` as a read-only bind mount of itself (root ignores chmod, not this)."""
    _mount("--bind", str(path), str(path))
    try:
        _mount("-o", "remount,ro,bind", str(path))
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> Path:
    """Write until the file system says ENOSPC; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 1):
            block = b"\0" * size
            try:
                while True:
                    os.write(fd, block)
            except OSError as e:
                assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)
    assert os.statvfs(folder).f_bavail == 0
    return filler


ENTRY = {"date": "2024-01-01", "text": "I waited at the station and nobody came."}


@pytest.mark.parametrize("min_free", [0, 2_000_000])
def test_a_full_disk_is_507_and_not_ready_and_recovers(tmp_path: Path, min_free: int) -> None:
    """``min_free=0``: the stores themselves hit ENOSPC (SQLite, Chroma) and their errors
    are answered as 507; otherwise the guard refuses writes before they touch a store."""
    with tmpfs(tmp_path / "mnt", "40m") as mnt:
        s = Settings(data_dir=mnt / "data", admin_key=ADMIN_KEY, min_free_bytes=min_free)  # type: ignore[arg-type]
        c = Container(s, embeddings=WordHashEmbeddings())
        try:
            with TestClient(create_app(container=c)) as api:
                h = new_user(api, "ana")
                assert (
                    api.post("/v1/entries", json={**ENTRY, "id": "e0"}, headers=h).status_code
                    == 201
                )
                assert api.get("/readyz").status_code == 200
                filler = fill(mnt)
                for i in range(1, 4):
                    text = ENTRY["text"] + f" Try {i}. " + "More words here. " * 200
                    r = api.post(
                        "/v1/entries", json={**ENTRY, "id": f"e{i}", "text": text}, headers=h
                    )
                    body = assert_problem(r, 507, "storage is full")
                    assert body["checks"]["storage"].startswith("full")
                r = api.get("/readyz")
                body = assert_problem(r, 503, "storage")
                assert body["checks"]["storage"].startswith("full")
                assert api.get("/v1/entries/e0", headers=h).status_code == 200  # reads go on
                filler.unlink()  # space returns
                assert api.get("/readyz").status_code == 200
                r = api.post("/v1/entries", json={**ENTRY, "id": "e9"}, headers=h)
                assert r.status_code == 201, r.text
                assert r.json()["indexed"] is True
                ids = [e["id"] for e in api.get("/v1/entries", headers=h).json()["items"]]
                assert "e9" in ids and "e0" in ids
        finally:
            c.close()


def test_a_read_only_data_dir_is_503_and_not_ready(tmp_path: Path) -> None:
    data = tmp_path / "data"
    s = Settings(data_dir=data, admin_key=ADMIN_KEY)  # type: ignore[arg-type]
    c = Container(s, embeddings=WordHashEmbeddings())
    try:
        with TestClient(create_app(container=c)) as api:
            h = new_user(api, "ana")
            assert api.post("/v1/entries", json={**ENTRY, "id": "e0"}, headers=h).status_code == 201
            with read_only(data):
                r = api.post("/v1/entries", json={**ENTRY, "id": "e1"}, headers=h)
                body = assert_problem(r, 503, "read-only")
                assert body["checks"] == {"storage": "read-only"}
                body = assert_problem(api.get("/readyz"), 503, "storage")
                assert body["checks"]["storage"] == "read-only"
                assert api.get("/v1/entries/e0", headers=h).status_code == 200
            assert api.get("/readyz").status_code == 200
            assert api.post("/v1/entries", json={**ENTRY, "id": "e1"}, headers=h).status_code == 201
    finally:
        c.close()


def test_storage_errors_are_classified_from_the_os_and_driver_codes(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    assert storage_fault(OSError(errno.ENOSPC, "No space left on device")).status == 507  # type: ignore[union-attr]
    assert storage_fault(OSError(errno.EROFS, "Read-only file system")).status == 503  # type: ignore[union-attr]
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        db = sqlite3.connect(mnt / "x.db")
        db.execute("CREATE TABLE t (x TEXT)")
        db.commit()
        fill(mnt)
        try:
            db.execute("INSERT INTO t SELECT hex(randomblob(100000))")
            db.commit()
            raise AssertionError("the insert should not fit")
        except sqlite3.Error as e:
            wrapped = OperationalError("INSERT ...", {"x": "secret"}, e)
            fault = storage_fault(wrapped)
            assert fault is not None and fault.status == 507
        db.close()
    assert storage_fault(ValueError("no space left, but not a storage error")) is None
