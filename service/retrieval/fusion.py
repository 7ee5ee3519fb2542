"""Fusion of ranked lists: reciprocal rank (no calibration) or min-max scaled scores."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

H = TypeVar("H", bound=Hashable)


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


def min_max(scores: Mapping[H, float]) -> dict[H, float]:
    """Scale scores to [0, 1] (all equal: all 1)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi <= lo:
        return {item: 1.0 for item in scores}
    return {item: (s - lo) / (hi - lo) for item, s in scores.items()}


def convex_fusion(
    score_lists: Sequence[Mapping[H, float]],
    weights: Sequence[float] | None = None,
) -> dict[H, float]:
    """``sum(w * minmax(score))`` over the lists; an item missing from a list gets 0 there.

    Each list is min-max scaled over its own candidates, so an item a retriever did not
    return counts as that retriever's weakest candidate.
    """
    ws = list(weights) if weights is not None else [1.0] * len(score_lists)
    if len(ws) != len(score_lists):
        raise ValueError("one weight per score list")
    fused: dict[H, float] = {}
    for scores, w in zip(score_lists, ws, strict=True):
        for item, s in min_max(scores).items():
            fused[item] = fused.get(item, 0.0) + w * s
    return fused
