"""Recall@k: share of a query's relevant documents (grade > 0) found in the top k."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 100) -> float:
    relevant = {d for d, g in qrels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)
