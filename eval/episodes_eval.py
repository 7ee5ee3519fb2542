"""How well the episode detector does on a writer it has never read.

Why leave-one-writer-out: the five labelled journals are five voices (a teenager in lower
case, a retired clerk, a therapy-literate designer, a second-language writer, the sample
journal), and the people who will use the service write like none of them. Each writer in
turn is held out; everything else (models and every threshold, themselves picked by an
inner leave-one-writer-out) is trained on the other four, and the held-out writer's
entries go through the run-time ``EpisodeDetector`` unchanged.

Figures, per writer and pooled, for both variants (``embedded``: MiniLM vectors plus
text features; ``text``: the fallback for other embeddings):

- entry-level episode precision/recall against the entries the general habit question
  lists ("what do I usually do when someone lets me down?": let-down episodes with the
  writer's response described);
- on correctly found entries, whether the first episode's trigger and response overlap
  the gold ones, and whether ``by`` names the gold person;
- response-label accuracy on the held-out writer's gold responses, and on detected
  responses that match a gold one;
- the most frequent predicted label over a writer's detected episodes against the most
  frequent gold label (maya: her pattern labels on the habit question's entries);
- origin (``era == "origin"``) precision/recall at the shipped threshold, and how the
  sentence retrospect score separates sentences of origin entries from the rest (AUC).

Maya has no sentence-level labels, so the sentence and label figures are dev writers only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from eval.episodes_data import MAYA, MAYA_QUESTIONS, WRITERS, Entry, VectorCache
from eval.episodes_train import SETTINGS, Settings, train_model
from ingest.episodes import (
    EMBEDDED,
    NONE_LABEL,
    TEXT,
    DetectedEpisode,
    EpisodeDetector,
    EpisodeModel,
    sentence_blocks,
    unit_rows,
)

VARIANTS = (EMBEDDED, TEXT)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def auc(y: Sequence[bool], p: Sequence[float]) -> float | None:
    """Area under the ROC curve (ties count half); None without both classes."""
    ya, pa = np.asarray(y, dtype=bool), np.asarray(p, dtype=np.float64)
    pos, neg = pa[ya], pa[~ya]
    if not len(pos) or not len(neg):
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return round(float(greater) / (len(pos) * len(neg)), 3)


def _overlaps(text: str, span: Any, entry: Entry, indices: Sequence[int]) -> bool:
    return any(span.start < entry.spans[i][1] and span.end > entry.spans[i][0] for i in indices)


def _names_match(pred: str | None, gold: str) -> bool:
    if not pred:
        return False
    p = pred.lower().removeprefix("my ").strip()
    g = gold.lower()
    return p in g or any(tok in p.split() for tok in g.replace(",", " ").split() if len(tok) > 2)


def gold_top_label(entries: Sequence[Entry]) -> str | None:
    """The writer's most frequent response label (maya: pattern labels of the entries
    her habit question lists, the only response labels she has)."""
    if entries and entries[0].episodes is None:
        counts = Counter(lab for e in entries if e.has_episode for lab, _ in e.patterns)
    else:
        counts = Counter(
            ep.response_label for e in entries for ep in e.episodes or [] if ep.response_label
        )
    return counts.most_common(1)[0][0] if counts else None


def label_accuracy(
    model: EpisodeModel, entries: Sequence[Entry], cache: VectorCache, variant: str
) -> tuple[int, int]:
    """(correct, total) of the label classifier on the gold responses."""
    pairs = [
        (ep.response_text, ep.response_label or NONE_LABEL)
        for e in entries
        for ep in e.episodes or []
        if ep.response_text
    ]
    if not pairs:
        return 0, 0
    texts = [t for t, _ in pairs]
    clf = model.label[variant]
    vecs = unit_rows(cache.vectors(texts)) if variant == EMBEDDED else None
    blocks = sentence_blocks(texts, vecs, model.vocabs, clf.weights)
    pred = [clf.classes[k] for k in clf.proba(blocks).argmax(axis=1)]
    return sum(p == g for p, (_, g) in zip(pred, pairs, strict=True)), len(pairs)


class Tally:
    """Counts for one writer and one variant."""

    def __init__(self) -> None:
        self.c: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.origin_y: list[bool] = []
        self.origin_p: list[float] = []
        self.origin_hit: list[bool] = []
        self.retro_y: list[bool] = []
        self.retro_p: list[float] = []

    def add_entry(self, e: Entry, found: list[DetectedEpisode]) -> None:
        self.c["entries"] += 1
        self.c["gold"] += e.has_episode
        self.c["predicted"] += bool(found)
        self.c["tp"] += bool(found) and e.has_episode
        self.labels.update(ep.response_label for ep in found if ep.response_label)
        if found and e.has_episode and e.episodes:
            self._spans(e, found[0])
            self._detected_labels(e, found)

    def _spans(self, e: Entry, ep: DetectedEpisode) -> None:
        self.c["span_checked"] += 1
        trig = [i for g in e.episodes or [] for i in g.trigger]
        resp = [i for g in e.episodes or [] for i in g.response]
        self.c["trigger_hit"] += _overlaps(e.text, ep.trigger, e, trig)
        self.c["response_hit"] += ep.response is not None and _overlaps(
            e.text, ep.response, e, resp
        )
        self.c["by_match"] += any(_names_match(ep.by, g.by) for g in e.episodes or [])

    def _detected_labels(self, e: Entry, found: list[DetectedEpisode]) -> None:
        for ep in found:
            gold = [g for g in e.episodes or [] if ep.response and _overlaps(
                e.text, ep.response, e, g.response)]  # fmt: skip
            if gold:
                self.c["detected_label_n"] += 1
                self.c["detected_label_ok"] += ep.response_label == gold[0].response_label

    def figures(self) -> dict[str, Any]:
        c = self.c
        top = self.labels.most_common(1)[0][0] if self.labels else None
        return {
            "entries": c["entries"],
            "gold": c["gold"],
            "predicted": c["predicted"],
            "tp": c["tp"],
            "precision": _ratio(c["tp"], c["predicted"]),
            "recall": _ratio(c["tp"], c["gold"]),
            "trigger_hit": _ratio(c["trigger_hit"], c["span_checked"]),
            "response_hit": _ratio(c["response_hit"], c["span_checked"]),
            "by_match": _ratio(c["by_match"], c["span_checked"]),
            "detected_label_accuracy": _ratio(c["detected_label_ok"], c["detected_label_n"]),
            "predicted_labels": dict(self.labels.most_common()),
            "top_label": top,
            "origin": self.origin_figures(),
            "retrospect_sentence_auc": auc(self.retro_y, self.retro_p),
        }

    def origin_figures(self) -> dict[str, Any]:
        y = np.asarray(self.origin_y, dtype=bool)
        hit = np.asarray(self.origin_hit, dtype=bool)
        tp = int((y & hit).sum())
        return {
            "gold": int(y.sum()),
            "predicted": int(hit.sum()),
            "tp": tp,
            "precision": _ratio(tp, int(hit.sum())),
            "recall": _ratio(tp, int(y.sum())),
            "auc": auc(self.origin_y, self.origin_p),
        }


def evaluate_writer(
    model: EpisodeModel, entries: Sequence[Entry], cache: VectorCache
) -> dict[str, Tally]:
    """Run the detector (both variants) over one writer's entries."""
    out = {}
    for variant in VARIANTS:
        name = cache.model_name if variant == EMBEDDED else "text-only"
        det = EpisodeDetector(cache, name, model)
        t = Tally()
        for e in entries:
            vecs = cache.vectors(e.sentences) if variant == EMBEDDED else None
            scores = det.scores(e.text, e.spans, vecs)
            t.add_entry(e, det.detect(e.text, e.spans, vecs))
            t.origin_y.append(e.era == "origin")
            t.origin_p.append(scores.origin)
            t.origin_hit.append(scores.origin >= det.origin_threshold)
            t.retro_y += [e.era == "origin"] * len(e.spans)
            t.retro_p += [float(x) for x in scores.retro]
        ok, n = label_accuracy(model, entries, cache, variant)
        t.c["label_ok"], t.c["label_n"] = ok, n
        out[variant] = t
    return out


