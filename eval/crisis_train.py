"""Train the crisis gate's second stage and choose its thresholds by cross-validation.

The shipped model's recipe (issue 13: real posts, two heads, thresholds from the C-SSRS
cross-validated curve) is ``eval.crisis_cssrs``. What follows describes round 3 (v1),
whose pieces it reuses (``fit``, ``training_texts``, ``journal_sentences``,
``labelled_groups``, ``CachedEmbeddings``).

Why a learned stage: hand-written patterns find the crisis texts they were written
against, but only a third to a half of those in a set written afterwards by someone else
(``crisis_holdout2.jsonl``: 0.373 crisis recall for the round-2 gate). Round 3 adds
training data written by three separate sessions (``crisis_train_{a,b,c}.jsonl``) and
averages two linear models (``service/safety/classifier.py``).

How thresholds are chosen, so no held-out text is involved: leave one writer's file out,
train on the rest, run the whole gate (patterns first, as at run time) on the file left
out. Pooled over the files the patterns were NOT written from:

- ``threshold`` (concern: resources shown, the answer still given) is the highest value
  whose pooled recall, counting either level, is at least ``CONCERN_RECALL``;
- ``crisis_threshold`` (the answer replaced) is the lowest value from there whose pooled
  crisis-level precision is at least ``CRISIS_PRECISION``;
- both are raised, if need be, until the everyday files (ordinary writing, no crisis rows)
  get a level at most ``EVERYDAY_ANY`` of the time and crisis at most ``EVERYDAY_CRISIS``:
  a gate that fires on "flying out to Peru next week" teaches people to ignore it. The
  same limits hold on EmpatheticDialogues dev (everyday situations by crowd workers),
  scored by the final model: it only moves the two thresholds, no weight is fit on it.

``crisis_holdout2.jsonl`` and EmpatheticDialogues test are never read here.
EmpatheticDialogues is never trained on: its licence is non-commercial and the weights
ship with the package.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from eval.crisis_eval import (
    DATASET,
    HOLDOUT,
    TRAIN_GLOB,
    Example,
    everyday_rows,
    load_dataset,
)
from ingest.readers import read_path
from service.safety.classifier import TrainedClassifier, make_vectorizer
from service.safety.detector import Assessment, assess, sentences, unit_rows
from service.safety.rules import CrisisRules

C_EMBEDDING = 2.0  # inverse L2 strength of the embedding model (round 2, kept)
C_TFIDF = 4.0
MIX = 0.5  # weight of the TF-IDF model; leave-one-writer-out: 0.5 beat 0 (embedding only)
NGRAM_MAX = 2
MIN_DF = 2
CONCERN_RECALL = 0.95
CRISIS_PRECISION = 0.85
# Everyday files (no crisis rows): at most this share may get a level, out of fold.
EVERYDAY_ANY = 0.15
EVERYDAY_CRISIS = 0.01
GRID = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))  # 0.05 .. 0.95
# Files the patterns in crisis.yaml were written from: in-sample for the first stage,
# so they are cross-validated but left out of the pool that picks thresholds.
PATTERN_SOURCES = ("crisis.jsonl",)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def journal_sentences(folder: Path = EXAMPLES) -> list[str]:
    """Sentences of the sample journals, as everyday (non-crisis) trust writing: without
    them the classifier saw few ordinary questions and flagged some ("do I push people
    away before they can leave me?"). Sentences the patterns flag are left out."""
    out = []
    for read in read_path(folder):
        for entry in read.entries:
            # Split as the gate splits at run time, so these are the inputs it will see.
            for s in sentences(entry.text):
                if assess(s).level is None:
                    out.append(s)
    return out


def labelled_groups() -> dict[str, list[Example]]:
    """Every labelled file but holdout2, by file: each was written by a different session."""
    groups = {DATASET.name: load_dataset(DATASET), HOLDOUT.name: load_dataset(HOLDOUT)}
    for path in sorted(DATASET.parent.glob(TRAIN_GLOB)):
        groups[path.name] = load_dataset(path)
    return groups


class CachedEmbeddings(Embeddings):
    """Embeds each distinct text once across folds (the model is the slow part).

    With ``path`` (outside the repository; ``TRUSTLENS_EMBED_CACHE``), vectors are also
    kept between runs, keyed by a hash of the text: never the text itself."""

    def __init__(self, inner: Embeddings, path: Path | None = None) -> None:
        self.inner = inner
        self.model_name = str(getattr(inner, "model_name", ""))
        self._cache: dict[str, list[float]] = {}
        self.path = path
        self._disk: dict[str, np.ndarray] = {}
        if path is not None and path.is_file():
            with np.load(path) as z:
                self._disk = {k: z[k] for k in z.files}

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = []
        for t in dict.fromkeys(texts):
            if t in self._cache:
                continue
            hit = self._disk.get(self._key(t))
            if hit is not None:
                self._cache[t] = hit.tolist()
            else:
                missing.append(t)
        if missing:
            vecs = self.inner.embed_documents(missing)
            self._cache.update(zip(missing, vecs, strict=True))
            if self.path is not None:
                pairs = zip(missing, vecs, strict=True)
                self._disk.update({self._key(t): np.asarray(v, np.float32) for t, v in pairs})
        return [self._cache[t] for t in texts]

    def save(self) -> None:
        """Write the vectors to ``path`` (when given) for the next run."""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, **self._disk)  # type: ignore[arg-type]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def training_texts(
    examples: Sequence[Example], everyday: Sequence[str], rules: CrisisRules
) -> tuple[list[str], list[bool], list[list[str]]]:
    """Texts as the gate reads them (normalised sentences, joined), with labels; every
    sentence of a non-crisis text is a negative too. Also the sentences of each
    multi-sentence crisis text, for the second pass of ``fit``."""
    texts: list[str] = []
    labels: list[bool] = []
    spread: list[list[str]] = []
    for e in examples:
        ss = sentences(e.text, rules)
        texts.append(" ".join(ss))
        labels.append(e.crisis)
        if len(ss) > 1:
            if e.crisis:
                spread.append(ss)
            else:
                texts.extend(ss)
                labels.extend([False] * len(ss))
    texts.extend(everyday)
    labels.extend([False] * len(everyday))
    spec = rules.classifier
    if spec is None:
        raise ValueError("crisis.yaml has no classifier section")
    for kind, protos in spec.prototypes.items():
        texts.extend(" ".join(sentences(p, rules)) for p in protos)
        labels.extend([kind != "benign"] * len(protos))
    return texts, labels, spread


