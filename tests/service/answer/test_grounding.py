"""The grounding checker: the last gate before anything about the person is shown."""

from __future__ import annotations

from service.answer.grounding import check_citations, finalize, locate_quote
from service.answer.models import Claim, Draft
from service.ask.schemas import AskResponse
from service.schemas import Citation

TEXT = (
    'Jonah said "okay" and went to bed.\n'
    "I didn't say anything. I went   quiet\n"
    "and stayed quiet until morning."
)
TEXTS = {
    "e1": TEXT,
    "e2": "Sam lied about the flat. I felt betrayed and I yelled at him.",
}
DATES = {"e1": "2024-01-10", "e2": "2024-03-02"}


def cite(entry_id: str, quote: str, date: str = "1999-01-01") -> Citation:
    return Citation(entry_id=entry_id, date=date, quote=quote)


# ------------------------------------------------------------------- locate_quote


def test_locate_quote_exact_substring_is_returned_as_is() -> None:
    assert locate_quote("I didn't say anything.", TEXT) == "I didn't say anything."


def test_locate_quote_strips_surrounding_whitespace() -> None:
    assert locate_quote("  went to bed.\n", TEXT) == "went to bed."


def test_locate_quote_maps_curly_quotes_back_to_the_entry_characters() -> None:
    assert (
        locate_quote("Jonah said \u201cokay\u201d and went", TEXT) == 'Jonah said "okay" and went'
    )
    assert locate_quote("I didn\u2019t say anything", TEXT) == "I didn't say anything"


def test_locate_quote_maps_whitespace_differences_to_the_exact_span() -> None:
    # The entry has three spaces and a newline where the quote has single spaces.
    assert locate_quote("I went quiet and stayed quiet", TEXT) == "I went   quiet\nand stayed quiet"


def test_locate_quote_returns_exact_characters_when_entry_has_curly_quotes() -> None:
    text = "She said \u2018trust me\u2019 and I did."
    assert locate_quote("She said 'trust me' and", text) == "She said \u2018trust me\u2019 and"


def test_locate_quote_refuses_anything_not_in_the_text() -> None:
    assert locate_quote("I threw a plate at him", TEXT) is None
    assert locate_quote("Jonah said okay", TEXT) is None  # the quote marks are missing
    assert locate_quote("jonah said", TEXT) is None  # case matters
    assert locate_quote("", TEXT) is None
    assert locate_quote("   \n ", TEXT) is None


def test_locate_quote_treats_regex_characters_literally() -> None:
    text = "Is this (really) okay? [maybe] $5 + tip."
    assert locate_quote("(really) okay? [maybe] $5 +", text) == "(really) okay? [maybe] $5 +"
    assert locate_quote("(really okay", text) is None


# --------------------------------------------------------------- check_citations


def test_check_citations_keeps_verbatim_quotes_with_the_stored_date() -> None:
    kept = check_citations([cite("e2", "I felt betrayed")], TEXTS, DATES)
    assert kept == [Citation(entry_id="e2", date="2024-03-02", quote="I felt betrayed")]


def test_check_citations_drops_entries_not_in_the_users_texts() -> None:
    # "other" is an id the user does not own (e.g. someone else's entry): its text is
    # not in ``texts``, so the citation cannot survive even if the quote is real text.
    cites = [cite("other", "I felt betrayed"), cite("e2", "I yelled at him")]
    assert check_citations(cites, TEXTS, DATES) == [
        Citation(entry_id="e2", date="2024-03-02", quote="I yelled at him")
    ]


def test_check_citations_drops_quotes_from_a_different_entry() -> None:
    # A real quote, but from e2, cited as e1.
    assert check_citations([cite("e1", "I felt betrayed")], TEXTS, DATES) == []


def test_check_citations_drops_non_verbatim_and_empty_quotes() -> None:
    cites = [
        cite("e2", "I felt deeply betrayed"),
        cite("e2", "Sam lied about the flat money"),
        cite("e2", ""),
        cite("e2", "   "),
    ]
    assert check_citations(cites, TEXTS, DATES) == []


def test_check_citations_replaces_near_quotes_with_exact_text() -> None:
    kept = check_citations([cite("e1", "Jonah said \u201cokay\u201d")], TEXTS, DATES)
    assert kept == [Citation(entry_id="e1", date="2024-01-10", quote='Jonah said "okay"')]


