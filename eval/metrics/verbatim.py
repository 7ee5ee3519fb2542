"""Share of quotes that are exact substrings of the cited entry's text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def verbatim_share(citations: Iterable[tuple[str, str]], texts: Mapping[str, str]) -> float | None:
    pairs = list(citations)
    if not pairs:
        return None
    return sum(1 for eid, quote in pairs if eid in texts and quote in texts[eid]) / len(pairs)