def fit(
    texts: list[str], labels: list[bool], spread: list[list[str]], emb: Embeddings, model: str
) -> TrainedClassifier:
    """Both models on ``texts``; then again with, for each multi-sentence crisis text,
    the sentence the first fit finds most alarming added as a crisis example (the
    label belongs to the entry, not to every sentence in it)."""
    first = _fit_once(texts, labels, emb, model)
    extra = []
    for ss in spread:
        p = first.proba(ss, unit_rows(emb.embed_documents(ss)))
        extra.append(ss[int(np.argmax(p))])
    return _fit_once(texts + extra, labels + [True] * len(extra), emb, model)


def _fit_once(
    texts: list[str], labels: list[bool], emb: Embeddings, model: str
) -> TrainedClassifier:
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(labels)
    x = unit_rows(emb.embed_documents(texts))
    lr = LogisticRegression(C=C_EMBEDDING, class_weight="balanced", max_iter=5000).fit(x, y)
    vec = make_vectorizer(NGRAM_MAX, MIN_DF)
    xt = vec.fit_transform(texts)
    tf = LogisticRegression(C=C_TFIDF, class_weight="balanced", max_iter=5000).fit(xt, y)
    return TrainedClassifier(
        model=model,
        emb_weights=lr.coef_[0].astype(np.float32),
        emb_bias=float(lr.intercept_[0]),
        vocabulary={str(t): int(i) for t, i in vec.vocabulary_.items()},
        idf=np.asarray(vec.idf_, dtype=np.float64),
        ngram_max=NGRAM_MAX,
        tfidf_weights=tf.coef_[0].astype(np.float64),
        tfidf_bias=float(tf.intercept_[0]),
        mix=MIX,
        threshold=0.0,  # every unit is scored; thresholds are chosen from these scores
        crisis_threshold=0.0,
        meta={},
        _vec=vec,  # already fitted: proba need not rebuild it from the vocabulary
    )


def rules_with(rules: CrisisRules, trained: TrainedClassifier) -> CrisisRules:
    spec = rules.classifier
    if spec is None:
        raise ValueError("crisis.yaml has no classifier section")
    return dataclasses.replace(rules, classifier=dataclasses.replace(spec, trained=trained))


