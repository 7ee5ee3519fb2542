"""MRR@k: reciprocal rank of the first relevant document (grade > 0) in the top k, else 0."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10) -> float:
    for rank, d in enumerate(ranked[:k], start=1):
        if qrels.get(d, 0) > 0:
            return 1.0 / rank
    return 0.0
