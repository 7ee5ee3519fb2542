"""Evaluate the service on a corpus of labelled journals (``eval/datasets/journals/<split>/``).

Each writer folder holds ``journal.jsonl`` (the entries), ``labels.json`` (per entry:
era, pattern labels with their sentence, emotions, people and let-down episodes) and
``questions.json`` (questions with their kind, the relevant entries and, for
time-bounded ones, the period). The folders were written by separate writers and the
test split is measured once at the end, so nothing here may be tuned to one journal:
the code reads any folder of that format.

Running and scoring are kept apart so the scoring can be checked without the model:
``observe`` asks the service (one container, one user per writer) and turns every
response into plain data; ``score_journal`` and ``pool`` are pure functions of the gold
files and that data. Figures come out as flat dotted keys (``pooled.habit.precision``,
``ri.patterns.macro_f1``) so two result files, or a result and a floor file, can be
compared key by key.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

from eval.metrics.behaviours import gold_top_responses, top_matches
from eval.metrics.citations import citation_precision, citation_recall
from eval.metrics.label_prf import add_counts, label_counts, macro_f1, per_label
from eval.metrics.quotes import quote_checks
from eval.metrics.thirds import thirds
from eval.metrics.time_window import outside_window
from ingest.labels_store import known_labels
from service.ask.planner import KINDS as PLANNER_KINDS

DEFENSIVE = tuple(n for n, g in known_labels().items() if g == "patterns")
REPAIR = tuple(n for n, g in known_labels().items() if g == "repair")
PATTERN_LABELS = DEFENSIVE + REPAIR
KINDS = (*PLANNER_KINDS, "time_bounded", "unanswerable")
PRACTICE = "trust_history"
POOLED = "pooled"
# The general habit question is about being let down by anyone ("what do I usually do
# when someone lets me down?"), as opposed to habits with one person or trigger.
_LET_DOWN = re.compile(r"\blet(?:s|ting)?\s+(?:\w+\s+)?down\b|\blet-?downs?\b", re.IGNORECASE)


# ---------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Journal:
    """One writer's gold files, read as they are."""

    name: str
    path: Path
    entries: dict[str, dict[str, str]]
    labels: dict[str, dict[str, Any]]
    questions: list[dict[str, Any]]

    @property
    def dates(self) -> dict[str, str]:
        return {eid: e["date"] for eid, e in self.entries.items()}


def load_journal(folder: Path) -> Journal:
    path = folder / "journal.jsonl"
    entries = {}
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            item = json.loads(line)
            entries[item["id"]] = {"date": item["date"], "text": item["text"]}
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))["labels"]
    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))["questions"]
    return Journal(folder.name, path, entries, labels, questions)


def load_corpus(root: Path) -> list[Journal]:
    """Every writer folder under ``root`` that holds a ``journal.jsonl``, by name."""
    folders = sorted(p for p in root.iterdir() if (p / "journal.jsonl").is_file())
    if not folders:
        raise FileNotFoundError(f"no writer folders with a journal.jsonl under {root}")
    if any(p.name == POOLED for p in folders):
        raise ValueError(f"a writer folder may not be called {POOLED!r} (it names the pool)")
    return [load_journal(p) for p in folders]


# ---------------------------------------------------------------- service → plain data


def plain(obj: Any) -> dict[str, Any] | None:
    """A pydantic model, a dict or None as a JSON-ready dict (fields being added to the
    responses, such as ``plan`` and ``thirds``, may arrive as either or not at all)."""
    if obj is None:
        return None
    if hasattr(obj, "model_dump"):
        dumped: dict[str, Any] = obj.model_dump(mode="json")
        return dumped
    return dict(obj)


def _citations(items: Iterable[Any]) -> list[dict[str, str]]:
    return [{"entry_id": c.entry_id, "date": c.date, "quote": c.quote} for c in items]


