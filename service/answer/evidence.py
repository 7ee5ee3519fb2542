"""Evidence selection shared by both answerers: answer, or abstain?

The retriever returns ranked chunks; here we decide whether they are strong enough to
answer from at all, and keep at most one chunk per entry (the strongest), so that an
answer counts entries rather than fragments. Two signals guard against answering what
the journal never talks about: dense similarity, and whether the question's topic words
occur in the person's writing at all ("my dentist" in a journal that never mentions
one). Questions that name a trust label (betrayal, checking up, ...) are supported by
meaning alone, because people describe those episodes in their own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document

from service.query import QueryPlan

_QUESTION_FRAME = re.compile(
    r"^\s*(what|when|how|why|who|where|which|do|does|did|is|are|was|were|have|has|can|could|"
    r"should|tell me)\b[^a-z]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Evidence:
    entry_id: str
    date: str
    start: int
    end: int
    text: str
    similarity: float
    score: float


@dataclass(frozen=True)
class EvidencePolicy:
    """Thresholds, tuned on the development journals (eval/datasets/journal_dev.json)."""

    min_relevance: float = 0.3  # no chunk this close: nothing to say
    strong: float = 0.55  # this close: answer even if topic words are absent
    min_coverage: float = 0.5  # share of topic words that must occur in the journal
    margin: float = 0.12  # keep entries within this of the best one
    label_floor: float = 0.4  # questions naming a trust label: similarity to its examples
    max_entries: int = 6
    habit_max_entries: int = 25


def select_evidence(
    docs: list[Document],
    plan: QueryPlan,
    coverage: float,
    policy: EvidencePolicy | None = None,
) -> list[Evidence]:
    p = policy or EvidencePolicy()
    if not docs:
        return []
    best = max(float(d.metadata["similarity"]) for d in docs)
    supported = bool(plan.labels) or coverage > p.min_coverage or best >= p.strong
    if best < p.min_relevance or not supported:
        return []
    # Similarity to a label's example sentences is calibrated across questions, so an
    # absolute floor gathers every episode; otherwise stay close to the best match.
    floor = p.label_floor if (plan.labels and plan.trigger) else best - p.margin
    floor = max(floor, p.min_relevance)
    per_entry: dict[str, Evidence] = {}
    for d in docs:
        m = d.metadata
        sim = float(m["similarity"])
        if sim < floor:
            continue
        ev = Evidence(
            entry_id=str(m["entry_id"]),
            date=str(m["date"]),
            start=int(m["start"]),
            end=int(m["end"]),
            text=d.page_content,
            similarity=sim,
            score=float(m.get("score", 0.0)),
        )
        cur = per_entry.get(ev.entry_id)
        if cur is None or ev.similarity > cur.similarity:
            per_entry[ev.entry_id] = ev
    ranked = sorted(per_entry.values(), key=lambda e: (-e.similarity, e.entry_id))
    return ranked[: p.habit_max_entries if plan.habit else p.max_entries]


def topic_of(question: str) -> str:
    """A short restatement of what was asked, for 'I couldn't find anything about ...'."""
    q = question.strip().rstrip("?.! ")
    q = _QUESTION_FRAME.sub("", q)
    q = re.sub(r"\b(I|me)\b", "you", q)
    q = re.sub(r"\bmy\b", "your", q, flags=re.IGNORECASE)
    q = re.sub(r"\bam\b", "are", q)
    return f'"{q}"' if q else "that"
