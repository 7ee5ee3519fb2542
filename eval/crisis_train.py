"""Train the crisis gate's second stage and choose its thresholds by cross-validation.

``train`` is the v2 recipe (issue 13: real posts, two heads, thresholds from the C-SSRS
cross-validated curve; its policy is the comment block above ``CSSRS_FOLDS`` below).
What follows describes round 3 (v1), whose pieces v2 reuses (``fit``,
``training_texts``, ``journal_sentences``, ``labelled_groups``).

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
import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from eval.crisis_eval import (
    DATASET,
    HOLDOUT,
    TRAIN_GLOB,
    Example,
    cssrs_report,
    everyday_rows,
    load_dataset,
    packaged_embeddings,
)
from eval.datasets.cssrs import Post, fold_of
from eval.datasets.cssrs import load_split as load_cssrs
from ingest.readers import read_path
from prompts import asset_path
from service.safety.classifier import ASSET, KernelHead, TrainedClassifier, make_vectorizer
from service.safety.detector import Assessment, assess, sentences, unit_rows
from service.safety.rules import CrisisRules, load_rules

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


def _with(rules: CrisisRules, trained: TrainedClassifier) -> CrisisRules:
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
        fold_rules = _with(rules, trained)
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


def _dump(doc: dict[str, Any]) -> str:
    """JSON with what a reviewer reads (settings, figures) indented, and the weights one
    line each, so a retrain's diff shows the figures that moved."""
    big = ("embedding", "tfidf", "crisis_head")
    lines = [
        f"{json.dumps(k)}: {json.dumps(v, indent=None if k in big else 1, ensure_ascii=False)}"
        for k, v in doc.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


# ----------------------------------------------------------------- v2: real posts
#
# Policy (v2, issue 13). The only real crisis writing here is the C-SSRS dev split
# (733 forum posts with a human severity level, ``eval/datasets/cssrs.py``), and the
# everyday writing the gate must leave alone is the trust journals (``examples/`` and
# ``eval/datasets/journals/dev``). Both are cross-validated in ``CSSRS_FOLDS`` folds:
# posts by the hash in their id, journals whole (the i-th journal by name goes to fold
# i mod ``CSSRS_FOLDS``), so a journal's entries are always read by a model that saw no
# entry of that journal. EmpatheticDialogues dev is cut into the same folds by row and is
# read only, never trained on: its licence is non-commercial and the weights ship with
# the package. Each fold's model is trained on every team file, the other folds' posts
# and the other folds' journal entries; the whole gate (patterns first, as at run time)
# reads the fold left out. Labels:
#
# - concern head: C-SSRS level >= 1 (a wish to be dead or more) and the team's crisis
#   rows are positive; level 0 posts, the team's other rows and journal entries (each
#   entry whole and each of its sentences, the units the gate reads) are not;
#   The concern head reads the whole text (``CONCERN_WHOLE``): its sentences together,
#   not each alone; the crisis head still reads every sentence and the whole.
# - crisis head, from level ``crisis_from``: posts at that level or more and the team's
#   crisis rows are positive, negatives as above, the levels in between left out. With
#   ``crisis_from`` 4 it asks "intent, a plan or an attempt?"; with 1 there is no second
#   head and the concern head's probability is read against a higher threshold. The
#   acceptance bounds crisis on level 0 only, so "any suicidal content" may be the
#   better crisis question; both are tried (``CRISIS_FROM_CHOICES``) and the one with the
#   higher out-of-fold level >= 4 crisis recall at its own thresholds is kept (ties: the
#   higher level >= 2 resources recall).
#
# Thresholds come from the out-of-fold curve, each with a margin under its target (the
# kept-apart split is measured against the targets, and a fold estimate is noisy):
# - ``crisis_threshold``: the lowest whose level-0 posts get crisis at most
#   ``LEVEL0_CRISIS_MAX``, EmpatheticDialogues dev at most ``ED_CRISIS_MAX`` and no
#   journal entry gets it from the classifier (the lowest such value finds the most
#   level >= 4 posts; a crisis the patterns give is reported, no threshold removes it);
# - ``threshold`` (resources beside the answer): the lowest whose EmpatheticDialogues
#   dev gets any level at most ``ED_ANY_MAX`` and no journal more than
#   ``JOURNAL_CONCERN_MAX`` concern entries. A notice on every other entry of a
#   journal teaches its writer to ignore notices, so this bound is the one that costs
#   level >= 2 recall; the trade-off is written out (``curve``) for a reader to see.
# Every figure at the chosen thresholds is written to ``training.json`` and to
# ``eval/results/crisis-train-*.json``.

CSSRS_FOLDS = 5
# Concern from the whole text only (crisis still from any sentence). Out of fold, at the
# journal bound, the one-per-sentence reading showed resources on 0.852 of level >= 2
# posts and the whole-text reading on 0.898 (exploration on 2026-12-01, mix 0.5).
CONCERN_WHOLE = True
CRISIS_FROM_CHOICES = (4, 1)
# Margins (v2 model, 2026-12-02): one point under each false-alarm target for level 0
# (about 2.3 points is one standard error on the kept-apart split's level-0 posts) and
# half a point for everyday writing (one standard error on EmpatheticDialogues test).
# With rules v4 the patterns alone put 8 EmpatheticDialogues dev texts into crisis, the
# whole 0.3% budget, so the crisis head could add nothing below 0.995; rules v5 fixed
# five of those (a phone "going to die", a car that "almost hit me", ...) and the same
# recipe then gives crisis to 0.70 of level >= 4 posts instead of 0.45.
LEVEL0_CRISIS_MAX = 0.09  # target <= 0.10
ED_CRISIS_MAX = 0.003  # target <= 0.005
ED_ANY_MAX = 0.045  # target <= 0.05
JOURNAL_CONCERN_MAX = 1  # entries per journal (the target), out of fold
# Crisis sits near the top of the probability scale on real posts, so its grid goes on
# past 0.95 in finer steps (a level-0 post at 0.97 is common).
CRISIS_GRID = GRID + tuple(round(0.955 + 0.005 * i, 3) for i in range(9)) + (0.998, 0.999)
EMBED_CACHE = os.environ.get("TRUSTLENS_EMBED_CACHE")
# v3 (2026-12-03): the concern head is an RBF-kernel SVM over the whole text's embedding
# (``KernelHead``), trained on posts at level >= 1 and the team's crisis rows against the
# team's other rows and the journal entries; level 0 posts are left out of it (forum
# posts by people in distress, often about someone else: neither side's example). Out of
# fold at the same everyday bounds, in throw-away exploration on 2026-12-02, level >= 2
# resources went 0.904 (linear mix, level 0 as negatives) -> 0.917 (level 0 left out)
# -> 0.930 / 0.938 (kernel, C 2 / C 4); as built here (C 4, questions as below) 0.930
# without and 0.943 with the questions as negatives (eval/results/crisis-train-20261203*).
CONCERN_KERNEL = True
KERNEL_C = 4.0
KERNEL_FILE = "concern_kernel.npz"
# v3: questions get concern from the concern threshold (see ``Scored.level``); the
# journals' own questions to trustlens bound it: at most ``QUESTION_CONCERN_MAX`` of
# them, out of fold, may be given concern. Alone this gave 6-10 of 776 everyday questions
# concern ("am i actually getting any better at dealing with it when people let me
# down?") at the thresholds it allowed; with those questions as negatives of the kernel
# head (``QUESTIONS_AS_NEGATIVES``, each journal's questions in its journal's fold) it
# gives 2 of 776 and level >= 2 resources 0.943, against 0.927 with questions kept to
# the crisis threshold (exploration, 2026-12-03).
QUESTION_CONCERN = True
QUESTION_CONCERN_MAX = 0.01
QUESTIONS_AS_NEGATIVES = True


def journal_groups() -> dict[str, list[Example]]:
    """Every entry of the sample and dev journals as a non-crisis row, by journal: the
    everyday trust writing the gate kept flagging ("I keep wondering if I am too much for
    people"). Only ids travel into results, never text."""
    from eval.crisis_eval import JOURNAL_DIRS

    out: dict[str, list[Example]] = {}
    for root in JOURNAL_DIRS:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            source = folder / "journal.jsonl"  # a dev journal's folder holds its labels too
            entries = [
                e for r in read_path(source if source.is_file() else folder) for e in r.entries
            ]
            out[folder.name] = [
                Example(f"{folder.name}:{e.id}", e.text, False, "none", False, "journal", 0)
                for e in entries
            ]
    return out


def journal_questions() -> dict[str, list[str]]:
    """The questions asked of each sample and dev journal (``questions.json`` beside it,
    and ``journal_dev.json`` under the name ``journal_dev``): everyday questions to
    trustlens that bound how easily a question is given concern."""
    from eval.crisis_eval import JOURNAL_DIRS

    out: dict[str, list[str]] = {}
    for root in JOURNAL_DIRS:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            qfile = folder / "questions.json"
            if qfile.is_file():
                doc = json.loads(qfile.read_text(encoding="utf-8"))
                out[folder.name] = [str(q["question"]) for q in doc["questions"]]
    dev = json.loads((DATASET.parent / "journal_dev.json").read_text(encoding="utf-8"))
    out["journal_dev"] = [str(q["question"]) for q in dev["questions"]]
    return out


def question_rows(asked: dict[str, list[str]]) -> dict[str, list[Example]]:
    return {
        name: [
            Example(f"{name}:q{i}", q, False, "none", False, "journal-question", 0)
            for i, q in enumerate(qs)
        ]
        for name, qs in asked.items()
    }


def journal_fold(names: Sequence[str], folds: int) -> dict[str, int]:
    return {name: i % folds for i, name in enumerate(sorted(names))}


def _post_rows(posts: Sequence[Post], label: Callable[[Post], bool | None]) -> list[Example]:
    out = []
    for p in posts:
        y = label(p)
        if y is not None:
            out.append(Example(p.id, p.text, y, "suicidal" if y else "none", False, "cssrs", 0))
    return out


def fit_v2(
    team: Sequence[Example],
    posts: Sequence[Post],
    journals: Sequence[Example],
    emb: Embeddings,
    rules: CrisisRules,
    model: str,
    crisis_from: int,
    kernel: bool = CONCERN_KERNEL,
    question_concern: bool = QUESTION_CONCERN,
    questions: Sequence[Example] = (),
) -> TrainedClassifier:
    """The heads (policy above) on one training set; ``kernel`` and ``question_concern``
    False give the v2 recipe (to replay a v2 model's figures). ``questions`` (the
    journals' questions, non-crisis) are negatives of the kernel concern head only."""
    if kernel:
        rows = [*team, *_post_rows(posts, lambda p: True if p.severity >= 1 else None)]
        concern = fit_kernel([*rows, *journals, *questions], emb, rules, model)
    else:
        concern_rows = [*team, *_post_rows(posts, lambda p: p.concern), *journals]
        concern = fit(*training_texts(concern_rows, (), rules), emb, model)
    concern = dataclasses.replace(
        concern, concern_whole=CONCERN_WHOLE, question_concern=question_concern
    )
    if crisis_from <= 1:
        return concern  # one head: its probability against both thresholds

    def crisis_label(p: Post) -> bool | None:
        return True if p.severity >= crisis_from else False if p.severity == 0 else None

    crisis_rows = [*team, *_post_rows(posts, crisis_label), *journals]
    crisis = fit(*training_texts(crisis_rows, (), rules), emb, model)
    return dataclasses.replace(concern, crisis_head=crisis)


def fit_kernel(
    rows: Sequence[Example], emb: Embeddings, rules: CrisisRules, model: str
) -> TrainedClassifier:
    """The v3 concern head: an RBF SVM on each row's whole text as the gate reads it
    (normalised sentences, joined), labelled by the row's crisis flag."""
    from sklearn.svm import SVC

    texts = [" ".join(sentences(e.text, rules)) for e in rows]
    x = unit_rows(emb.embed_documents(texts))
    y = np.asarray([e.crisis for e in rows])
    svm = SVC(C=KERNEL_C, kernel="rbf", gamma="scale", class_weight="balanced").fit(x, y)
    # positive decision = classes_[1] = True; dual_coef_ carries that sign already
    head = KernelHead(
        support=np.asarray(svm.support_vectors_, dtype=np.float32),
        coef=np.asarray(svm.dual_coef_[0], dtype=np.float32),
        bias=float(svm.intercept_[0]),
        gamma=float(svm._gamma),
    )
    check = x[: min(len(x), 64)]
    if not np.allclose(head.decision(check), svm.decision_function(check), atol=1e-3):
        raise AssertionError("the stored kernel head does not reproduce the SVM")
    return TrainedClassifier.kernel_only(
        head, model=model, threshold=0.0, crisis_threshold=0.0, meta={}
    )


@dataclasses.dataclass
class OutOfFold:
    """Every post, EmpatheticDialogues dev situation and journal entry, as the whole gate
    read it with a model that never saw it (thresholds are replayed with ``level_at``)."""

    posts: list[tuple[Post, Assessment]]
    ed: list[tuple[str, Example, Assessment]]
    journals: list[tuple[str, str, Assessment]]  # journal, entry id, assessment
    questions: list[tuple[str, Assessment]] = dataclasses.field(default_factory=list)


def cssrs_cross_validate(
    emb: Embeddings,
    rules: CrisisRules,
    crisis_from: int,
    folds: int = CSSRS_FOLDS,
    kernel: bool = CONCERN_KERNEL,
    question_concern: bool = QUESTION_CONCERN,
) -> OutOfFold:
    spec = rules.classifier
    if spec is None:
        raise ValueError("crisis.yaml has no classifier section")
    team = [e for rows in labelled_groups().values() for e in rows]
    posts = load_cssrs("dev")
    ed = everyday_rows("dev")
    journals = journal_groups()
    jfold = journal_fold(list(journals), folds)
    asked = journal_questions()
    asked_rows = question_rows(asked)
    oof = OutOfFold([], [], [])
    for k in range(folds):
        trained = fit_v2(
            team,
            [p for p in posts if fold_of(p.id, folds) != k],
            [e for name, rows in journals.items() if jfold[name] != k for e in rows],
            emb,
            rules,
            spec.model,
            crisis_from,
            kernel,
            question_concern,
            [q for name, qs in asked_rows.items() if jfold.get(name, 0) != k for q in qs]
            if QUESTIONS_AS_NEGATIVES
            else (),
        )
        fold_rules = _with(rules, trained)
        oof.posts += [
            (p, assess(p.text, emb, fold_rules)) for p in posts if fold_of(p.id, folds) == k
        ]
        oof.ed += [
            ("ed-dev", e, assess(e.text, emb, fold_rules))
            for i, e in enumerate(ed)
            if i % folds == k
        ]
        oof.journals += [
            (name, e.id, assess(e.text, emb, fold_rules))
            for name, rows in journals.items()
            if jfold[name] == k
            for e in rows
        ]
        oof.questions += [
            (name, assess(q, emb, fold_rules))
            for name, qs in asked.items()
            if jfold.get(name, 0) == k
            for q in qs
        ]
    return oof


def cssrs_levels(
    posts: Sequence[tuple[Post, Assessment]], threshold: float, crisis_threshold: float
) -> list[tuple[int, str | None]]:
    return [(p.severity, a.level_at(threshold, crisis_threshold)) for p, a in posts]


def journal_counts(
    oof: OutOfFold, threshold: float, crisis_threshold: float
) -> dict[str, dict[str, int]]:
    """Entries per journal given concern and crisis (out of fold)."""
    out: dict[str, dict[str, int]] = {}
    for name, _, a in oof.journals:
        c = out.setdefault(name, {"entries": 0, "concern": 0, "crisis": 0})
        level = a.level_at(threshold, crisis_threshold)
        c["entries"] += 1
        if level is not None:
            c[level] += 1
    return out


def figures(oof: OutOfFold, threshold: float, crisis_threshold: float) -> dict[str, Any]:
    """The cross-validated figures at one pair of thresholds (ids and counts, no text)."""
    per = journal_counts(oof, threshold, crisis_threshold)
    qlevels = [a.level_at(threshold, crisis_threshold) for _, a in oof.questions]
    return {
        "threshold": threshold,
        "crisis_threshold": crisis_threshold,
        "journal_questions": {
            "n": len(qlevels),
            "crisis": qlevels.count("crisis"),
            "concern": qlevels.count("concern"),
        },
        "cssrs_dev": cssrs_report(cssrs_levels(oof.posts, threshold, crisis_threshold)),
        "ed_dev_false_alarms": false_alarms(oof.ed, threshold, crisis_threshold),
        "journals": {
            "max_concern_entries": max((c["concern"] for c in per.values()), default=0),
            "crisis_entries": sum(c["crisis"] for c in per.values()),
            "crisis_entries_from_patterns": sorted(
                i for _, i, a in oof.journals if a.level_at(2.0, 2.0) == "crisis"
            ),
            "per_journal": per,
        },
    }


def choose_thresholds_v2(oof: OutOfFold) -> tuple[float, float]:
    """The v2 policy above, on the out-of-fold assessments."""
    level0 = [a for p, a in oof.posts if p.severity == 0]

    def crisis_ok(ct: float) -> bool:
        l0 = sum(a.level_at(2.0, ct) == "crisis" for a in level0) / max(len(level0), 1)
        return (
            l0 <= LEVEL0_CRISIS_MAX
            and (false_alarms(oof.ed, 2.0, ct)["crisis"] or 0) <= ED_CRISIS_MAX
            # a crisis the patterns give is no threshold's doing (reported apart)
            and not any(
                a.level_at(2.0, ct) == "crisis" != a.level_at(2.0, 2.0) for _, _, a in oof.journals
            )
        )

    def concern_ok(t: float, ct: float) -> bool:
        per = journal_counts(oof, t, ct)
        asked = [a.level_at(t, ct) for _, a in oof.questions]
        return (
            (false_alarms(oof.ed, t, ct)["any"] or 0) <= ED_ANY_MAX
            and all(c["concern"] <= JOURNAL_CONCERN_MAX for c in per.values())
            and sum(lv is not None for lv in asked) <= QUESTION_CONCERN_MAX * max(len(asked), 1)
        )

    crisis_threshold = next((t for t in CRISIS_GRID if crisis_ok(t)), CRISIS_GRID[-1])
    threshold = next((t for t in GRID if concern_ok(t, crisis_threshold)), GRID[-1])
    return threshold, crisis_threshold


def curve(oof: OutOfFold, crisis_threshold: float) -> list[dict[str, Any]]:
    """Level >= 2 recall against the everyday bounds along the concern threshold, at the
    chosen crisis threshold: what each notch of the journal bound costs."""
    rows = []
    for t in GRID[::5]:
        f = figures(oof, t, crisis_threshold)
        rows.append(
            {
                "threshold": t,
                "level2_resources_recall": f["cssrs_dev"]["level2_resources_recall"],
                "level1_3_resources_recall": f["cssrs_dev"]["level1_3_resources_recall"],
                "ed_dev_any": f["ed_dev_false_alarms"]["any"],
                "journal_max_concern_entries": f["journals"]["max_concern_entries"],
                "journal_concern_entries": sum(
                    c["concern"] for c in f["journals"]["per_journal"].values()
                ),
            }
        )
    return rows


def _better(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether figures ``a`` beat ``b``: level >= 4 crisis recall, then level >= 2."""
    ka = (a["cssrs_dev"]["level4_crisis_recall"], a["cssrs_dev"]["level2_resources_recall"])
    kb = (b["cssrs_dev"]["level4_crisis_recall"], b["cssrs_dev"]["level2_resources_recall"])
    return bool(ka > kb)


def train(out: Path | None = None, version: str | None = None) -> dict[str, Any]:
    """Cross-validate each crisis head on the real posts and the journals, choose
    thresholds, keep the better head, fit on everything and write ``classifier.json``
    and ``training.json`` into ``out`` (a folder; default: the latest
    ``prompts/models/crisis`` version). Returns every cross-validated figure."""
    rules = load_rules(version)
    spec = rules.classifier
    if spec is None:
        raise ValueError("crisis.yaml has no classifier section")
    emb = CachedEmbeddings(packaged_embeddings(), Path(EMBED_CACHE) if EMBED_CACHE else None)
    tried: dict[str, Any] = {}
    best: tuple[int, dict[str, Any]] | None = None
    for crisis_from in CRISIS_FROM_CHOICES:
        oof = cssrs_cross_validate(emb, rules, crisis_from)
        emb.save()
        t, ct = choose_thresholds_v2(oof)
        fig = figures(oof, t, ct)
        tried[f"crisis_from_{crisis_from}"] = fig | {"curve": curve(oof, ct)}
        if best is None or _better(fig, best[1]):
            best = (crisis_from, fig)
    assert best is not None
    crisis_from, chosen = best
    groups = labelled_groups()
    team = [e for rows in groups.values() for e in rows]
    journals = journal_groups()
    all_posts = load_cssrs("dev")
    entries = [e for rows in journals.values() for e in rows]
    questions = [q for qs in question_rows(journal_questions()).values() for q in qs]
    trained = fit_v2(
        team,
        all_posts,
        entries,
        emb,
        rules,
        spec.model,
        crisis_from,
        questions=questions if QUESTIONS_AS_NEGATIVES else (),
    )
    emb.save()
    cv_report = {k: chosen[k] for k in ("cssrs_dev", "ed_dev_false_alarms", "journals")}
    meta = {
        "generated_by": "trustlens eval crisis-train (eval/crisis_train.py); do not edit",
        "trained": dt.date.today().isoformat(),
        "trained_on": {g: len(rows) for g, rows in groups.items()}
        | {
            "cssrs/dev.jsonl (C-SSRS posts, CC BY 4.0, arXiv:2505.13480)": len(all_posts),
            "journal entries (examples/, eval/datasets/journals/dev; non-crisis)": len(entries),
            "their questions (questions.json, journal_dev.json; concern head negatives)": (
                len(questions) if QUESTIONS_AS_NEGATIVES else 0
            ),
            "crisis.yaml prototypes": sum(len(p) for p in spec.prototypes.values()),
        },
        "labels": {
            "concern_head": (
                f"RBF SVM (C {KERNEL_C}) on whole texts: C-SSRS level >= 1 and team crisis "
                "rows vs team non-crisis rows, journal entries and the journals' questions; "
                "level 0 left out"
                if CONCERN_KERNEL
                else "C-SSRS level >= 1 and team crisis rows vs level 0, team "
                "non-crisis rows, journal entries and their sentences"
            ),
            "crisis_head": (
                f"C-SSRS level >= {crisis_from} and team crisis rows vs the same negatives; "
                f"levels 1-{crisis_from - 1} left out"
                if crisis_from > 1
                else "none: the concern head's probability from crisis_threshold"
            ),
        },
        "crisis_from": crisis_from,
        "concern_units": "whole" if CONCERN_WHOLE else "each",
        "cssrs_folds": CSSRS_FOLDS,
        "settings": {
            "C_embedding": C_EMBEDDING,
            "C_tfidf": C_TFIDF,
            "min_df": MIN_DF,
            "level0_crisis_max": LEVEL0_CRISIS_MAX,
            "ed_crisis_max": ED_CRISIS_MAX,
            "ed_any_max": ED_ANY_MAX,
            "journal_concern_max": JOURNAL_CONCERN_MAX,
            "question_concern_max": QUESTION_CONCERN_MAX,
        },
        "cross_validation": cv_report,
    }
    trained = dataclasses.replace(
        trained,
        threshold=chosen["threshold"],
        crisis_threshold=chosen["crisis_threshold"],
        meta=meta,
    )
    folder = out or Path(str(asset_path(ASSET, "classifier.json"))).parent
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "classifier.json"
    kernel_file = KERNEL_FILE if trained.kernel is not None else ""
    if trained.kernel is not None:
        np.savez_compressed(folder / KERNEL_FILE, **trained.kernel.arrays())  # type: ignore[arg-type]
    path.write_text(_dump(trained.to_json(kernel_file)), encoding="utf-8")
    training = {
        k: v
        for k, v in trained.to_json(kernel_file).items()
        if k not in ("embedding", "tfidf", "mix", "crisis_head")
    }
    (folder / "training.json").write_text(json.dumps(training, indent=1) + "\n", encoding="utf-8")
    return {"path": str(path), "crisis_from": crisis_from, "chosen": chosen, "tried": tried}


def cssrs_scores(embeddings: Embeddings | None = None) -> dict[str, Any]:
    """The gate on the C-SSRS dev posts: cross-validated (``CSSRS_FOLDS`` folds, the
    shipped recipe and thresholds) when the shipped model was trained on them, else read
    directly (a model that never saw them). Ids and levels only, never text."""
    rules = load_rules()
    trained = rules.classifier.trained if rules.classifier else None
    folds = int(trained.meta.get("cssrs_folds") or 0) if trained else 0
    if embeddings is None:
        embeddings = packaged_embeddings()
    extra: dict[str, Any] = {}
    if folds and trained is not None:
        emb = CachedEmbeddings(embeddings, Path(EMBED_CACHE) if EMBED_CACHE else None)
        crisis_from = int(trained.meta.get("crisis_from") or 4)
        recipe = (trained.kernel is not None, trained.question_concern)
        oof = cssrs_cross_validate(emb, rules, crisis_from, folds, *recipe)
        emb.save()
        t, ct = trained.threshold, trained.crisis_threshold
        levels = cssrs_levels(oof.posts, t, ct)
        ids = [(p.id, lv) for (p, _), (_, lv) in zip(oof.posts, levels, strict=True)]
        how = f"cross-validated, {folds} folds by id hash; shipped recipe and thresholds"
        fig = figures(oof, t, ct)
        extra = {
            "ed_dev_out_of_fold_false_alarms": fig["ed_dev_false_alarms"],
            "journals_out_of_fold": fig["journals"],
        }
    else:
        got = [(p, assess(p.text, embeddings, rules).level) for p in load_cssrs("dev")]
        levels = [(p.severity, lv) for p, lv in got]
        ids = [(p.id, lv) for p, lv in got]
        how = "direct: the shipped model never saw these posts"
    report = cssrs_report(levels)
    return {
        "summary": {k: v for k, v in report.items() if k != "by_level"} | {"how": how},
        "by_level": report["by_level"],
        **extra,
        "levels": {i: lv for i, lv in ids},
    }
