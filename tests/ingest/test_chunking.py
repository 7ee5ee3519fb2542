"""Tests for ``ingest.chunking``: spans are exact, sentences are never cut.

A quote shown to a person is ``text[start:end]`` of what they wrote, so every
assertion here is about exact characters and exact offsets.
"""

from __future__ import annotations

import itertools
import json
import random

import pytest

from ingest.chunking import (
    Span,
    _blocks,
    _plain_sentences,
    chunk_spans,
    sentence_spans,
    word_count,
)
from tests import ROOT


def texts(text: str, spans: list[Span]) -> list[str]:
    return [s.of(text) for s in spans]


def check_well_formed(text: str, spans: list[Span]) -> None:
    """Ordered, non-overlapping, trimmed, non-empty spans that cover every visible character."""
    prev_end = 0
    covered: set[int] = set()
    for s in spans:
        assert s.start >= prev_end, (text, spans)
        assert s.end > s.start
        assert not text[s.start].isspace()
        assert not text[s.end - 1].isspace()
        assert s.of(text) == text[s.start : s.end]
        covered.update(range(s.start, s.end))
        prev_end = s.end
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert lost == [], f"characters outside every span: {[text[i] for i in lost]}"


def check_chunks(text: str, max_words: int) -> list[Span]:
    """Chunk ``text`` and check every chunking rule against its sentences."""
    sentences = sentence_spans(text)
    chunks = chunk_spans(text, max_words)
    check_well_formed(text, sentences)
    check_well_formed(text, chunks)
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    for c in chunks:
        # Chunk boundaries are sentence boundaries: no sentence is ever cut.
        assert c.start in starts and c.end in ends, (text, c)
        inside = [s for s in sentences if c.start <= s.start and s.end <= c.end]
        words = sum(word_count(s.of(text)) for s in inside)
        if len(inside) > 1:
            assert words <= max_words, (c.of(text), words)
    # Greedy packing: the next sentence would not have fit in the chunk before it.
    for before, after in itertools.pairwise(chunks):
        first_next = next(s for s in sentences if s.start == after.start)
        in_before = [s for s in sentences if before.start <= s.start and s.end <= before.end]
        total = sum(word_count(s.of(text)) for s in [*in_before, first_next])
        assert total > max_words
    return chunks


# ------------------------------------------------------------------------- sentences


def test_sentences_are_exact_substrings() -> None:
    t = "Hello there. How are you? I'm fine!"
    spans = sentence_spans(t)
    assert spans == [Span(0, 12), Span(13, 25), Span(26, 35)]
    assert texts(t, spans) == ["Hello there.", "How are you?", "I'm fine!"]


def test_abbreviations_do_not_end_sentences() -> None:
    t = "Dr. Smith met Mr. Jones at 3 p.m. on Jan. 5. They talked."
    assert texts(t, sentence_spans(t)) == [
        "Dr. Smith met Mr. Jones at 3 p.m. on Jan. 5.",
        "They talked.",
    ]


def test_line_breaks_always_split_sentences() -> None:
    t = "Line one without period\nLine two also\n\nPara three. Sentence four."
    spans = sentence_spans(t)
    assert texts(t, spans) == [
        "Line one without period",
        "Line two also",
        "Para three.",
        "Sentence four.",
    ]
    assert spans[1] == Span(24, 37)
    assert spans[2].start == t.index("Para")


def test_windows_line_endings() -> None:
    t = "first line\r\nsecond line\r\n\r\nthird. fourth."
    spans = sentence_spans(t)
    assert texts(t, spans) == ["first line", "second line", "third.", "fourth."]
    assert all("\r" not in s.of(t) and "\n" not in s.of(t) for s in spans)


def test_curly_quotes_and_emoji_keep_offsets() -> None:
    t = "He said “I trust you.” Then he left… 😀 Really? Yes."
    spans = sentence_spans(t)
    assert texts(t, spans) == ["He said “I trust you.”", "Then he left… 😀 Really?", "Yes."]
    assert spans[-1] == Span(len(t) - 4, len(t))
    assert t[spans[1].start : spans[1].end].count("😀") == 1


