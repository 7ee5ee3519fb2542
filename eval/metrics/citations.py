"""Citation precision and recall against labelled relevant entries."""

from __future__ import annotations

from collections.abc import Iterable


def citation_precision(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of cited entries that are relevant (None when nothing is cited)."""
    c, r = set(cited), set(relevant)
    return len(c & r) / len(c) if c else None


def citation_recall(cited: Iterable[str], relevant: Iterable[str]) -> float | None:
    """Share of relevant entries that are cited (None when nothing is relevant)."""
    c, r = set(cited), set(relevant)
    return len(c & r) / len(r) if r else None
