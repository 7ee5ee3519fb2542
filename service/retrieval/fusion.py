"""Reciprocal rank fusion: combine ranked lists without calibrating their scores."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]],
    weights: Sequence[float] | None = None,
    k: int = 60,
) -> dict[Hashable, float]:
    """``sum(w / (k + rank))`` over the lists an item appears in (rank from 1)."""
    ws = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(ws) != len(rankings):
        raise ValueError("one weight per ranking")
    fused: dict[Hashable, float] = {}
    for ranking, w in zip(rankings, ws, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused
