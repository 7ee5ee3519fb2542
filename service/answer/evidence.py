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
from dataclasses import dataclass, replace

from langchain_core.documents import Document

from ingest.chunking import sentence_spans
from service.query import QueryPlan
from service.retrieval.lexical import GENERIC_QUESTION_WORDS


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


def widen(ev: Evidence, entry_text: str, after: int = 1) -> Evidence:
    """The chunk's whole sentence(s) plus the sentence(s) that follow it in the entry.

    Chunks are about a sentence long, which sharpens retrieval, but what a person did
    usually comes in the sentence after what happened; quoting from the wider window
    keeps quotes exact substrings of the entry.
    """
    if entry_text[ev.start : ev.end] != ev.text:
        return ev  # index out of step with the store: keep what was retrieved
    spans = sentence_spans(entry_text)
    # From the start of the sentence the chunk begins in: a quote is whole sentences.
    start = next((s.start for s in spans if s.start <= ev.start < s.end), ev.start)
    following = [s for s in spans if s.start >= ev.end][:after]
    end = following[-1].end if following else ev.end
    return replace(ev, start=start, end=end, text=entry_text[start:end])


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
    # The fused ranking's first chunk is kept whenever it clears the absolute floor: it
    # can lead on an exact rare word (a name, a place, a token only one entry holds)
    # that dense similarity barely sees, and the margin below the best dense match
    # would otherwise drop the one entry the question was asking for.
    top = docs[0]
    per_entry: dict[str, Evidence] = {}
    for d in docs:
        m = d.metadata
        sim = float(m["similarity"])
        if sim < floor and not (d is top and sim >= p.min_relevance):
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
    kept = ranked[: p.habit_max_entries if plan.habit else p.max_entries]
    lead = per_entry.get(str(top.metadata["entry_id"]))
    if lead is not None and lead not in kept:
        kept[-1] = lead
    return kept


_PLAIN_WORDS = frozenset(
    """
    about above after again against all also and are because been before being between let
    both but can could did does doing down during each few for from further had has have
    having her here hers him his how into its itself just more most myself nor not now
    off once only other our ours out over own same she should some such than that the
    their them then there these they this those through too under until very was were
    what when where which while who whom why will with would you your yours
    """.split()
)


def topic_of(question: str) -> str:
    """What was asked about, for "I couldn't find anything in your journal about ...".

    Built from the question's own topic words, so it never claims more than was asked.
    """
    words = [
        w
        for w in re.findall(r"[A-Za-z][A-Za-z'-]*", question)
        if len(w) > 2 and w.lower() not in _PLAIN_WORDS and w.lower() not in GENERIC_QUESTION_WORDS
    ]
    return quoted_list(list(dict.fromkeys(words))[:4])


def quoted_list(words: list[str]) -> str:
    """'"a"', '"a" or "b"', '"a", "b" or "c"'; "that" for none."""
    if not words:
        return "that"
    quoted = [f'"{w}"' for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