def cross_validate(
    groups: dict[str, list[Example]], everyday: Sequence[str], emb: Embeddings, rules: CrisisRules
) -> list[tuple[str, Example, Assessment]]:
    """Each file scored by the whole gate trained on all the other files."""
    out: list[tuple[str, Example, Assessment]] = []
    spec = rules.classifier
    if spec is None:
        raise ValueError("crisis.yaml has no classifier section")
    for held in groups:
        rest = [e for g, rows in groups.items() if g != held for e in rows]
        trained = fit(*training_texts(rest, everyday, rules), emb, spec.model)
        fold_rules = rules_with(rules, trained)
        out.extend((held, e, assess(e.text, emb, fold_rules)) for e in groups[held])
    return out


def scores_at(
    cv: Sequence[tuple[str, Example, Assessment]], threshold: float, crisis_threshold: float
) -> dict[str, float | int | None]:
    levels = [(e.crisis, a.level_at(threshold, crisis_threshold)) for _, e, a in cv]
    pos = sum(c for c, _ in levels)
    tp = sum(c and lv == "crisis" for c, lv in levels)
    fp = sum(not c and lv == "crisis" for c, lv in levels)
    any_tp = sum(c and lv is not None for c, lv in levels)
    any_fp = sum(not c and lv is not None for c, lv in levels)
    return {
        "n": len(levels),
        "recall": round(tp / pos, 4) if pos else None,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "any_safety_recall": round(any_tp / pos, 4) if pos else None,
        "any_safety_precision": round(any_tp / (any_tp + any_fp), 4) if any_tp + any_fp else None,
    }


def false_alarms(
    cv: Sequence[tuple[str, Example, Assessment]], threshold: float, crisis_threshold: float
) -> dict[str, float | None]:
    """Share of non-crisis texts given crisis, and given either level."""
    levels = [a.level_at(threshold, crisis_threshold) for _, e, a in cv if not e.crisis]
    if not levels:
        return {"crisis": None, "any": None}
    return {
        "crisis": round(sum(lv == "crisis" for lv in levels) / len(levels), 4),
        "any": round(sum(lv is not None for lv in levels) / len(levels), 4),
    }


def pools(
    cv: Sequence[tuple[str, Example, Assessment]],
) -> tuple[list[tuple[str, Example, Assessment]], list[tuple[str, Example, Assessment]]]:
    """Rows of the files with both classes that the patterns were not written from, and
    rows of the everyday files (no crisis rows at all)."""
    with_crisis = {g for g, e, _ in cv if e.crisis}
    mixed = [r for r in cv if r[0] in with_crisis and r[0] not in PATTERN_SOURCES]
    everyday = [r for r in cv if r[0] not in with_crisis]
    return mixed, everyday


def choose_thresholds(
    cv: Sequence[tuple[str, Example, Assessment]],
    ed_dev: Sequence[tuple[str, Example, Assessment]] = (),
) -> tuple[float, float]:
    """The policy in the module docstring. ``ed_dev``: EmpatheticDialogues dev situations
    scored by the final model, held to the same everyday limits (thresholds only)."""
    mixed, everyday = pools(cv)

    def everyday_ok(t: float, ct: float) -> bool:
        for rows in (everyday, ed_dev):
            fa = false_alarms(rows, t, ct)
            if (fa["any"] or 0.0) > EVERYDAY_ANY or (fa["crisis"] or 0.0) > EVERYDAY_CRISIS:
                return False
        return True

    ok = [t for t in GRID if (scores_at(mixed, t, 2.0)["any_safety_recall"] or 0) >= CONCERN_RECALL]
    threshold = max(ok) if ok else GRID[0]
    while threshold < GRID[-1] and not everyday_ok(threshold, 2.0):
        threshold = round(threshold + 0.01, 2)
    for t in (t for t in GRID if t >= threshold):
        if (scores_at(mixed, threshold, t)["precision"] or 0) >= CRISIS_PRECISION and everyday_ok(
            threshold, t
        ):
            return threshold, t
    return threshold, GRID[-1]


def _ed_dev(emb: Embeddings, rules: CrisisRules) -> list[tuple[str, Example, Assessment]]:
    """EmpatheticDialogues dev, scored by the final model (empty when not on disk)."""
    try:
        rows = everyday_rows("dev")
    except FileNotFoundError:
        return []
    return [("ed-dev", e, assess(e.text, emb, rules)) for e in rows]