def _pool(tallies: Sequence[Tally]) -> Tally:
    pooled = Tally()
    for t in tallies:
        pooled.c.update(t.c)
        pooled.origin_y += t.origin_y
        pooled.origin_p += t.origin_p
        pooled.origin_hit += t.origin_hit
        pooled.retro_y += t.retro_y
        pooled.retro_p += t.retro_p
    return pooled


def lowo_report(
    data: dict[str, list[Entry]], cache: VectorCache, settings: Settings = SETTINGS
) -> dict[str, Any]:
    """Leave each writer out in turn (thresholds by inner leave-one-writer-out)."""
    per: dict[str, dict[str, Any]] = {v: {} for v in VARIANTS}
    tallies: dict[str, list[Tally]] = {v: [] for v in VARIANTS}
    thresholds = {}
    for held in data:
        train = {w: es for w, es in data.items() if w != held}
        model, _ = train_model(train, cache, settings)
        thresholds[held] = model.thresholds
        for variant, t in evaluate_writer(model, data[held], cache).items():
            per[variant][held] = _figures(t, data[held])
            tallies[variant].append(t)
    return {
        "in_sample": False,
        "per_writer": per,
        "pooled": _pooled(tallies, per),
        "thresholds": thresholds,
    }


def config(settings: Settings = SETTINGS) -> dict[str, Any]:
    return {
        "writers": list(WRITERS),
        "maya_questions": str(MAYA_QUESTIONS.name),
        "maya": f"{MAYA}: entry-level labels only (habit question q01, eras, pattern labels)",
        "settings": settings.to_json(),
        "embedding_model": "packaged all-MiniLM-L6-v2",
        "protocol": "leave one writer out; thresholds by inner leave-one-writer-out",
    }


