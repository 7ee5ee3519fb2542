"""The extractive answerer's quotes (``service.answer.extractive``)."""

from __future__ import annotations

from service.answer.evidence import Evidence
from service.answer.extractive import ExtractiveAnswerer
from tests.fakes import WordHashEmbeddings


def _ev(entry_id: str, text: str) -> Evidence:
    return Evidence(entry_id, "2023-02-05", 0, len(text), text, similarity=0.6, score=0.1)


def test_evidence_that_is_one_short_sentence_is_not_quoted() -> None:
    """A chunk that is an entry's lone last sentence ("Tea and bed.") says nothing on its
    own; round seven's ne-q01 showed two such quotes. Evidence with a sentence to quote is
    quoted as before."""
    answerer = ExtractiveAnswerer(WordHashEmbeddings())
    draft = answerer.draft(
        "What do I do when somebody lets me down?",
        [
            _ev("ne01", "Tea and bed."),
            _ev("ne17", "I wanted to."),
            _ev("ne20", "Ruth did not ring back, so I went quiet for the whole week."),
        ],
    )
    quotes = [c.quote for claim in draft.claims for c in claim.citations]
    assert quotes == ["Ruth did not ring back, so I went quiet for the whole week."]
