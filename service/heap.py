"""Every trustlens process wipes the memory it frees (glibc malloc tunables).

Why: the embedded Chroma shares the process's heap, and its HNSW library writes a
buffer it never fully initialised to disk: ``length_memory_`` is ``malloc``-ed (and
grown with ``realloc``) for ``max_elements`` slots, only the first ``cur_element_count``
are ever set, and ``persistIndex`` writes all of them to ``length.bin``. Whatever the
heap held there before lands in that file in the clear. In this service that can be a
journal entry (a CI run found eleven six-word runs of an entry's text in ``length.bin``
after upgrading a data directory whose old Chroma held documents), beside a database
in which every text is sealed.

glibc's ``perturb`` tunable fills each chunk with a fixed byte when it is handed out
and when it is freed; ``tcache_count=0`` sends every free through the path that does so
(the per-thread cache skips it). So no uninitialised buffer can hold an earlier text,
in any thread's arena (Chroma's Rust threads have their own). Tunables are read when a
process starts, so an entry point re-executes itself once with them set; its children
(a server's workers, a test's servers) inherit them. The cost is a ``memset`` per
``malloc`` and ``free`` above pymalloc's 512 bytes: embedding 80 entries took 2.5 s
either way on this machine.
"""

from __future__ import annotations

import os
import platform
import sys

TUNABLES = ("glibc.malloc.perturb=165", "glibc.malloc.tcache_count=0")
PERTURB_BYTE = 165  # a freed chunk reads 0xA5, a fresh one its complement, 0x5A


def applies() -> bool:
    """Only glibc (Linux) has these tunables; elsewhere nothing is done."""
    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def wiping(environ: os._Environ[str] | dict[str, str] | None = None) -> bool:
    """Whether this process was started with the tunables (a child inherits them)."""
    env = os.environ if environ is None else environ
    have = set(env.get("GLIBC_TUNABLES", "").split(":"))
    return all(t in have for t in TUNABLES)


def with_tunables(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` with the tunables added to any it already sets."""
    have = [t for t in environ.get("GLIBC_TUNABLES", "").split(":") if t]
    names = {t.split("=", 1)[0] for t in TUNABLES}
    kept = [t for t in have if t.split("=", 1)[0] not in names]
    return {**environ, "GLIBC_TUNABLES": ":".join([*kept, *TUNABLES])}


def reexec_wiping() -> None:
    """Re-execute this process (same interpreter, same arguments) with the tunables set,
    unless it already runs with them or the C library is not glibc. Call it first thing
    in an entry point, before anything has been read: the new process starts over."""
    if not applies() or wiping():
        return
    argv = [sys.executable, *sys.orig_argv[1:]]
    os.execve(sys.executable, argv, with_tunables(dict(os.environ)))
