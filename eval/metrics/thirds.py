"""Direction of change between the earliest and the latest third of a journal.

Monthly figures are noisy when a person writes three times one month and once the
next; comparing the first and last thirds of the entries (by count, not by calendar)
gives each side the same weight and a direction that hand labels can confirm.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any


def direction(earliest: float | None, latest: float | None) -> str | None:
    """``up``, ``down`` or ``same`` (rounded to 4 decimals); None without both sides."""
    if earliest is None or latest is None:
        return None
    a, b = round(earliest, 4), round(latest, 4)
    return "up" if b > a else "down" if b < a else "same"


def _third(
    ids: Sequence[str], labels: Mapping[str, Collection[str]], defensive: set[str], repair: set[str]
) -> dict[str, Any]:
    n = len(ids)
    d = sum(len(set(labels.get(e, ())) & defensive) for e in ids)
    r = sum(len(set(labels.get(e, ())) & repair) for e in ids)
    return {
        "entries": n,
        "defensive_per_entry": round(d / n, 4) if n else None,
        "repair_per_entry": round(r / n, 4) if n else None,
        "entry_ids": list(ids),
    }


def thirds(
    dated: Mapping[str, str],
    labels: Mapping[str, Collection[str]],
    defensive: Collection[str],
    repair: Collection[str],
) -> dict[str, Any]:
    """Entries (id → ISO date) sorted by date then id; the first and last ``n // 3``;
    in each, the mean number of distinct defensive and repair labels per entry (as the
    progress report counts them), and the direction of each from earliest to latest."""
    order = sorted(dated, key=lambda e: (dated[e], e))
    k = len(order) // 3
    d, r = set(defensive), set(repair)
    early = _third(order[:k], labels, d, r)
    late = _third(order[len(order) - k :], labels, d, r)
    return {
        "earliest": early,
        "latest": late,
        "defensive": direction(early["defensive_per_entry"], late["defensive_per_entry"]),
        "repair": direction(early["repair_per_entry"], late["repair_per_entry"]),
    }