def test_check_citations_dedupes_after_mapping_to_exact_text() -> None:
    cites = [
        cite("e2", "I felt betrayed"),
        cite("e2", "  I felt betrayed "),
        cite("e1", "I went quiet and stayed"),
        cite("e1", "I went   quiet\nand stayed"),
        cite("e2", "I felt betrayed", date="2024-03-02"),
    ]
    assert check_citations(cites, TEXTS, DATES) == [
        Citation(entry_id="e2", date="2024-03-02", quote="I felt betrayed"),
        Citation(entry_id="e1", date="2024-01-10", quote="I went   quiet\nand stayed"),
    ]


def test_check_citations_keeps_the_same_quote_in_two_entries() -> None:
    texts = {"a": "I went quiet.", "b": "Again I went quiet."}
    dates = {"a": "2024-01-01", "b": "2024-02-01"}
    kept = check_citations([cite("a", "I went quiet"), cite("b", "I went quiet")], texts, dates)
    assert [(c.entry_id, c.quote) for c in kept] == [("a", "I went quiet"), ("b", "I went quiet")]


# ----------------------------------------------------------------------- finalize


def test_finalize_drops_claims_without_surviving_citations() -> None:
    draft = Draft(
        question="what do I do when I feel betrayed?",
        mode="llm",
        intro="From your journal:",
        claims=[
            Claim("- You yell.", [cite("e2", "I yelled at him")]),
            Claim("- You throw plates.", [cite("e2", "I threw a plate")]),
            Claim("- You have no source.", []),
        ],
    )
    resp = finalize(draft, TEXTS, DATES, '"feel betrayed"')
    assert resp == AskResponse(
        question="what do I do when I feel betrayed?",
        answer="From your journal:\n- You yell.",
        abstained=False,
        mode="llm",
        citations=[Citation(entry_id="e2", date="2024-03-02", quote="I yelled at him")],
    )


def test_finalize_abstains_when_no_claim_survives() -> None:
    draft = Draft(
        question="when did I feel safe?",
        mode="llm",
        intro="From your journal:",
        claims=[
            Claim("- Invented.", [cite("e2", "I felt safe")]),
            Claim("- Someone else's.", [cite("zz", "I felt betrayed")]),
        ],
    )
    resp = finalize(draft, TEXTS, DATES, '"feel safe"')
    assert resp == AskResponse(
        question="when did I feel safe?",
        answer='I couldn\'t find anything in your journal about "feel safe".',
        abstained=True,
        mode="llm",
        citations=[],
    )


def test_finalize_abstains_on_an_empty_draft() -> None:
    resp = finalize(Draft(question="q?", mode="extractive"), TEXTS, DATES, "that")
    assert resp.abstained is True
    assert resp.citations == []
    assert resp.mode == "extractive"
    assert resp.answer == "I couldn't find anything in your journal about that."


def test_finalize_renders_checked_quotes_and_fills_the_intro() -> None:
    draft = Draft(
        question="q?",
        mode="extractive",
        intro="Here is what you wrote about this in {n} {entries}, from {first} to {last}:",
        claims=[
            Claim("- You went quiet", [cite("e1", "I went quiet and stayed quiet")], True),
            Claim("- You yelled", [cite("e2", "I yelled at him"), cite("e2", "I felt betrayed")]),
        ],
    )
    resp = finalize(draft, TEXTS, DATES, "that")
    assert resp.abstained is False
    # The rendered quote is the exact entry text, not the model's spelling of it.
    assert resp.answer == (
        "Here is what you wrote about this in 2 entries, from 2024-01-10 to 2024-03-02:\n"
        '- You went quiet (2024-01-10: "I went   quiet\nand stayed quiet")\n'
        "- You yelled"
    )
    assert resp.citations == [
        Citation(entry_id="e1", date="2024-01-10", quote="I went   quiet\nand stayed quiet"),
        Citation(entry_id="e2", date="2024-03-02", quote="I yelled at him"),
        Citation(entry_id="e2", date="2024-03-02", quote="I felt betrayed"),
    ]


def test_finalize_counts_one_entry_in_the_singular_and_dedupes_across_claims() -> None:
    draft = Draft(
        question="q?",
        mode="extractive",
        intro="In {n} {entries} ({first}..{last}):",
        claims=[
            Claim("- a", [cite("e2", "I felt betrayed")]),
            Claim("- b", [cite("e2", "I felt betrayed")]),
        ],
    )
    resp = finalize(draft, TEXTS, DATES, "that")
    assert resp.answer == "In 1 entry (2024-03-02..2024-03-02):\n- a\n- b"
    assert resp.citations == [Citation(entry_id="e2", date="2024-03-02", quote="I felt betrayed")]