def test_unicode_offsets_are_code_point_offsets() -> None:
    t = "émoji 🎉🎉 test. Ünïcödé — dash. 中文句子。另一个句子。"
    spans = sentence_spans(t)
    assert texts(t, spans) == ["émoji 🎉🎉 test.", "Ünïcödé — dash.", "中文句子。", "另一个句子。"]
    assert spans[1].start == t.index("Ü")
    assert spans[3].end == len(t)


def test_surrounding_whitespace_is_trimmed() -> None:
    t = "   leading spaces.   trailing   \n\t"
    spans = sentence_spans(t)
    assert spans == [Span(3, 18), Span(21, 29)]
    assert texts(t, spans) == ["leading spaces.", "trailing"]


@pytest.mark.parametrize("t", ["", "   ", "\n\n", " \t\r\n \n"])
def test_empty_or_blank_text_has_no_spans(t: str) -> None:
    assert sentence_spans(t) == []
    assert chunk_spans(t) == []
    assert chunk_spans(t, 10) == []


def test_text_without_punctuation_is_one_sentence() -> None:
    t = "no punctuation at all just words"
    assert sentence_spans(t) == [Span(0, len(t))]
    assert chunk_spans(t) == [Span(0, len(t))]


def test_word_count() -> None:
    assert word_count("") == 0
    assert word_count("  one\ttwo\nthree  ") == 3
    assert word_count("don't — stop") == 3


# ---------------------------------------------------------------------------- chunks


def test_short_text_is_one_chunk() -> None:
    t = "Hello there. How are you? I'm fine!"
    assert chunk_spans(t) == [Span(0, len(t))]


def test_chunks_pack_whole_sentences_up_to_max_words() -> None:
    # Five sentences of 4 words each.
    sentences = [f"Sentence number {n} here." for n in ("one", "two", "three", "four", "five")]
    t = " ".join(sentences)
    chunks = chunk_spans(t, max_words=8)
    assert texts(t, chunks) == [
        "Sentence number one here. Sentence number two here.",
        "Sentence number three here. Sentence number four here.",
        "Sentence number five here.",
    ]
    assert texts(t, chunk_spans(t, max_words=12)) == [
        " ".join(sentences[:3]),
        " ".join(sentences[3:]),
    ]
    assert texts(t, chunk_spans(t, max_words=7)) == sentences
    assert chunk_spans(t, max_words=20) == [Span(0, len(t))]
    check_chunks(t, 8)


def test_a_single_long_sentence_is_its_own_chunk() -> None:
    long_sentence = " ".join(f"w{i}" for i in range(30)) + "."
    t = f"Short one. {long_sentence} Short two."
    chunks = chunk_spans(t, max_words=10)
    assert texts(t, chunks) == ["Short one.", long_sentence, "Short two."]
    assert word_count(chunks[1].of(t)) == 30
    check_chunks(t, 10)


def test_a_chunk_can_span_line_breaks_but_keeps_exact_text() -> None:
    t = "Line one\nLine two\n\nPara three. Sentence four."
    chunks = chunk_spans(t, max_words=5)
    assert texts(t, chunks) == ["Line one\nLine two", "Para three. Sentence four."]
    check_chunks(t, 5)


def test_chunks_with_emoji_and_quotes_map_back_exactly() -> None:
    t = (
        "She told me “don’t worry, I’ve got it.” 🙂 I believed her.\n"
        "Later — much later — I found out it wasn’t true 💔. "
        "I felt betrayed; I still do… Do I trust again? Maybe."
    )
    chunks = check_chunks(t, 10)
    assert "".join(texts(t, chunks)).replace(" ", "") == t.replace(" ", "").replace("\n", "")
    assert texts(t, chunks)[0] == "She told me “don’t worry, I’ve got it.” 🙂 I believed her."
    for c in chunks:
        assert t.find(c.of(t)) <= c.start


