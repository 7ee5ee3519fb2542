"""Does the answer to "what do I usually do when ...?" lead with the usual response?

The gold answer is the response most often labelled among the episodes of the
question's relevant entries; when several responses tie, leading with any of them is
right, because the labels give no reason to prefer one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any


def gold_top_responses(
    labels: Mapping[str, Mapping[str, Any]], relevant: Iterable[str]
) -> set[str]:
    """The most frequent ``response_label`` (ties: all of them) over the episodes of the
    relevant entries; episodes without a response label are not counted."""
    counts: Counter[str] = Counter()
    for eid in relevant:
        for ep in labels.get(eid, {}).get("episodes", []):
            if ep.get("response_label"):
                counts[ep["response_label"]] += 1
    if not counts:
        return set()
    best = max(counts.values())
    return {label for label, n in counts.items() if n == best}


def top_matches(behaviours: Sequence[str], gold_top: Collection[str]) -> bool | None:
    """Whether the first behaviour is one of the gold top responses (None when the
    labels name no response; False when the answer gives no behaviour)."""
    if not gold_top:
        return None
    return bool(behaviours) and behaviours[0] in gold_top
