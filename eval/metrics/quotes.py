"""Quote checks: every quote must be a verbatim span of its own entry, and long enough
to stand as evidence.

A fragment of fewer than five words ("and then", "she said") proves nothing to the
reader even when it is verbatim, so short quotes are counted as a warning; a quote that
is not an exact substring of the cited entry is a fabrication and must never happen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MIN_WORDS = 5


def quote_checks(
    citations: Iterable[tuple[str, str]], texts: Mapping[str, str], min_words: int = MIN_WORDS
) -> dict[str, Any]:
    """Counts of quotes checked, under ``min_words`` words, and not verbatim, with the
    offending ``(entry_id, quote)`` pairs so a failure can be read."""
    pairs = list(citations)
    short = [(e, q) for e, q in pairs if len(q.split()) < min_words]
    wrong = [(e, q) for e, q in pairs if e not in texts or q not in texts[e]]
    return {
        "checked": len(pairs),
        "short": len(short),
        "not_verbatim": len(wrong),
        "short_quotes": [list(p) for p in short],
        "not_verbatim_quotes": [list(p) for p in wrong],
    }
