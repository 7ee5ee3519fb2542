"""Train the crisis gate on real posts (issue 13): the v2 and v3 recipes.

The shipped model (``prompts/models/crisis``) comes from ``train`` here: the C-SSRS dev
split's posts and the trust journals, cross-validated in folds, with thresholds chosen
from the out-of-fold curve by the policy written in the comment block above
``CSSRS_FOLDS``. ``cssrs_scores`` replays a shipped model's recipe on the same folds
(``trustlens eval crisis --split cssrs-dev``). The round-3 pieces it builds on (the team's
training files, the linear heads, the embedding cache) are in ``eval.crisis_train``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from eval.crisis_eval import (
    DATASET,
    Example,
    cssrs_report,
    everyday_rows,
    packaged_embeddings,
)
from eval.crisis_train import (
    C_EMBEDDING,
    C_TFIDF,
    GRID,
    MIN_DF,
    CachedEmbeddings,
    false_alarms,
    fit,
    labelled_groups,
    rules_with,
    training_texts,
)
from eval.datasets.cssrs import Post, fold_of
from eval.datasets.cssrs import load_split as load_cssrs
from ingest.readers import read_path
from prompts import asset_path
from service.safety.classifier import ASSET, KernelHead, TrainedClassifier
from service.safety.detector import Assessment, assess, sentences, unit_rows
from service.safety.rules import CrisisRules, load_rules


def _dump(doc: dict[str, Any]) -> str:
    """JSON with what a reviewer reads (settings, figures) indented, and the weights one
    line each, so a retrain's diff shows the figures that moved."""
    big = ("embedding", "tfidf", "crisis_head")
    lines = [
        f"{json.dumps(k)}: {json.dumps(v, indent=None if k in big else 1, ensure_ascii=False)}"
        for k, v in doc.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


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
        fold_rules = rules_with(rules, trained)
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
        "generated_by": "trustlens eval crisis-train (eval/crisis_cssrs.py); do not edit",
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