def observe_answer(resp: Any) -> dict[str, Any]:
    """The parts of an ``AskResponse`` the scores read."""
    return {
        "abstained": bool(resp.abstained),
        "citations": _citations(resp.citations),
        "behaviors": [
            {
                "pattern": b.pattern,
                "count": b.count,
                "of": b.of,
                "citations": _citations(b.citations),
            }
            for b in resp.behaviors
        ],
        "plan": plain(getattr(resp, "plan", None)),
    }


@dataclass
class Observed:
    """What the service returned for one journal, as plain data."""

    answers: dict[str, dict[str, Any]]
    entries: dict[str, list[str]]
    thirds: dict[str, Any] | None
    practice: list[dict[str, Any]]
    texts: dict[str, str]
    seconds: dict[str, float]


# ------------------------------------------------------------------- per question


def _iso(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def plan_correct(q: Mapping[str, Any], plan: Mapping[str, Any] | None) -> bool | None:
    """Did the planner read the question as the gold does? Time-bounded questions are
    right when the period matches (the kind alone would not prove it found the dates);
    unanswerable ones are not scored, since nothing in a question says it is."""
    if plan is None or q["kind"] == "unanswerable":
        return None
    if q["kind"] == "time_bounded":
        return _iso(plan.get("since")) == q.get("since") and _iso(plan.get("until")) == q.get(
            "until"
        )
    return bool(plan.get("kind") == q["kind"])


def general_habit_id(questions: Sequence[Mapping[str, Any]]) -> str | None:
    """The first habit question about being let down in general (by wording or notes),
    else the first habit question."""
    habits = [q for q in questions if q["kind"] == "habit"]
    for q in habits:
        if _LET_DOWN.search(q["question"]) or _LET_DOWN.search(q.get("notes") or ""):
            return str(q["id"])
    return str(habits[0]["id"]) if habits else None


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _habit_fields(
    q: Mapping[str, Any], answer: Mapping[str, Any], labels: Mapping[str, Any], general: str | None
) -> dict[str, Any]:
    gold = gold_top_responses(labels, q["relevant"])
    shown = [b["pattern"] for b in answer["behaviors"]]
    return {
        "general": q["id"] == general,
        "top_behaviour": shown[0] if shown else None,
        "gold_top_behaviours": sorted(gold),
        "top_matches": top_matches(shown, gold),
    }


def question_row(
    q: Mapping[str, Any],
    answer: Mapping[str, Any],
    journal: Journal,
    general: str | None = None,
) -> dict[str, Any]:
    """Everything scored about one question, from its gold record and the answer."""
    cited = [c["entry_id"] for c in answer["citations"]]
    ok = bool(q["answerable"])
    row: dict[str, Any] = {
        "id": q["id"],
        "kind": q["kind"],
        "question": q["question"],
        "answerable": ok,
        "abstained": answer["abstained"],
        "cited": sorted(set(cited)),
        "relevant": list(q["relevant"]),
        "precision": _rounded(citation_precision(cited, q["relevant"])) if ok else None,
        "recall": _rounded(citation_recall(cited, q["relevant"])) if ok else None,
        "plan": answer.get("plan"),
        "plan_correct": plan_correct(q, answer.get("plan")),
    }
    if q.get("since") or q.get("until"):
        dates = journal.dates
        dated = [(c["entry_id"], dates.get(c["entry_id"], c["date"])) for c in answer["citations"]]
        row |= {
            "since": q.get("since"),
            "until": q.get("until"),
            "out_of_window": outside_window(dated, q.get("since"), q.get("until")),
        }
    if q["kind"] == "habit":
        row |= _habit_fields(q, answer, journal.labels, general)
    return row


# ------------------------------------------------------------- figures from rows


def _mean(values: Iterable[float | bool | None]) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return round(mean(xs), 4) if xs else None


def _citation_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean precision (over questions that cite) and recall, by kind and over all
    answerable questions; an answer that abstains has recall 0 and no precision."""
    out: dict[str, Any] = {}
    groups = {"answerable": [r for r in rows if r["answerable"]]}
    groups |= {k: [r for r in rows if r["kind"] == k and r["answerable"]] for k in KINDS}
    for name, rs in groups.items():
        if name == "unanswerable":
            continue
        out[f"{name}.questions"] = len(rs)
        out[f"{name}.precision"] = _mean(r["precision"] for r in rs)
        out[f"{name}.recall"] = _mean(r["recall"] for r in rs)
    return out


def _abstention_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    unanswerable = [r for r in rows if not r["answerable"]]
    return {
        "abstention.wrongful": sum(1 for r in rows if r["answerable"] and r["abstained"]),
        "abstention.unanswerable_questions": len(unanswerable),
        "abstention.unanswerable_share": _mean(r["abstained"] for r in unanswerable),
    }


def _window_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    bounded = [r for r in rows if "out_of_window" in r]
    return {
        "time_bounded.out_of_window": sum(len(r["out_of_window"]) for r in bounded),
        "time_bounded.questions_out_of_window": sum(1 for r in bounded if r["out_of_window"]),
    }


def _habit_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Top-behaviour matches over habit questions, and over the general habit questions
    (one per journal: 1.0 or 0.0 for a journal, the share of journals when pooled)."""
    habits = [r for r in rows if r["kind"] == "habit"]
    return {
        "habit.top_matches": _mean(r["top_matches"] for r in habits),
        "habit.general_top_matches": _mean(r["top_matches"] for r in habits if r["general"]),
    }


def _planner_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    scored = [r for r in rows if r["plan_correct"] is not None]
    out: dict[str, Any] = {
        "planner.scored": len(scored),
        "planner.accuracy": _mean(r["plan_correct"] for r in scored),
    }
    for k in KINDS:
        if k != "unanswerable":
            out[f"planner.{k}.accuracy"] = _mean(
                r["plan_correct"] for r in scored if r["kind"] == k
            )
    return out


def question_figures(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Flat figures of a list of question rows (one journal's, or all journals' pooled)."""
    return (
        _citation_figures(rows)
        | _abstention_figures(rows)
        | _window_figures(rows)
        | _habit_figures(rows)
        | _planner_figures(rows)
    )


def pattern_figures(counts: Mapping[str, Mapping[str, int]], entries: int) -> dict[str, Any]:
    out: dict[str, Any] = {"patterns.entries": entries, "patterns.macro_f1": macro_f1(counts)}
    for label, v in per_label(counts).items():
        for k, x in v.items():
            out[f"patterns.{label}.{k}"] = x
    return out


# ------------------------------------------------------------------- per journal


def gold_pattern_labels(journal: Journal) -> dict[str, set[str]]:
    return {eid: {p["label"] for p in v.get("patterns", [])} for eid, v in journal.labels.items()}


def direction_check(gold: Mapping[str, Any], system: Mapping[str, Any] | None) -> dict[str, Any]:
    """Gold thirds against the system's ``thirds`` (None where the report has none)."""
    out: dict[str, Any] = {"gold": dict(gold), "system": None if system is None else dict(system)}
    for side in ("defensive", "repair"):
        agrees = None if system is None else float(system.get(side) == gold[side])
        out[f"{side}_agrees"] = agrees
    if system is not None and "earliest" in system and "latest" in system:
        out["same_entries"] = (
            system["earliest"].get("entry_ids") == gold["earliest"]["entry_ids"]
            and system["latest"].get("entry_ids") == gold["latest"]["entry_ids"]
        )
    return out


def practice_check(practice: Sequence[Mapping[str, Any]], journal: Journal) -> dict[str, Any]:
    """Of the practice questions that cite an entry, how many cite an origin-era entry
    (trust_history is about where the pattern began, so it should reach back there).
    The questions that look back (their evidence is the formative past, per the practice
    file) are counted apart: each of those must quote an entry the writer labelled
    ``origin``, never a present-day episode."""
    from service.insight.practices import load_practice

    back = {q.id for q in load_practice(PRACTICE).questions if q.era == "origin"}
    rows = []
    for pq in practice:
        ids = [c["entry_id"] for c in pq.get("citations", [])]
        if ids:
            eras = [journal.labels.get(e, {}).get("era") for e in ids]
            rows.append(
                {
                    "id": pq["id"],
                    "cited": ids,
                    "eras": eras,
                    "origin": "origin" in eras,
                    "looks_back": pq["id"] in back,
                }
            )
    looking = [r for r in rows if r["looks_back"]]
    return {
        "questions": rows,
        "cited": len(rows),
        "origin": sum(r["origin"] for r in rows),
        "looking_back": len(looking),
        "looking_back_origin": sum(all(e == "origin" for e in r["eras"]) for r in looking),
    }


def all_quotes(observed: Observed) -> list[tuple[str, str]]:
    """Every ``(entry_id, quote)`` shown: answer citations, behaviour citations and the
    practice's citations."""
    out = []
    for a in observed.answers.values():
        out += [(c["entry_id"], c["quote"]) for c in a["citations"]]
        for b in a["behaviors"]:
            out += [(c["entry_id"], c["quote"]) for c in b["citations"]]
    for pq in observed.practice:
        out += [(c["entry_id"], c["quote"]) for c in pq.get("citations", [])]
    return out


def _other_figures(
    direction: Mapping[str, Any], practice: Mapping[str, Any], quotes: Mapping[str, Any]
) -> dict[str, Any]:
    share = round(practice["origin"] / practice["cited"], 4) if practice["cited"] else None
    return {
        "direction.gold.defensive": direction["gold"]["defensive"],
        "direction.gold.repair": direction["gold"]["repair"],
        "direction.defensive_agrees": direction["defensive_agrees"],
        "direction.repair_agrees": direction["repair_agrees"],
        f"practices.{PRACTICE}.cited": practice["cited"],
        f"practices.{PRACTICE}.origin_share": share,
        f"practices.{PRACTICE}.looking_back": practice["looking_back"],
        f"practices.{PRACTICE}.looking_back_origin": practice["looking_back_origin"],
        "quotes.checked": quotes["checked"],
        "quotes.short": quotes["short"],
        "quotes.not_verbatim": quotes["not_verbatim"],
    }


def score_journal(journal: Journal, observed: Observed) -> dict[str, Any]:
    """All figures of one journal (flat, under ``figures``) and the detail behind them."""
    general = general_habit_id(journal.questions)
    rows = [question_row(q, observed.answers[q["id"]], journal, general) for q in journal.questions]
    gold_labels = gold_pattern_labels(journal)
    counts = label_counts(observed.entries, gold_labels, PATTERN_LABELS)
    direction = direction_check(
        thirds(journal.dates, gold_labels, DEFENSIVE, REPAIR), observed.thirds
    )
    practice = practice_check(observed.practice, journal)
    quotes = quote_checks(all_quotes(observed), observed.texts)
    figures = (
        question_figures(rows)
        | pattern_figures(counts, len(journal.labels))
        | _other_figures(direction, practice, quotes)
        | {f"runtime.{k}": v for k, v in observed.seconds.items()}
    )
    return {
        "figures": figures,
        "questions": rows,
        "pattern_counts": counts,
        "direction": direction,
        "practices": {PRACTICE: practice},
        "quotes": quotes,
    }


# ------------------------------------------------------------------------ pooled


def _sum(scored: Iterable[Mapping[str, Any]], key: str) -> Any:
    return sum(s["figures"][key] for s in scored)


def pool(scored: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Pooled figures: question means over all questions of all journals; pattern labels
    micro over all entries then macro over labels; directions and the general habit
    question as shares of journals; counts and seconds summed."""
    js = list(scored.values())
    rows = [r for s in js for r in s["questions"]]
    counts = add_counts(*(s["pattern_counts"] for s in js))
    cited = sum(s["practices"][PRACTICE]["cited"] for s in js)
    origin = sum(s["practices"][PRACTICE]["origin"] for s in js)
    out = question_figures(rows) | pattern_figures(counts, _sum(js, "patterns.entries"))
    out |= {
        "journals": len(js),
        "direction.defensive_agrees": _mean(s["direction"]["defensive_agrees"] for s in js),
        "direction.repair_agrees": _mean(s["direction"]["repair_agrees"] for s in js),
        f"practices.{PRACTICE}.cited": cited,
        f"practices.{PRACTICE}.origin_share": round(origin / cited, 4) if cited else None,
        f"practices.{PRACTICE}.looking_back": _sum(js, f"practices.{PRACTICE}.looking_back"),
        f"practices.{PRACTICE}.looking_back_origin": _sum(
            js, f"practices.{PRACTICE}.looking_back_origin"
        ),
    }
    for key in ("quotes.checked", "quotes.short", "quotes.not_verbatim"):
        out[key] = _sum(js, key)
    for key in sorted({k for s in js for k in s["figures"] if k.startswith("runtime.")}):
        out[key] = round(_sum(js, key), 2)
    return out


def summary(scored: Mapping[str, Mapping[str, Any]], pooled: Mapping[str, Any]) -> dict[str, Any]:
    """One flat dict: ``pooled.<figure>`` and ``<writer>.<figure>``."""
    out = {f"{POOLED}.{k}": v for k, v in pooled.items()}
    for name, s in scored.items():
        out |= {f"{name}.{k}": v for k, v in s["figures"].items()}
    return out


# ----------------------------------------------------------------------- running


def ingest(container: Any, journal: Journal) -> str:
    """One user per writer, named after the folder; returns the user id."""
    from ingest.store import get_or_create_user

    with container.sessions() as s:
        uid = str(get_or_create_user(s, journal.name).id)
        s.commit()
    container.importer.import_path(uid, journal.path)
    return uid


def observe(container: Any, uid: str, journal: Journal) -> Observed:
    """Ask every question and read the reports; seconds exclude the import."""
    from ingest.store import UserEntries

    t0 = time.perf_counter()
    answers = {
        q["id"]: observe_answer(container.ask.ask(uid, q["question"])) for q in journal.questions
    }
    t1 = time.perf_counter()
    entries = container.patterns.patterns_report(uid)["entries"]
    thirds_ = plain(getattr(container.insight.progress(uid), "thirds", None))
    practice = [plain(pq) or {} for pq in container.insight.practice(uid, PRACTICE).questions]
    with container.sessions() as s:
        texts = {e.entry_id: e.text for e in UserEntries(s, uid).all()}
    t2 = time.perf_counter()
    seconds = {"ask_s": round(t1 - t0, 2), "reports_s": round(t2 - t1, 2)}
    return Observed(answers, entries, thirds_, practice, texts, seconds)


def warm_up(container: Any) -> float:
    """Load the embedding model and train the tagger before any journal is timed, so the
    first journal's runtime is comparable with the others'; returns the seconds."""
    t0 = time.perf_counter()
    container.embeddings.embed_query("warm up")
    _ = container.tagger.model
    return round(time.perf_counter() - t0, 2)


def run_corpus(container: Any, root: Path) -> dict[str, Any]:
    """Import, ask and score every journal under ``root`` in one container."""
    journals = load_corpus(root)
    setup = warm_up(container)
    scored: dict[str, dict[str, Any]] = {}
    for j in journals:
        t0 = time.perf_counter()
        uid = ingest(container, j)
        ingest_s = round(time.perf_counter() - t0, 2)
        observed = observe(container, uid, j)
        observed.seconds = {
            "ingest_s": ingest_s,
            **observed.seconds,
            "total_s": round(time.perf_counter() - t0, 2),
        }
        scored[j.name] = score_journal(j, observed)
    pooled = pool(scored) | {"runtime.setup_s": setup}
    return {
        "summary": summary(scored, pooled),
        "pooled": pooled,
        "journals": {
            name: {"entries": len(j.entries), **scored[name]}
            for name, j in zip(scored, journals, strict=True)
        },
    }
