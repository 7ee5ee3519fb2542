"""Evaluate answers on the labelled development journals (eval/datasets/journal_dev.json).

Each journal is imported through the real ingest path into the given container; every
question is asked through the real answer chain. Reported per question: citation
precision and recall against the labelled relevant entries, whether every quote is
verbatim, and abstention; and overall: the means, the abstention rate on unanswerable
questions and wrongful abstentions on answerable ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import mean
from typing import Any

from eval.metrics.citations import citation_precision, citation_recall
from eval.metrics.verbatim import verbatim_share
from ingest.store import UserEntries, get_or_create_user

DATASET = Path(__file__).parent / "datasets" / "journal_dev.json"
REFLECT_DATASET = Path(__file__).parent / "datasets" / "reflect_dev.json"
LABELS_DATASET = Path(__file__).parent / "datasets" / "entry_labels.json"
HABIT_QUESTION = ("maya", "what do I usually do when I feel betrayed?", "betrayal")


def load_dataset(path: Path = DATASET) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def ingest_journals(container: Any, dataset: dict[str, Any], root: Path) -> dict[str, str]:
    """Import each labelled journal for its user; returns user name → user id."""
    ids = {}
    for name, rel_path in dataset["journals"].items():
        with container.sessions() as s:
            uid = get_or_create_user(s, name).id
            s.commit()
        container.importer.import_path(uid, root / rel_path)
        ids[name] = uid
    return ids


def evaluate_answers(container: Any, dataset: dict[str, Any], users: dict[str, str]) -> dict:
    rows = []
    texts: dict[str, dict[str, str]] = {}
    for name, uid in users.items():
        with container.sessions() as s:
            texts[name] = {e.entry_id: e.text for e in UserEntries(s, uid).all()}
    for q in dataset["questions"]:
        resp = container.ask_service.ask(users[q["user"]], q["question"])
        cited = [c.entry_id for c in resp.citations]
        row = {
            "id": q["id"],
            "user": q["user"],
            "question": q["question"],
            "answerable": q["answerable"],
            "abstained": resp.abstained,
            "cited": sorted(set(cited)),
            "precision": citation_precision(cited, q["relevant"]) if q["answerable"] else None,
            "recall": citation_recall(cited, q["relevant"]) if q["answerable"] else None,
            "verbatim": verbatim_share(
                [(c.entry_id, c.quote) for c in resp.citations], texts[q["user"]]
            ),
        }
        rows.append(row)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    precisions = [r["precision"] for r in answerable if r["precision"] is not None]
    all_quotes = [r["verbatim"] for r in rows if r["verbatim"] is not None]
    summary = {
        "questions": len(rows),
        "citation_precision_mean": round(mean(precisions), 4) if precisions else None,
        "citation_recall_mean": round(mean(r["recall"] or 0.0 for r in answerable), 4),
        "verbatim_share": round(min(all_quotes), 4) if all_quotes else None,
        "abstention_rate_unanswerable": round(
            sum(r["abstained"] for r in unanswerable) / len(unanswerable), 4
        )
        if unanswerable
        else None,
        "wrongful_abstentions": sum(r["abstained"] for r in answerable),
    }
    return {"summary": summary, "questions": rows}


def evaluate_reflect(
    container: Any, users: dict[str, str], path: Path = REFLECT_DATASET
) -> dict[str, Any]:
    """``reflect`` echo recall: of the origin entries a situation echoes (hand-labelled),
    the share that the reflection returns among its echoes."""
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    rows = []
    for case in cases:
        r = container.insight_service.reflect(users[case["user"]], case["situation"])
        got = [e.entry_id for e in r.echoes]
        rows.append(
            {
                "id": case["id"],
                "user": case["user"],
                "expected": case["echoes"],
                "echoes": got,
                "recall": citation_recall(got, case["echoes"]),
                "origin_found": any(e in got for e in case["echoes"]),
            }
        )
    return {
        "cases": rows,
        "echo_recall_mean": round(mean(r["recall"] for r in rows), 4) if rows else None,
        "origin_hit_rate": round(mean(r["origin_found"] for r in rows), 4) if rows else None,
    }


def evaluate_behaviours(
    container: Any, users: dict[str, str], labels_path: Path = LABELS_DATASET
) -> dict[str, Any]:
    """Do the behaviours counted for the habit question match the hand labels?

    The labelled episodes of the trigger are the entries labelled with its emotion
    (``betrayal``); the labelled count of a behaviour is how many of those entries carry
    that pattern. Compared per pattern with what ``ask`` counted, and every count
    checked to be backed by one verbatim citation per counted episode.
    """
    user, question, trigger = HABIT_QUESTION
    gold = json.loads(labels_path.read_text(encoding="utf-8"))["labels"]
    with container.sessions() as s:
        texts = {e.entry_id: e.text for e in UserEntries(s, users[user]).all()}
    episodes = [eid for eid, lab in gold.items() if eid in texts and trigger in lab["emotions"]]
    gold_counts: dict[str, set[str]] = {}
    for eid in episodes:
        for p in gold[eid]["patterns"]:
            gold_counts.setdefault(p, set()).add(eid)
    resp = container.ask_service.ask(users[user], question)
    rows = []
    backed = True
    for b in resp.behaviors:
        cited = {c.entry_id for c in b.citations}
        backed &= len(cited) == b.count and all(
            c.quote in texts.get(c.entry_id, "") for c in b.citations
        )
        labelled = gold_counts.get(b.pattern, set())
        rows.append(
            {
                "pattern": b.pattern,
                "count": b.count,
                "of": b.of,
                "labelled_count": len(labelled),
                "labelled_of": len(episodes),
                "precision": citation_precision(sorted(cited), sorted(labelled)),
            }
        )
    for p, ids in gold_counts.items():
        if not any(r["pattern"] == p for r in rows):
            rows.append(
                {
                    "pattern": p,
                    "count": 0,
                    "of": resp.behaviors[0].of if resp.behaviors else 0,
                    "labelled_count": len(ids),
                    "labelled_of": len(episodes),
                    "precision": None,
                }
            )
    top = resp.behaviors[0].pattern if resp.behaviors else None
    gold_top = max(gold_counts, key=lambda p: len(gold_counts[p])) if gold_counts else None
    return {
        "question": question,
        "behaviours": rows,
        "every_count_backed": backed,
        "top_matches_labels": top == gold_top,
    }


if __name__ == "__main__":  # python -m eval.journal_eval  (development convenience)
    import sys
    import tempfile

    from service.container import Container
    from service.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        c = Container(Settings(data_dir=Path(tmp)))
        ds = load_dataset()
        result = evaluate_answers(c, ds, ingest_journals(c, ds, Path.cwd()))
        for r in result["questions"]:
            p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
            rc = "-" if r["recall"] is None else f"{r['recall']:.2f}"
            print(
                f"{r['id']} ans={r['answerable']!s:5} abst={r['abstained']!s:5} P={p} R={rc} "
                f"n={len(r['cited'])} {r['question']}",
                file=sys.stderr,
            )
        print(json.dumps(result["summary"]))
