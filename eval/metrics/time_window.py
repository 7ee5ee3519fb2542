"""Citations dated outside the period a time-bounded question asks about.

A question such as "what happened last winter?" must only be answered from entries
written in that winter; one citation from another season is a wrong answer even when
its text is on topic, so these are counted apart from precision.
"""

from __future__ import annotations

from collections.abc import Iterable


def outside_window(
    cited: Iterable[tuple[str, str]], since: str | None, until: str | None
) -> list[str]:
    """Distinct entry ids (first-cited order) whose ISO date falls before ``since`` or
    after ``until`` (an open end does not bound)."""
    out: list[str] = []
    for entry_id, date in cited:
        early = since is not None and date < since
        late = until is not None and date > until
        if (early or late) and entry_id not in out:
            out.append(entry_id)
    return out
