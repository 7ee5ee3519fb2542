"""Shared parts of the benchmarks: a deterministic synthetic journal, timers, memory.

The journal is synthetic but written like the real ones: first-person sentences about
people, broken promises, repairs and feelings, with names, days and places varied so
that almost every sentence is distinct (no help from de-duplication or caches).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

PEOPLE = [
    "Sam", "Jordan", "Priya", "Alex", "Theo", "Maya", "Dana", "my sister", "my brother",
    "Mum", "Dad", "my manager", "Chris", "Lena", "Omar", "Rosa", "my best friend", "Nico",
]  # fmt: skip
DAYS = [
    "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday",
    "on Sunday", "this morning", "last night", "yesterday", "at lunch", "after work",
]  # fmt: skip
PLACES = [
    "at the cafe", "in the kitchen", "on the phone", "at the office", "in the car",
    "at the park", "over text", "at dinner", "at my parents' house", "on the train",
]  # fmt: skip
FEELINGS = [
    "hurt", "relieved", "angry", "tired", "hopeful", "anxious", "embarrassed", "calm",
    "let down", "grateful", "confused", "lonely", "safe", "suspicious", "numb", "proud",
]  # fmt: skip
THINGS = [
    "the rent money", "my birthday", "the trip to the coast", "the dog", "my password",
    "the spare key", "the promotion", "our plans for Saturday", "the dentist appointment",
    "the car", "my diary", "the wedding", "the group chat", "my new job",
]  # fmt: skip
TEMPLATES = [
    "{p} cancelled {t} again {d} and did not say why.",
    "I told {p} about {t} {d}, and later I heard it repeated {l}.",
    "{p} promised to call {d} but the phone stayed quiet until midnight.",
    "When {p} said sorry {l}, I felt {f} but I did not quite believe it.",
    "I keep checking whether {p} will actually show up for {t}.",
    "{p} kept their word about {t}, and I noticed I felt {f}.",
    "I said it was fine {d}, even though I was {f} about {t}.",
    "{p} read my messages {l} without asking, and I felt {f} for hours.",
    "We talked honestly {l} about {t}; I felt {f} afterwards.",
    "I found out {d} that {p} had lied about {t}.",
    "It is hard to trust {p} with {t} after what happened last spring.",
    "{p} remembered {t} without a reminder, which surprised me.",
    "I wrote down three things {p} did right {d} to keep myself honest.",
    "{p} laughed it off {l} when I asked about {t}, and I went quiet.",
    "Part of me wants to give {p} another chance with {t}.",
    "I noticed I was waiting for {p} to let me down {d}.",
    "My therapist asked {d} what trust would look like with {p}.",
    "{p} showed up early {l} and helped with {t} without being asked.",
    "I felt {f} {l} when {p} changed the subject again.",
    "I am learning to say what I need from {p} before I get {f}.",
]
QUESTIONS = [
    "When did {p} let me down?",
    "How do I feel when {p} cancels plans?",
    "What happened with {t}?",
    "Did {p} ever keep a promise?",
    "Why is it hard to trust {p}?",
    "When did I feel {f} about {p}?",
    "What did {p} do {l}?",
    "Do I keep waiting for people to let me down?",
    "What helps me trust {p} again?",
    "Who lied to me about {t}?",
]


def render(rng: random.Random, template: str) -> str:
    """Fill a sentence template's slots deterministically from ``rng``."""
    s = template.format(
        p=rng.choice(PEOPLE),
        d=rng.choice(DAYS),
        l=rng.choice(PLACES),
        f=rng.choice(FEELINGS),
        t=rng.choice(THINGS),
    )
    return s[0].upper() + s[1:]


def sentence(rng: random.Random) -> str:
    return render(rng, rng.choice(TEMPLATES))


def question(rng: random.Random) -> str:
    return rng.choice(QUESTIONS).format(
        p=rng.choice(PEOPLE),
        l=rng.choice(PLACES),
        f=rng.choice(FEELINGS),
        t=rng.choice(THINGS),
    )


def synthetic_entries(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` journal entries (``id``, ``date``, ``text``, ``tags``), 3–9 sentences each."""
    rng = random.Random(seed)
    start = dt.date(2023, 1, 1)
    out = []
    for i in range(n):
        sents = [sentence(rng) for _ in range(rng.randint(3, 9))]
        if len(sents) > 5 and rng.random() < 0.5:  # some entries have two paragraphs
            cut = rng.randint(2, len(sents) - 2)
            text = " ".join(sents[:cut]) + "\n\n" + " ".join(sents[cut:])
        else:
            text = " ".join(sents)
        out.append(
            {
                "id": f"b{i:06d}",
                "date": (start + dt.timedelta(days=i // 2)).isoformat(),
                "text": text,
                "tags": rng.sample(["family", "work", "friends", "partner", "self"], 1),
            }
        )
    return out


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def python_peak_mib(fn: Callable[[], T]) -> tuple[float, T]:
    """Peak of Python-level allocations (``tracemalloc``) while ``fn`` runs, in MiB.

    Native allocations (torch tensors, Chroma's Rust core, SQLite) are not seen; see
    :func:`max_rss_mib` for the whole process.
    """
    was = tracemalloc.is_tracing()
    if not was:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not was:
            tracemalloc.stop()
    return (peak - base) / 2**20, result


def max_rss_mib() -> float:
    """The process's peak resident set size so far (``getrusage``; KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    """Current resident set size (``/proc/self/statm``), in MiB."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    if q <= 0:
        return float(min(values))
    if q >= 100:
        return float(max(values))
    return float(cuts[int(q) - 1]) if float(q).is_integer() else float("nan")


def finite_positive(x: float) -> bool:
    return math.isfinite(x) and x > 0
