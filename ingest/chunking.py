"""Sentence-aware chunking with character offsets.

Chunks are spans of the entry text, never rewritten copies, so any quote taken from a
chunk maps back to the exact characters the person wrote. Sentences are never cut:
a chunk is a run of whole sentences up to ``max_words`` (a single longer sentence is
a chunk of its own).

Sentence splitting is pysbd's (abbreviations, numbers, quotes, lists), but pysbd costs
about a millisecond per block, as much as a tenth of the model's time on an import. Most
journal lines are plain prose, where the answer is not in doubt: every ``.``, ``!`` or
``?`` ends a lowercase word that is not one of pysbd's abbreviations and is followed by
a capital letter or the end of the line, with no quotes, brackets, digits or list
markers around. Such a block is split directly with a regular expression; any other
block goes to pysbd. ``tests/test_chunking.py`` checks that both agree on real text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd
from pysbd.exclamation_words import ExclamationWords
from pysbd.lang.english import English

_WORD = re.compile(r"\S+")

# Words pysbd may read as abbreviations. Before a capital letter it keeps the period
# of a prepositive one ("Dr. Smith") and of any other one before "I", "I'm", "I'll"
# ("call me. I left" stays one sentence): such a terminator sends the block to pysbd.
_PREPOSITIVE = frozenset(w.lower() for w in English.Abbreviation.PREPOSITIVE_ABBREVIATIONS)
_ABBREVIATIONS = frozenset(
    w.lower()
    for w in (
        *English.Abbreviation.ABBREVIATIONS,
        *English.Abbreviation.NUMBER_ABBREVIATIONS,
    )
)
# "Yum!" and the like never end a sentence for pysbd.
_EXCLAMATION_WORDS = frozenset(
    w.strip("!").lower() for w in ExclamationWords.EXCLAMATION_WORDS if w.endswith("!")
)
_PRONOUN_I = re.compile(r"I(?![A-Za-z])")
# A plain block: starts with a letter, no character pysbd has a rule for except
# terminators, and an apostrophe only after a letter ("didn't", "parents'", never an
# opening 'quote'); no "--" (pysbd's em dash).
_PLAIN = re.compile(r"[A-Za-z](?:[A-Za-z0-9 ,;:\-]|(?<=[A-Za-z])['\u2019]|[.!?])*")
# A terminator that can only end a sentence: after two lowercase letters, followed by
# spaces and a capital letter, or by the end of the block.
_TERMINATOR = re.compile(r"[.!?]")
_CLEAR_END = re.compile(r"(?<=[a-z]{2})[.!?](?: +(?=[A-Z])| *$)")
_LAST_WORD = re.compile(r"[A-Za-z']+$")


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start : self.end]


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    # No char_span: pysbd would locate every sentence again with a fresh regex (a
    # compile per sentence) only for us to discard the offsets, which drift anyway.
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs and lines: a line break in a journal is always a sentence break."""
    out = []
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            out.append((pos, pos + len(line)))
        pos += len(line)
    return out


def _plain_sentences(block: str) -> list[tuple[int, int]] | None:
    """Sentence offsets of a plain-prose block, or None when pysbd must decide."""
    body = block.rstrip()
    if not _PLAIN.fullmatch(body) or "--" in body:
        return None
    out = []
    start = 0
    ends = list(_CLEAR_END.finditer(body))
    if len(ends) != len(_TERMINATOR.findall(body)):
        return None  # a terminator pysbd might not split on (or might, differently)
    for m in ends:
        word = _LAST_WORD.search(body, start, m.start())
        if word is None:
            return None
        w = word.group().lower()
        if w in _PREPOSITIVE or w in _EXCLAMATION_WORDS:
            return None
        if w in _ABBREVIATIONS and _PRONOUN_I.match(body, m.end()):
            return None
        out.append((start, m.start() + 1))
        start = m.end()
    if start < len(body):
        out.append((start, len(body)))
    return out


def _pysbd_sentences(block: str) -> list[str]:
    # The processor alone: ``Segmenter.segment`` then re-finds every sentence with a
    # freshly compiled regex for offsets we compute (and trust) ourselves.
    seg = _segmenter()
    return list(seg.processor(block).process())


def sentence_spans(text: str, *, fast_path: bool = True) -> list[Span]:
    """Sentences of ``text`` as trimmed character spans, in order.

    ``fast_path=False`` sends every block to pysbd (the reference the tests compare with).
    """
    spans: list[Span] = []
    for b_start, b_end in _blocks(text):
        block = text[b_start:b_end]
        plain = _plain_sentences(block) if fast_path else None
        if plain is not None:
            for s_start, s_end in plain:
                span = _trim(text, b_start + s_start, b_start + s_end)
                if span:
                    spans.append(span)
            continue
        cursor = 0
        for s in _pysbd_sentences(block):
            # Offsets come from re-finding each sentence from the cursor.
            idx = block.find(s, cursor)
            if idx < 0:
                idx = block.find(s.strip(), cursor)
                s = s.strip()
            if idx < 0:
                continue
            span = _trim(text, b_start + idx, b_start + idx + len(s))
            cursor = idx + len(s)
            if span:
                spans.append(span)
        # Text pysbd did not return (rare) stays reachable as its own sentence.
        if cursor < len(block):
            rest = _trim(text, b_start + cursor, b_end)
            if rest and (not spans or spans[-1].end <= rest.start):
                spans.append(rest)
    return spans


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def chunk_spans(text: str, max_words: int = 90) -> list[Span]:
    """Pack whole sentences into spans of at most ``max_words`` words."""
    chunks: list[Span] = []
    cur_start: int | None = None
    cur_end = 0
    cur_words = 0
    for s in sentence_spans(text):
        n = word_count(s.of(text))
        if cur_start is not None and cur_words + n > max_words:
            chunks.append(Span(cur_start, cur_end))
            cur_start = None
            cur_words = 0
        if cur_start is None:
            cur_start = s.start
        cur_end = s.end
        cur_words += n
    if cur_start is not None:
        chunks.append(Span(cur_start, cur_end))
    return chunks
