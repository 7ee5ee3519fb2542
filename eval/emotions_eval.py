"""Emotion recall on EmpatheticDialogues: can "a time I felt X" find the entries about X?

Every situation of a split becomes one entry of one journal (one user), one day apart in
file order, imported through the real ingest path. For each of the 32 emotions the
retriever is asked "a time I felt <emotion>"; chunks are pooled to entries (an entry
ranks where its best chunk ranks) and the top 10 entries are scored by precision against
the labels. Two systems run on the same index in the same run:

- ``baseline``: the raw question, dense retrieval only, no query understanding;
- ``system``: the question as the service plans it (``service.query.plan_query``: the
  emotion lexicon's examples as expansions), through the default hybrid retriever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

from eval.datasets.empathetic import TRUST_EMOTIONS, Situation
from ingest.records import FileRead, RawEntry
from ingest.store import get_or_create_user
from service.query import plan_query

CACHE_DIR = Path(__file__).parent / "results" / "cache"
START = dt.date(2000, 1, 1)
TOP_ENTRIES = 10
QUESTION = "a time I felt {emotion}"
# Chunks to ask for: entries are split into chunks, so more than TOP_ENTRIES are needed.
CHUNKS = 60


def entry_id(split: str, s: Situation) -> str:
    return f"ed-{split}-{s.row}"


def ingest_situations(
    container: Any, split: str, situations: Sequence[Situation], user: str | None = None
) -> str:
    """Import the situations as one journal; returns the user id. Re-runs are no-ops."""
    with container.sessions() as session:
        uid = get_or_create_user(session, user or f"ed-{split}").id
        session.commit()
    entries = [
        RawEntry(
            text=s.text,
            date=START + dt.timedelta(days=i),
            id=entry_id(split, s),
            source=f"empathetic_dialogues/{split}.csv:{s.row}",
        )
        for i, s in enumerate(situations)
    ]
    container.importer.import_reads(uid, [FileRead(path=f"{split}.csv", entries=entries)])
    return str(uid)


def top_entries(docs: Sequence[Any], n: int = TOP_ENTRIES) -> list[str]:
    """Entry ids in rank order of their best chunk, the first ``n``."""
    out: list[str] = []
    for d in docs:
        eid = d.metadata["entry_id"]
        if eid not in out:
            out.append(eid)
            if len(out) == n:
                break
    return out


def retrieve(container: Any, uid: str, question: str, system: str) -> list[str]:
    if system == "baseline":
        r = container.retrievers.for_user(uid, mode="dense").model_copy(
            update={"k": CHUNKS, "candidates": CHUNKS}
        )
        return top_entries(r.invoke(question))
    plan = plan_query(question)
    r = container.retrievers.for_user(uid).model_copy(
        update={
            "expansions": plan.expansions,
            "expansion_weight": plan.expansion_weight,
            "k": CHUNKS,
            "candidates": CHUNKS,
        }
    )
    return top_entries(r.invoke(plan.search_text))


def evaluate(
    container: Any,
    uid: str,
    split: str,
    situations: Sequence[Situation],
    emotions: Sequence[str],
    systems: Sequence[str] = ("baseline", "system"),
) -> dict[str, Any]:
    """Precision@10 per emotion and system, with the means over all and trust emotions."""
    label = {entry_id(split, s): s.emotion for s in situations}
    rows = []
    for emotion in emotions:
        question = QUESTION.format(emotion=emotion)
        row: dict[str, Any] = {"emotion": emotion, "question": question}
        for system in systems:
            got = retrieve(container, uid, question, system)
            row[system] = round(sum(label.get(e) == emotion for e in got) / TOP_ENTRIES, 4)
            row[f"{system}_top"] = got
        rows.append(row)
    trust = [r for r in rows if r["emotion"] in TRUST_EMOTIONS]
    summary: dict[str, Any] = {"emotions": len(rows), "entries": len(situations)}
    for system in systems:
        summary[f"{system}_p_at_10_mean"] = round(mean(r[system] for r in rows), 4)
        summary[f"{system}_p_at_10_trust_mean"] = (
            round(mean(r[system] for r in trust), 4) if trust else None
        )
    return {"summary": summary, "emotions": rows}
