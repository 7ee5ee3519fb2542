"""Plain records passed between readers, the store and the import report.

Readers never touch the store: they turn files into ``RawEntry`` values (or
``Rejected`` items that say why), so that every format is validated the same way
and a bad item never stops the rest of an import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawEntry:
    """One journal entry as read from a file, before it is stored."""

    text: str
    date: dt.date
    id: str | None = None
    tags: tuple[str, ...] = ()
    source: str = ""  # where it came from, e.g. "journal.jsonl:3"


@dataclass(frozen=True)
class Rejected:
    """An item that could not become an entry, and why (shown to the person)."""

    source: str
    reason: str


@dataclass
class FileRead:
    """Everything one file yielded: entries, rejected items, or a whole-file error."""

    path: str
    entries: list[RawEntry] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    error: str | None = None
