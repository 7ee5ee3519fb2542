"""Freed memory is wiped in trustlens processes (``service.heap``): an uninitialised
buffer that the embedded Chroma writes to disk can hold no earlier text."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

from service.heap import PERTURB_BYTE, TUNABLES, applies, wiping, with_tunables

PROBE = """
import ctypes, os
from service.heap import reexec_wiping
reexec_wiping()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
buf = ctypes.create_string_buffer(b"my sister read my journal " * 40)
p = libc.malloc(len(buf)); ctypes.memmove(p, buf, len(buf)); libc.free(p)
q = libc.malloc(len(buf)); seen = ctypes.string_at(q, len(buf)); libc.free(q)
print(os.environ.get("GLIBC_TUNABLES", ""), b"sister" in seen, len(set(seen[16:])))
"""


def _fresh_malloc(n: int) -> bytes:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    p = libc.malloc(n)
    try:
        return ctypes.string_at(p, n)
    finally:
        libc.free(p)


def test_the_test_run_wipes_as_the_command_does() -> None:
    assert applies()  # CI and the supported machines run glibc
    assert wiping()
    assert set(_fresh_malloc(4000)) == {PERTURB_BYTE ^ 0xFF}


def test_an_entry_point_reexecutes_itself_with_the_tunables() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    env["GLIBC_TUNABLES"] = "glibc.malloc.arena_max=2"  # one of the person's own, kept
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0].split(":") == ["glibc.malloc.arena_max=2", *TUNABLES]
    # The text freed a moment ago is not in the next buffer of that size: filled instead.
    assert out[1] == "False"
    assert out[2] == "1"


def test_the_tunables_replace_a_different_setting_of_the_same_name() -> None:
    env = with_tunables({"GLIBC_TUNABLES": "glibc.malloc.perturb=1:glibc.malloc.mxfast=0"})
    assert env["GLIBC_TUNABLES"].split(":") == ["glibc.malloc.mxfast=0", *TUNABLES]
    assert wiping(env) and not wiping({"GLIBC_TUNABLES": "glibc.malloc.perturb=1"})
