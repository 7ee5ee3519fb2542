"""Tagging quality on the labelled development journals (eval/datasets/entry_labels.json).

The journals are imported through the real ingest path (chunking, embedding, tagging,
label rows), and the labels are read back through ``UserLabels``, so what is measured
is what ``trustlens patterns`` shows. Per entry: the nine pattern labels (seven
defensive patterns and two repair signals, all listed under ``patterns`` in the
dataset) give per-label precision/recall/F1 and their macro-F1 (the acceptance
figure); the seven emotions give an emotion macro-F1; the era gives an accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Any

from ingest.labels_store import UserLabels, known_labels

LABELS = Path(__file__).parent / "datasets" / "entry_labels.json"
ROOT = Path(__file__).resolve().parent.parent


def load_labels(path: Path = LABELS) -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["labels"]
    return data


def prf(predicted: dict[str, set[str]], gold: dict[str, set[str]], label: str) -> dict:
    """Precision, recall and F1 of one label over the entries of ``gold``."""
    tp = sum(1 for e in gold if label in predicted.get(e, set()) and label in gold[e])
    fp = sum(1 for e in gold if label in predicted.get(e, set()) and label not in gold[e])
    fn = sum(1 for e in gold if label not in predicted.get(e, set()) and label in gold[e])
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "support": tp + fn,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def score(
    predicted: dict[str, set[str]], eras: dict[str, str], gold: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Per-label figures and the summary for predictions keyed by entry id."""
    groups = known_labels()
    nine = [n for n, g in groups.items() if g in ("patterns", "repair")]
    emotions = [n for n, g in groups.items() if g == "emotions"]
    gold_p = {e: set(v["patterns"]) for e, v in gold.items()}
    gold_e = {e: set(v["emotions"]) for e, v in gold.items()}
    per_label = {n: prf(predicted, gold_p, n) for n in nine}
    per_emotion = {n: prf(predicted, gold_e, n) for n in emotions}
    missing = sorted(set(gold) - set(predicted))
    return {
        "summary": {
            "entries": len(gold),
            "entries_missing": len(missing),
            "macro_f1": round(mean(v["f1"] for v in per_label.values()), 4),
            "emotion_macro_f1": round(mean(v["f1"] for v in per_emotion.values()), 4),
            "era_accuracy": round(mean(eras.get(e) == v["era"] for e, v in gold.items()), 4),
        },
        "per_label": per_label,
        "per_emotion": per_emotion,
        "era_errors": {
            e: {"predicted": eras.get(e), "gold": v["era"]}
            for e, v in gold.items()
            if eras.get(e) != v["era"]
        },
        "missing": missing,
    }


def predictions(container: Any, user_ids: list[str]) -> tuple[dict[str, set[str]], dict]:
    """Entry id → positive labels (corrections applied) and entry id → era."""
    labels: dict[str, set[str]] = {}
    eras: dict[str, str] = {}
    for uid in user_ids:
        with container.sessions() as s:
            for eid, el in UserLabels(s, uid).entry_labels().items():
                labels[eid] = set(el.labels)
                eras[eid] = el.era
    return labels, eras


def tagging_scores(container: Any, users: dict[str, str] | None = None) -> dict[str, Any]:
    """Tagging figures on the dev journals, for ``trustlens eval tagging`` and the
    journal eval. ``users`` (name → user id) names journals already imported into the
    container; without it the journals of ``journal_dev.json`` are imported first."""
    if users is None:
        from eval.journal_eval import ingest_journals, load_dataset

        users = ingest_journals(container, load_dataset(), ROOT)
    labels, eras = predictions(container, list(users.values()))
    return score(labels, eras, load_labels())


def lowo_figures(
    predicted: dict[str, set[str]],
    gold: dict[str, set[str]],
    writer_of: dict[str, str],
    groups: dict[str, str],
) -> dict[str, Any]:
    """Per-entry figures of leave-one-writer-out predictions (keys ``writer/entry``):
    per label P/R/F1 pooled over the writers, pooled macro-F1 over the nine pattern
    labels (the acceptance figure) and each writer's macro-F1 over the nine labels that
    writer has at least one entry of (a label a writer never shows has no F1 there)."""
    nine = [n for n, g in groups.items() if g in ("patterns", "repair")]
    emotions = [n for n, g in groups.items() if g == "emotions"]
    per_label = {n: prf(predicted, gold, n) for n in nine}
    per_emotion = {n: prf(predicted, gold, n) for n in emotions}
    per_writer: dict[str, Any] = {}
    for w in dict.fromkeys(writer_of.values()):
        mine = {k: v for k, v in gold.items() if writer_of[k] == w}
        figs = {n: prf(predicted, mine, n) for n in nine}
        shown = {n: f["f1"] for n, f in figs.items() if f["support"]}
        per_writer[w] = {
            "entries": len(mine),
            "macro_f1": round(mean(shown.values()), 4) if shown else None,
            "labels_shown": len(shown),
            "f1": shown,
        }
    macro = round(mean(v["f1"] for v in per_label.values()), 4)
    low = min(v["f1"] for v in per_label.values())
    return {
        "summary": {
            "entries": len(gold),
            "macro_f1": macro,
            "min_label_f1": low,
            "emotion_macro_f1": round(mean(v["f1"] for v in per_emotion.values()), 4),
            "goal_macro_f1_0.7": macro >= 0.7,
            "goal_every_label_0.5": low >= 0.5,
        },
        "per_label": per_label,
        "per_writer": per_writer,
        "per_emotion": per_emotion,
    }
