"""Precision, recall and F1 for a yes/no label (e.g. "is this crisis language?")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        """Share of predicted positives that are positive (None when none was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """Share of positives that were found (None when there are none)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def confusion(pairs: Iterable[tuple[bool, bool]]) -> Confusion:
    """Count ``(truth, predicted)`` pairs."""
    tp = fp = fn = tn = 0
    for truth, pred in pairs:
        if truth and pred:
            tp += 1
        elif pred:
            fp += 1
        elif truth:
            fn += 1
        else:
            tn += 1
    return Confusion(tp=tp, fp=fp, fn=fn, tn=tn)


def precision(pairs: Iterable[tuple[bool, bool]]) -> float | None:
    return confusion(pairs).precision


def recall(pairs: Iterable[tuple[bool, bool]]) -> float | None:
    return confusion(pairs).recall


def f1(pairs: Iterable[tuple[bool, bool]]) -> float | None:
    return confusion(pairs).f1
