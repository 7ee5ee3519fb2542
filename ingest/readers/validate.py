"""The one place where raw values from any journal format become a ``RawEntry``.

Every reader (JSON Lines, JSON, Day One, Markdown, CSV) only finds the text,
date, id and tags of each item and hands them to ``EntryCollector.add``. Keeping
the rules here means a date, id or tag is accepted or refused for the same
reason whatever file it came from, and the person sees the same wording in the
import report.

Checks report the first problem they find with an item: the reason is shown to
a person, and one clear sentence is easier to act on than a list.
"""

from __future__ import annotations

import datetime as dt
import re

from ingest.records import FileRead, RawEntry, Rejected

MAX_TEXT_CHARS = 100_000
"""Longest entry accepted. Larger items are almost always a pasted file or a
broken export, and would drown out real entries when chunked and retrieved."""

MAX_ID_CHARS = 128
"""Ids are shown in reports and used as store keys; a longer one is a mistake."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME_START = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")
_LEADING_BLANK_LINES = re.compile(r"\A(?:[^\S\n]*\n)+")


class Invalid(ValueError):
    """A value that cannot be used; ``reason`` is the sentence shown to the person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def shown(value: object, limit: int = 40) -> str:
    """A value as it appears inside a reason, cut short so one bad cell can't flood a report."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind(value: object) -> str:
    """Name a value's type in words a person who wrote JSON/YAML/CSV recognises."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, dt.date):
        return "a date"
    return type(value).__name__


def strip_blank_lines(text: str) -> str:
    """Drop blank lines at the start and whitespace at the end, nothing else.

    Indentation of the first line and all interior spacing are kept: they can
    carry meaning (a poem, a quoted message, a code block), and the text we store
    must be exactly what the person wrote.
    """
    return _LEADING_BLANK_LINES.sub("", text).rstrip()


def unstorable(value: str) -> str | None:
    """Why a string cannot be stored the same way on every store, or None.

    PostgreSQL refuses NUL (U+0000) in text, and an unpaired surrogate (possible in JSON
    as "\\ud800") cannot be encoded as UTF-8 at all; SQLite would keep the first and fail
    on the second. Refusing both here gives one clear answer on every store."""
    if "\x00" in value:
        return "contains a NUL character (U+0000), which cannot be stored"
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "contains an unpaired surrogate (not valid Unicode text)"
    return None


def check_text(value: object) -> str:
    """Return the entry text, or raise ``Invalid`` if there is nothing to store."""
    if value is None:
        raise Invalid("empty text")
    if not isinstance(value, str):
        raise Invalid("text must be a string")
    why = unstorable(value)
    if why:
        raise Invalid(f"text {why}")
    text = strip_blank_lines(value)
    if not text:
        raise Invalid("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise Invalid(
            f"text is too long ({len(text):,} characters; the limit is {MAX_TEXT_CHARS:,})"
        )
    return text


def check_date(value: object) -> dt.date:
    """Accept ``YYYY-MM-DD`` or an ISO date-time (its calendar date, as written).

    The date of a date-time is taken in the offset it was written with, not
    converted to UTC: "2024-01-02T23:30+05:00" was written on the 2nd where the
    writer was. YAML front matter already gives ``date``/``datetime`` objects.
    Other spellings (``02/01/2024``, ``20240102``) are refused rather than
    guessed, because a wrong guess silently moves an entry in time.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid("missing date")
    bad = Invalid(f"bad date '{shown(value)}': expected YYYY-MM-DD")
    if not isinstance(value, str):
        raise bad
    text = value.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text)
        if _ISO_DATETIME_START.match(text):
            return dt.datetime.fromisoformat(text).date()
    except ValueError:
        raise bad from None
    raise bad


def check_id(value: object) -> str | None:
    """An optional id: a non-empty string or an integer, at most ``MAX_ID_CHARS``.

    Ids let a re-import recognise entries it has already stored, so a blank or
    oversized one is refused instead of quietly replaced by a made-up id.
    Surrounding whitespace is dropped so ``" a1 "`` and ``"a1"`` are the same id.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid(f"id must be a string or an integer, got {kind(value)}")
    ident = str(value).strip()
    if not ident:
        raise Invalid("id must not be empty")
    # An id names the entry in routes (/v1/entries/{id}): a "/" would make it unreachable.
    if "/" in ident:
        raise Invalid("id must not contain '/'")
    why = unstorable(ident)
    if why:
        raise Invalid(f"id {why}")
    if len(ident) > MAX_ID_CHARS:
        raise Invalid(f"id is too long ({len(ident)} characters; the limit is {MAX_ID_CHARS})")
    return ident


def check_tags(value: object) -> tuple[str, ...]:
    """Tags as a list of strings or one comma-separated string, normalised.

    Each tag is stripped, empty ones are dropped and repeats removed (first one
    wins), so ``"trust, , family,trust"`` becomes ``("trust", "family")``.
    """
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split(","))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise Invalid(
            f"tags must be a list of strings or a comma-separated string, got {kind(value)}"
        )
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise Invalid(f"tags must be strings, got {kind(item)} ({shown(item)})")
        tag = item.strip()
        why = unstorable(tag)
        if why:
            raise Invalid(f"a tag {why}")
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


class EntryCollector:
    """Builds one file's ``FileRead``: validates each item and records entries or rejections.

    It also remembers the ids seen in this file, because two items with the same
    id in one file means one of them would overwrite the other in the store.
    """

    def __init__(self, path: str) -> None:
        self.result = FileRead(path=path)
        self._seen_ids: set[str] = set()

    def add(
        self,
        source: str,
        *,
        text: object,
        date: object,
        id: object = None,
        tags: object = None,
    ) -> RawEntry | None:
        """Validate one item; keep it as an entry or record why it was rejected."""
        try:
            entry = RawEntry(
                text=check_text(text),
                date=check_date(date),
                id=check_id(id),
                tags=check_tags(tags),
                source=source,
            )
        except Invalid as problem:
            self.reject(source, problem.reason)
            return None
        if entry.id is not None:
            if entry.id in self._seen_ids:
                self.reject(source, f"duplicate id '{entry.id}' in this file")
                return None
            self._seen_ids.add(entry.id)
        self.result.entries.append(entry)
        return entry

    def reject(self, source: str, reason: str) -> None:
        """Record an item that could not become an entry."""
        self.result.rejected.append(Rejected(source=source, reason=reason))


def file_error(path: str, message: str) -> FileRead:
    """A whole-file failure: no entries, one message saying what is wrong with the file."""
    return FileRead(path=path, error=message)
