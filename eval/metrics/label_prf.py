"""Per-label precision, recall and F1 over entries that each carry a set of labels.

Counts (tp, fp, fn) are kept per label so that figures from several journals can be
pooled by adding counts (micro over entries) before the macro average over labels.
A label nobody used and nobody labelled has no F1 (it says nothing about the tagger),
so it is left out of the macro average instead of counting as 0 or 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import mean


def label_counts(
    predicted: Mapping[str, Iterable[str]],
    gold: Mapping[str, Iterable[str]],
    labels: Iterable[str],
) -> dict[str, dict[str, int]]:
    """tp/fp/fn per label over the entries of ``gold`` (an entry not predicted has no
    labels; predictions for entries outside ``gold`` are ignored)."""
    want = {e: set(v) for e, v in gold.items()}
    got = {e: set(predicted.get(e, ())) for e in want}
    out = {}
    for label in labels:
        tp = sum(1 for e in want if label in got[e] and label in want[e])
        fp = sum(1 for e in want if label in got[e] and label not in want[e])
        fn = sum(1 for e in want if label not in got[e] and label in want[e])
        out[label] = {"tp": tp, "fp": fp, "fn": fn}
    return out


def add_counts(*many: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Sum per-label counts of several journals (the pooled, micro-over-entries counts)."""
    out: dict[str, dict[str, int]] = {}
    for counts in many:
        for label, c in counts.items():
            acc = out.setdefault(label, {"tp": 0, "fp": 0, "fn": 0})
            for k in ("tp", "fp", "fn"):
                acc[k] += c[k]
    return out


def prf(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    """Precision (None without predictions), recall (None without support) and F1
    (None when the label is absent from both; 0 when predicted or labelled but never hit)."""
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None,
        "support": tp + fn,
    }


def per_label(counts: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, float | int | None]]:
    return {label: prf(c["tp"], c["fp"], c["fn"]) for label, c in counts.items()}


def macro_f1(counts: Mapping[str, Mapping[str, int]]) -> float | None:
    """Mean F1 over the labels that were predicted or labelled at least once."""
    f1s = [v["f1"] for v in per_label(counts).values() if v["f1"] is not None]
    return round(mean(f1s), 4) if f1s else None
