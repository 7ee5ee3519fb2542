"""Names out, placeholders in: what an LLM request says about the people in a journal.

Before a request leaves the process, every name on the person's people list (derived
from their own entries, editable through ``/v1/me/people``) is replaced, in the question
and in the evidence, by a placeholder ("Person A", "Person B", ...). The placeholders are
stable: a name gets the letter of its place in the person's sorted list, so the same
name is the same person in every request. The reply is mapped back before its quotes are
checked against the entries, so citations stay verbatim.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

# Capitalised words that are not names, even when a journal never writes them lowercase.
_NOT_NAMES = frozenset(
    """i i'm i've i'd i'll a an the my our we he she they it its this that these those then
    when what why how where who today tonight yesterday tomorrow and but so or if after
    before maybe still also just even now there here his her their me you your mum mom dad
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december christmas easter ok okay
    """.split()
)


class CapitalisedWords:
    """The counts behind ``capitalised_names``, added to one entry at a time, so that a
    new entry is counted without reading the journal again (``service.ask.people``)."""

    def __init__(self) -> None:
        self.caps: Counter[str] = Counter()
        self.mid: set[str] = set()
        self.lower: set[str] = set()

    def add(self, text: str) -> None:
        for m in re.finditer(r"(?<![\w'])([A-Za-z][a-z]+(?:'[a-z]+)?)\b", text):
            w = m.group(1)
            if w[0].islower():
                self.lower.add(w)
                continue
            self.caps[w] += 1
            before = text[: m.start()].rstrip()
            if before and before[-1] not in ".!?\"'“”:;\n":
                self.mid.add(w)

    def copy(self) -> CapitalisedWords:
        out = CapitalisedWords()
        out.caps, out.mid, out.lower = Counter(self.caps), set(self.mid), set(self.lower)
        return out

    def names(self) -> set[str]:
        return {
            w
            for w, n in self.caps.items()
            if w.lower() not in self.lower
            and w.lower() not in _NOT_NAMES
            and (n >= 2 or w in self.mid)
        }


def capitalised_names(texts: Iterable[str]) -> set[str]:
    """Words a journal only ever writes with a capital, seen mid-sentence or at least
    twice (names of people, and some places: editable through ``/v1/me/people``)."""
    words = CapitalisedWords()
    for t in texts:
        words.add(t)
    return words.names()


def _letters(i: int) -> str:
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = string.ascii_uppercase[r] + out
    return out


class Pseudonyms:
    """Placeholders for ``names`` (the people list: "Person A", ... by sorted name, the
    same in every request) and for any name found only in the ``outgoing`` texts
    themselves (a name in a question or a new entry that is not on the list yet; read as
    ``capitalised_names`` reads a journal): those take the letters after the list's."""

    def __init__(self, names: Sequence[str], outgoing: Iterable[str] = ()):
        listed = sorted({" ".join(n.split()).lower() for n in names if n.strip()})
        seen = set(listed)
        extra = sorted({n.lower() for n in capitalised_names(outgoing)} - seen)
        ordered = listed + extra
        self.placeholder = {n: f"Person {_letters(i)}" for i, n in enumerate(ordered)}
        self.surface: dict[str, str] = {}  # placeholder -> the name as it was written
        longest = sorted(ordered, key=len, reverse=True)
        self._names = (
            re.compile(
                r"(?<![\w])("
                + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in longest)
                + r")(?![\w])",
                re.IGNORECASE,
            )
            if longest
            else None
        )
        self._back: re.Pattern[str] | None = None

    def hide(self, text: str) -> str:
        if self._names is None:
            return text

        def sub(m: re.Match[str]) -> str:
            written = m.group(1)
            p = self.placeholder[" ".join(written.split()).lower()]
            self.surface.setdefault(p, written)
            return p

        return self._names.sub(sub, text)

    def restore(self, text: str) -> str:
        if not self.surface:
            return text
        if self._back is None:
            ps = sorted(self.surface, key=len, reverse=True)
            self._back = re.compile(r"\b(" + "|".join(re.escape(p) for p in ps) + r")\b")
        return self._back.sub(lambda m: self.surface[m.group(1)], text)
