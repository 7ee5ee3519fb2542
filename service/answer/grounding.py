"""The grounding checker: the last gate before anything about the person is shown.

A citation survives only if its entry belongs to the asking user and its quote is an
exact substring of that entry's stored text. Quotes that differ only in whitespace or
typographic quote marks are mapped back to the exact characters of the entry. A claim
with no surviving citation is dropped; with no claim left, the answer abstains. This
runs on every answerer's output, so no answerer can bypass it.
"""

from __future__ import annotations

import re

from service.answer.models import Draft, abstention
from service.ask.schemas import AskResponse
from service.schemas import Citation

_SMART = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def locate_quote(quote: str, text: str) -> str | None:
    """The exact substring of ``text`` that ``quote`` stands for, if there is one."""
    q = quote.strip()
    if not q:
        return None
    if q in text:
        return q
    tokens = [re.escape(t) for t in q.translate(_SMART).split()]
    if not tokens:
        return None
    m = re.search(r"\s+".join(tokens), text.translate(_SMART))
    return text[m.start() : m.end()] if m else None


def check_citations(
    citations: list[Citation], texts: dict[str, str], dates: dict[str, str]
) -> list[Citation]:
    """Keep only citations backed verbatim by the user's own entries (deduplicated)."""
    kept: list[Citation] = []
    seen: set[tuple[str, str]] = set()
    for c in citations:
        text = texts.get(c.entry_id)
        if text is None:
            continue
        exact = locate_quote(c.quote, text)
        if exact is None or (c.entry_id, exact) in seen:
            continue
        seen.add((c.entry_id, exact))
        kept.append(Citation(entry_id=c.entry_id, date=dates[c.entry_id], quote=exact))
    return kept


def finalize(draft: Draft, texts: dict[str, str], dates: dict[str, str], topic: str) -> AskResponse:
    """Check every claim of ``draft`` and render what survives (or abstain)."""
    kept_claims = []
    for claim in draft.claims:
        cites = check_citations(claim.citations, texts, dates)
        if cites:
            statement = claim.statement
            if claim.show_quotes:
                statement += " (" + "; ".join(f'{c.date}: "{c.quote}"' for c in cites) + ")"
            kept_claims.append((statement, cites))
    if not kept_claims:
        return abstention(draft.question, draft.mode, topic)
    citations: list[Citation] = []
    for _, cites in kept_claims:
        citations += [c for c in cites if c not in citations]
    intro = draft.intro
    if "{n}" in intro or "{first}" in intro:
        dates_cited = sorted(c.date for c in citations)
        n_entries = len({c.entry_id for c in citations})
        intro = intro.format(
            n=n_entries,
            first=dates_cited[0],
            last=dates_cited[-1],
            entries="entry" if n_entries == 1 else "entries",
        )
    body = "\n".join(s for s, _ in kept_claims)
    return AskResponse(
        question=draft.question,
        answer=f"{intro}\n{body}".strip(),
        abstained=False,
        mode=draft.mode,
        citations=citations,
    )