def _figures(t: Tally, entries: Sequence[Entry]) -> dict[str, Any]:
    fig = t.figures()
    gold_top = gold_top_label(entries)
    fig["gold_top_label"] = gold_top
    fig["top_label_match"] = fig["top_label"] == gold_top
    fig["label_accuracy"] = _ratio(t.c["label_ok"], t.c["label_n"])
    fig["label_n"] = t.c["label_n"]
    return fig


def _pooled(tallies: dict[str, list[Tally]], per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    pooled = {}
    for v in VARIANTS:
        p = _pool(tallies[v]).figures()
        for k in ("predicted_labels", "top_label"):
            p.pop(k)
        ok = sum(t.c["label_ok"] for t in tallies[v])
        n = sum(t.c["label_n"] for t in tallies[v])
        p["label_accuracy"] = _ratio(ok, n)
        p["top_label_matches"] = sum(f["top_label_match"] for f in per[v].values())
        p["writers"] = len(per[v])
        pooled[v] = p
    return pooled


def shipped_report(data: dict[str, list[Entry]], cache: VectorCache) -> dict[str, Any]:
    """The shipped model on the writers it was trained on: in-sample, a smoke test only."""
    from ingest.episodes import load_model

    model = load_model()
    per: dict[str, dict[str, Any]] = {v: {} for v in VARIANTS}
    tallies: dict[str, list[Tally]] = {v: [] for v in VARIANTS}
    for w, entries in data.items():
        for variant, t in evaluate_writer(model, entries, cache).items():
            per[variant][w] = _figures(t, entries)
            tallies[variant].append(t)
    return {
        "in_sample": True,
        "per_writer": per,
        "pooled": _pooled(tallies, per),
        "thresholds": model.thresholds,
    }