def test_default_max_words_is_90() -> None:
    sentence = "This sentence has exactly ten words in it, you see."
    assert word_count(sentence) == 10
    t = " ".join([sentence] * 20)
    chunks = chunk_spans(t)
    assert [word_count(c.of(t)) for c in chunks] == [90, 90, 20]
    check_chunks(t, 90)


_WORDS = [
    "trust", "I", "he", "said", "“quoted”", "‘single’", "Dr.", "Mr.", "e.g.", "3.5",
    "😀", "🎉🎉", "naïve", "café", "中文", "—", "...", "…", "(paren)", '"dq"', "U.S.",
    "a.m.", "well,", "ok!", "why?", "x", "don’t",
]  # fmt: skip
_SEPS = [" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n", "  ", ".\n", "\t", "\r\n", "… ", "\u2028"]


@pytest.mark.parametrize("seed", range(4))
def test_random_journal_text_obeys_every_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(60):
        n = rng.randint(0, 70)
        t = "".join(rng.choice(_WORDS) + rng.choice(_SEPS) for _ in range(n))
        if rng.random() < 0.3:
            t = "  \n" + t
        for max_words in (5, 12, 90):
            check_chunks(t, max_words)


# ------------------------------------------------------- fast path agrees with pysbd

_EDGE = [
    "Call me. I left.", "Call me. Then I left.", "Yum! That was good.", "Dr. Smith came. He left.",
    "It is. The end.", "That is. I know.", "Say no. I won't.", "Fine, no. I'm done.",
    "Fine, no. I'll go.", "Fine, no. Ivy came.", "Go to St. Louis. Then home.", "Word.  Next one.",
    "We met in Jan. It was cold.", "He said no. 5 times.", "Really? Yes! No. Maybe.",
    "My parents' house. Their car.", "Weird spacing . Here.", "Twice!! Really.", "What?! Yes.",
    "Hi. I. Am. Here.", "It is 3:30 now. Go.", "a lower start. Then more.", "Hmm... Okay.",
    "Art. I like it.", "vs. Them.", "Etc. Whatever.", "She said 'no. Never.' Then left.",
    "Co. KG it is. Fine.", "Ends with me.", "Ends with Yum!", "We--the two of us. Fine.",
]  # fmt: skip
_PROSE = [
    "I", "me", "my", "is", "no", "ok", "ill", "may", "Dr", "Mr", "Sam", "trust", "felt", "hurt",
    "I'm", "I'll", "didn't", "parents'", "don’t", "Yum", "St", "Jan", "it", "again", "3", "10:30",
    "well,", "so;", "half-true", "etc", "vs", "Then", "We", "Mum",
]  # fmt: skip
_PROSE_SEPS = [" ", " ", " ", " ", ". ", "! ", "? ", ".  ", ".\n", "\n\n", "!! ", " . "]


def _journal_texts() -> list[str]:
    from eval.bench_common import synthetic_entries

    root = ROOT / "examples"
    out = [e["text"] for e in synthetic_entries(300, 5)]
    out += [json.loads(line)["text"] for line in (root / "maya" / "journal.jsonl").open()]
    out += [p.read_text() for p in sorted((root / "theo").glob("*.md"))]
    return out


def test_fast_path_splits_real_journals_exactly_like_pysbd() -> None:
    journals = _journal_texts()
    for t in [*journals, *_EDGE]:
        assert sentence_spans(t) == sentence_spans(t, fast_path=False), t
    # The comparison means something only if the fast path does most of the work.
    blocks = [t[a:b] for t in journals for a, b in _blocks(t)]
    plain = sum(_plain_sentences(b) is not None for b in blocks)
    assert plain > 0.5 * len(blocks)


@pytest.mark.parametrize("seed", range(3))
def test_fast_path_agrees_with_pysbd_on_random_prose(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        t = "".join(rng.choice(_PROSE) + rng.choice(_PROSE_SEPS) for _ in range(rng.randint(1, 25)))
        assert sentence_spans(t) == sentence_spans(t, fast_path=False), t
