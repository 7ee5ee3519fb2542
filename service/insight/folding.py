"""Case folding for a cheap pre-filter before a case-blind pattern.

A question about one person or one event runs a case-blind pattern over every entry;
on a journal of 20k entries that was most of the answer. ``fold`` once per entry (kept
per entry version by ``service.insight.journal.Journals``) and a plain substring test
(``may_contain``) drop the entries the pattern cannot match, exactly: the pattern still
decides for the rest.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping

# The only characters outside ASCII that a case-blind ``re`` pattern of ASCII letters
# matches (found by trying every code point): mapped to the letter they match.
_FOLD_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def fold(text: str) -> str:
    """``text`` lower-cased so that an ASCII word a case-blind ``re`` pattern finds in
    ``text`` is a plain substring of the result (``may_contain``)."""
    return (text if text.isascii() else text.translate(_FOLD_TO_ASCII)).lower()


def may_contain(folded: str, words: tuple[str, ...]) -> bool:
    """False only when no case-blind match of any of ``words`` can be in the text that
    ``folded`` was made from; words that are not plain ASCII always pass."""
    return any(not w.isascii() or w.lower() in folded for w in words)


def word_start(literal: str) -> str:
    """A pattern for ``literal`` only where a word starts (no word character before it).

    The same as ``(?<!\\w)literal``, but the check comes after the literal: ``re`` finds
    a pattern that opens with a literal by a fast substring scan, and one that opens with
    a look-behind or ``\\b`` by trying every position (on the folded text of 4,486
    entries naming one person: 8 ms against 41 ms)."""
    lit = re.escape(literal)
    return rf"{lit}(?<!\w{lit})"


# Between two texts in ``FoldedTexts``' one string: no word searched for contains it.
_SEP = "\x00"


class FoldedTexts:
    """Many folded texts as one string, for ``mentioning``: one ``str.find`` pass over
    the whole journal instead of a test per entry (20k tests in Python were 0.2 s)."""

    def __init__(self, folded: Mapping[str, str]):
        self.ids = list(folded)
        self.starts: list[int] = []
        at = 0
        for t in folded.values():
            self.starts.append(at)
            at += len(t) + len(_SEP)
        self.blob = _SEP.join(folded.values())

    def mentioning(self, words: tuple[str, ...]) -> set[str] | None:
        """The ids whose text may contain any of ``words`` in any case (exactly those
        ``may_contain`` passes), or None when that cannot be told here (a word that is
        not plain ASCII, an empty word, or one holding the separator)."""
        if any(not w or not w.isascii() or _SEP in w for w in words):
            return None
        out: set[str] = set()
        for w in {w.lower() for w in words}:
            i = self.blob.find(w)
            while i != -1:
                k = bisect.bisect_right(self.starts, i) - 1
                out.add(self.ids[k])
                nxt = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.blob)
                i = self.blob.find(w, nxt)  # the next text: one hit per text is enough
        return out
