"""nDCG@k with graded relevance, as BEIR computes it with pytrec_eval.

Gain is the relevance grade itself (linear, ``rel / log2(rank + 1)``); the ideal DCG
uses every judged relevant document of the query sorted by grade. Documents without a
judgement count as 0. A query without relevant documents scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(grades: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, float], k: int = 10) -> float:
    ideal = dcg(sorted((g for g in qrels.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    got = dcg([max(qrels.get(d, 0), 0) for d in ranked[:k]])
    return got / ideal
