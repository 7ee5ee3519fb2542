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
        resp = container.ask.ask(users[q["user"]], q["question"])
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
        r = container.insight.reflect(users[case["user"]], case["situation"])
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

    The answer's episodes are the entries it cites; for each pattern, the count it gives
    is compared with the number of those same episodes whose hand labels
    (``entry_labels.json``) carry the pattern, and the counted entries are scored
    against them (precision, recall). Every count must be backed by one verbatim
    citation per counted episode.
    """
    user, question, _trigger = HABIT_QUESTION
    gold = json.loads(labels_path.read_text(encoding="utf-8"))["labels"]
    with container.sessions() as s:
        texts = {e.entry_id: e.text for e in UserEntries(s, users[user]).all()}
    resp = container.ask.ask(users[user], question)
    episodes = list(dict.fromkeys(c.entry_id for c in resp.citations))
    counted = {b.pattern: {c.entry_id for c in b.citations} for b in resp.behaviors}
    backed = all(
        len(counted[b.pattern]) == b.count
        and all(c.quote in texts.get(c.entry_id, "") for c in b.citations)
        for b in resp.behaviors
    )
    labelled: dict[str, set[str]] = {}
    for eid in episodes:
        for p in gold.get(eid, {}).get("patterns", []):
            labelled.setdefault(p, set()).add(eid)
    rows: list[dict[str, Any]] = []
    pairs: list[tuple[int, int]] = []
    for p in sorted(set(counted) | set(labelled)):
        got, want = counted.get(p, set()), labelled.get(p, set())
        rows.append(
            {
                "pattern": p,
                "count": len(got),
                "labelled_count": len(want),
                "precision": round(len(got & want) / len(got), 4) if got else None,
                "recall": round(len(got & want) / len(want), 4) if want else None,
            }
        )
        pairs.append((len(got), len(want)))
    rows.sort(key=lambda r: (-r["labelled_count"], -r["count"], r["pattern"]))
    top = resp.behaviors[0].pattern if resp.behaviors else None
    gold_top = max(labelled, key=lambda p: (len(labelled[p]), p)) if labelled else None
    return {
        "question": question,
        "episodes": len(episodes),
        "behaviours": rows,
        "count_abs_error_mean": round(mean(abs(a - b) for a, b in pairs), 4) if pairs else None,
        "every_count_backed": backed,
        "top_behaviour": top,
        "top_labelled_behaviour": gold_top,
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
