"""Crisis-language detection on the labelled set ``eval/datasets/crisis.jsonl``.

Each row is a short first-person text labelled crisis or not, with its kind
(suicidal, self_harm, danger, none), whether it is a hard negative (idiom, hyperbole,
negation, the past, someone else), its split (``dev`` for tuning, ``test`` held out) and
the batch it was written in (see README "Crisis safety"). ``crisis_holdout.jsonl``
(split ``holdout``, batch 5) was written and committed before the second round of tuning,
which used all of ``crisis.jsonl`` (dev and test), and is measured once. A text counts as
detected when the gate says ``crisis`` (the level that replaces an answer); ``concern``
is reported beside it. Missing a crisis is the costly error, so recall comes first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from eval.metrics.classification import Confusion, confusion
from prompts import chosen_version
from service.safety.classifier import ASSET
from service.safety.detector import assess
from service.safety.rules import load_rules

DATASET = Path(__file__).parent / "datasets" / "crisis.jsonl"
HOLDOUT = Path(__file__).parent / "datasets" / "crisis_holdout.jsonl"
# Written by a separate session that never saw the gate, committed before round 3.
HOLDOUT2 = Path(__file__).parent / "datasets" / "crisis_holdout2.jsonl"
HOLDOUTS = {"holdout": HOLDOUT, "holdout2": HOLDOUT2}
# Round 3 training rows (split "train"), one file per writer; never evaluated on.
TRAIN_GLOB = "crisis_train_*.jsonl"
# EmpatheticDialogues situations: everyday first-person writing by crowd workers, none of
# it written as crisis; measured for false alarms only, never trained on (licence).
EVERYDAY = {"ed-dev": "dev", "ed-test": "test"}
SPLITS = ("dev", "test", "holdout", "holdout2", "train", *EVERYDAY)
KINDS = ("suicidal", "self_harm", "danger", "none")


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    crisis: bool
    kind: str
    hard_negative: bool
    split: str
    batch: int


def load_dataset(path: Path = DATASET) -> list[Example]:
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        if r["kind"] not in KINDS or r["split"] not in SPLITS:
            raise ValueError(f"{path.name}:{n}: bad kind or split")
        if bool(r["crisis"]) != (r["kind"] != "none"):
            raise ValueError(f"{path.name}:{n}: crisis and kind disagree")
        rows.append(
            Example(
                id=str(r["id"]),
                text=str(r["text"]),
                crisis=bool(r["crisis"]),
                kind=str(r["kind"]),
                hard_negative=bool(r["hard_negative"]),
                split=str(r["split"]),
                batch=int(r.get("batch", 1)),
            )
        )
    return rows


def train_rows() -> list[Example]:
    """The round-3 training rows, from every ``crisis_train_*.jsonl``."""
    rows: list[Example] = []
    for path in sorted(DATASET.parent.glob(TRAIN_GLOB)):
        rows.extend(load_dataset(path))
    return rows


def everyday_rows(ed_split: str) -> list[Example]:
    """EmpatheticDialogues situations as non-crisis rows (a handful mention someone
    else's or a past crisis, which the gate may fairly call ``concern``)."""
    from eval.datasets.empathetic import load_split as load_ed

    return [
        Example(f"ed-{ed_split}-{s.row}", s.text, False, "none", False, f"ed-{ed_split}", 0)
        for s in load_ed(ed_split)
    ]


def load_split(split: str | None) -> list[Example]:
    """The rows of ``split``: ``holdout`` from its own file, ``dev``/``test`` from
    ``crisis.jsonl``; ``None`` or ``"all"``: every row of ``crisis.jsonl`` (not the holdout)."""
    if split in EVERYDAY:
        return everyday_rows(EVERYDAY[split])
    if split in HOLDOUTS:
        return load_dataset(HOLDOUTS[split])
    if split == "train":
        return train_rows()
    return [e for e in load_dataset() if split in (None, "all") or e.split == split]


def _scores(c: Confusion) -> dict[str, Any]:
    return {
        "n": c.n,
        "recall": _round(c.recall),
        "precision": _round(c.precision),
        "f1": _round(c.f1),
        "tp": c.tp,
        "fp": c.fp,
        "fn": c.fn,
        "tn": c.tn,
    }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def evaluate(examples: Sequence[Example], embeddings: Embeddings | None = None) -> dict[str, Any]:
    """Scores overall, by kind, by batch and on the hard negatives, with every error."""
    rows: list[dict[str, Any]] = []
    for ex in examples:
        a = assess(ex.text, embeddings)
        rows.append(
            {
                "id": ex.id,
                "crisis": ex.crisis,
                "kind": ex.kind,
                "hard_negative": ex.hard_negative,
                "batch": ex.batch,
                "level": a.level,
                "rules": [h.rule for h in a.hits],
                "text": ex.text,
            }
        )

    def conf(sub: list[dict[str, Any]]) -> Confusion:
        return confusion((r["crisis"], r["level"] == "crisis") for r in sub)

    summary = _scores(conf(rows))
    shown = confusion((r["crisis"], r["level"] is not None) for r in rows)
    summary["any_safety_recall"] = _round(shown.recall)  # crisis or concern: resources shown
    summary["any_safety_precision"] = _round(shown.precision)
    summary["crisis_examples"] = sum(r["crisis"] for r in rows)
    summary["concern_on_non_crisis"] = sum(
        1 for r in rows if not r["crisis"] and r["level"] == "concern"
    )
    negatives = [r for r in rows if not r["crisis"]]
    if negatives:  # false alarms per non-crisis text: the figure that matters on ED
        summary["false_alarm_rate_crisis"] = _round(
            sum(r["level"] == "crisis" for r in negatives) / len(negatives)
        )
        summary["false_alarm_rate_any"] = _round(
            sum(r["level"] is not None for r in negatives) / len(negatives)
        )
    hard = [r for r in rows if r["hard_negative"]]
    summary["hard_negatives"] = len(hard)
    summary["hard_negatives_flagged_crisis"] = sum(r["level"] == "crisis" for r in hard)
    by_kind = {k: _scores(conf([r for r in rows if r["kind"] == k])) for k in KINDS if k != "none"}
    batches = sorted({r["batch"] for r in rows})
    by_batch = {str(b): _scores(conf([r for r in rows if r["batch"] == b])) for b in batches}
    return {
        "summary": summary,
        "by_kind": {k: {"n": v["n"], "recall": v["recall"]} for k, v in by_kind.items()},
        "by_batch": by_batch,
        "false_negatives": [_err(r) for r in rows if r["crisis"] and r["level"] != "crisis"],
        "false_positives": [_err(r) for r in rows if not r["crisis"] and r["level"] == "crisis"],
    }


def _err(r: dict[str, Any]) -> dict[str, Any]:
    # Our sets are written for them (fictional), so their texts may be shown here;
    # EmpatheticDialogues stays in ../shared (its id names the CSV row).
    keys = ("id", "kind", "level", "rules") + (() if r["id"].startswith("ed-") else ("text",))
    return {k: r[k] for k in keys}


def packaged_embeddings() -> Embeddings:
    """The model the classifier stage is trained for (the service's default)."""
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import packaged_model_path

    return SentenceTransformerEmbeddings(packaged_model_path())


def crisis_scores(
    split: str | None = None, embeddings: Embeddings | None = None, rules_only: bool = False
) -> dict[str, Any]:
    """``{"recall", "precision", "f1", "n", "tp", "fp", "fn", "tn", ...}`` on ``split``
    (``None``: all rows), as the service runs the gate: patterns plus the classifier
    stage on the packaged model (loaded here unless ``embeddings`` is given), or the
    patterns alone with ``rules_only``."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or None, not {split!r}")
    examples = load_split(split)
    if not rules_only and embeddings is None:
        embeddings = packaged_embeddings()
    result = evaluate(examples, None if rules_only else embeddings)
    return {**result["summary"], "split": split or "all", "stage": _stage(rules_only)}


def _stage(rules_only: bool) -> str:
    return "patterns" if rules_only else "patterns+classifier"


def config(split: str | None, rules_only: bool) -> dict[str, Any]:
    rules = load_rules()
    clf = rules.classifier
    root = DATASET.parent.parent.parent
    if split in EVERYDAY:
        dataset = f"../shared/data/empathetic_dialogues/{EVERYDAY[split]}.csv"
    elif split == "train":
        dataset = f"eval/datasets/{TRAIN_GLOB}"
    else:
        dataset = str(HOLDOUTS.get(split or "", DATASET).relative_to(root))
    return {
        "dataset": dataset,
        "split": split or "all",
        "rules": f"prompts/safety/v{rules.version}/crisis.yaml",
        "stage": _stage(rules_only),
        "classifier": None
        if rules_only or clf is None
        else {
            "model": clf.model,
            "threshold": clf.threshold,
            "crisis_threshold": clf.crisis_threshold,
            # the model's own folder (it was misreported as the rules' folder until v3)
            "weights": f"prompts/{ASSET}/{chosen_version(ASSET)}/",
            "concern_head": "kernel" if clf.trained and clf.trained.kernel else "linear",
        },
        "positive": "level == crisis",
    }


# ------------------------------------------------------------ real posts (C-SSRS)

CSSRS_SPLITS = ("cssrs-dev",)
JOURNALS_SPLIT = "journals"
JOURNAL_DIRS = (
    DATASET.parent.parent.parent / "examples",
    DATASET.parent / "journals" / "dev",
)


def cssrs_report(levels: Sequence[tuple[int, str | None]]) -> dict[str, Any]:
    """Recall by C-SSRS level and false alarms from ``(severity, gate level)`` pairs:
    the targets of issue 13 (resources for level >= 2, crisis for level >= 4, few crises
    on level 0), with the shares per level so a reader sees where the misses are."""

    def share(rows: list[str | None], want: tuple[str, ...]) -> float | None:
        return round(sum(r in want for r in rows) / len(rows), 4) if rows else None

    by_level: dict[str, Any] = {}
    for lv in sorted({s for s, _ in levels}):
        rows = [g for s, g in levels if s == lv]
        by_level[str(lv)] = {
            "n": len(rows),
            "resources_shown": share(rows, ("concern", "crisis")),
            "crisis": share(rows, ("crisis",)),
        }

    def at_least(n: int) -> list[str | None]:
        return [g for s, g in levels if s >= n]

    def below(n: int) -> list[str | None]:
        return [g for s, g in levels if s < n]

    shown2 = sum(g is not None for g in at_least(2))
    crisis4 = sum(g == "crisis" for g in at_least(4))
    all_shown = sum(g is not None for _, g in levels)
    all_crisis = sum(g == "crisis" for _, g in levels)
    return {
        "n": len(levels),
        "level2_resources_recall": share(at_least(2), ("concern", "crisis")),
        "level2_resources_precision": round(shown2 / all_shown, 4) if all_shown else None,
        "level4_crisis_recall": share(at_least(4), ("crisis",)),
        "level4_crisis_precision": round(crisis4 / all_crisis, 4) if all_crisis else None,
        "level1_3_resources_recall": share(
            [g for s, g in levels if 1 <= s <= 3], ("concern", "crisis")
        ),
        "level0_crisis": share(below(1), ("crisis",)),
        "level0_any": share(below(1), ("concern", "crisis")),
        "by_level": by_level,
    }


def journal_report(embeddings: Embeddings | None) -> dict[str, Any]:
    """The sample journals (``examples/``), the dev journals and their questions, and
    ``journal_dev.json``: everyday trust writing. Per journal: entries given crisis and
    concern (targets: none, and at most one). Ids only, never text."""
    from ingest.readers import read_path

    journals: dict[str, Any] = {}
    for root in JOURNAL_DIRS:
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            # a dev journal's folder also holds WRITER.md and its labels: read the journal
            source = folder / "journal.jsonl"
            src = source if source.is_file() else folder
            entries = [e for read in read_path(src) for e in read.entries]
            levels = {str(e.id): assess(e.text, embeddings).level for e in entries}
            qfile = folder / "questions.json"
            questions = (
                [q["question"] for q in json.loads(qfile.read_text())["questions"]]
                if qfile.is_file()
                else []
            )
            qlevels = [assess(q, embeddings).level for q in questions]
            journals[folder.name] = {
                "entries": len(entries),
                "entries_crisis": sorted(i for i, lv in levels.items() if lv == "crisis"),
                "entries_concern": sorted(i for i, lv in levels.items() if lv == "concern"),
                "questions": len(questions),
                "questions_crisis": qlevels.count("crisis"),
                "questions_concern": qlevels.count("concern"),
            }
    dev = json.loads((DATASET.parent / "journal_dev.json").read_text())
    qlevels = [assess(q["question"], embeddings).level for q in dev["questions"]]
    summary = {
        "crisis": sum(len(j["entries_crisis"]) + j["questions_crisis"] for j in journals.values())
        + qlevels.count("crisis"),
        "max_concern_entries_per_journal": max(
            len(j["entries_concern"]) for j in journals.values()
        ),
        "question_concerns": sum(j["questions_concern"] for j in journals.values())
        + qlevels.count("concern"),
    }
    return {
        "summary": summary,
        "journals": journals,
        "journal_dev_questions": {
            "n": len(qlevels),
            "crisis": qlevels.count("crisis"),
            "concern": qlevels.count("concern"),
        },
    }
