"""Sentence-aware chunking with character offsets.

Chunks are spans of the entry text, never rewritten copies, so any quote taken from a
chunk maps back to the exact characters the person wrote. Sentences are never cut:
a chunk is a run of whole sentences up to ``max_words`` (a single longer sentence is
a chunk of its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

_WORD = re.compile(r"\S+")


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


def sentence_spans(text: str) -> list[Span]:
    """Sentences of ``text`` as trimmed character spans, in order."""
    spans: list[Span] = []
    seg = _segmenter()
    for b_start, b_end in _blocks(text):
        block = text[b_start:b_end]
        cursor = 0
        for s in seg.segment(block):
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
