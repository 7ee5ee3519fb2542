"""Evidence selection shared by both answerers.

The retriever returns ranked chunks; here we decide whether they are strong enough to
answer from at all, and keep at most one chunk per entry (the strongest), so that an
answer counts entries rather than fragments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_core.documents import Document

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


def select_evidence(
    docs: list[Document], min_relevance: float, margin: float = 0.15, max_entries: int = 10
) -> list[Evidence]:
    """Chunks close enough to the question (absolute floor, and near the best one)."""
    if not docs:
        return []
    best = max(float(d.metadata["similarity"]) for d in docs)
    if best < min_relevance:
        return []
    floor = max(min_relevance, best - margin)
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
    return ranked[:max_entries]


def topic_of(question: str) -> str:
    """A short restatement of what was asked, for 'I couldn't find anything about ...'."""
    q = question.strip().rstrip("?.! ")
    q = _QUESTION_FRAME.sub("", q)
    q = re.sub(r"\b(I|me)\b", "you", q)
    q = re.sub(r"\bmy\b", "your", q, flags=re.IGNORECASE)
    q = re.sub(r"\bam\b", "are", q)
    return f'"{q}"' if q else "that"
