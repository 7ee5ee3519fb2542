"""Markdown and plain-text files (``.md``, ``.markdown``, ``.txt``): one entry per file.

Many people keep a folder of notes, one per day, written in an editor such as
Obsidian. The entry's date comes from, in order of trust:

1. ``date:`` in YAML front matter: the person wrote it down on purpose;
2. a ``YYYY-MM-DD`` in the file name (``2024-01-02.md``, ``journal 2024-01-02.txt``);
3. the file's modification time (local date): a last resort, since copying or
   syncing files can change it, but better than refusing an undated note.

A date that is *present but wrong* (``date: next tuesday``, ``2024-02-30.md``)
is rejected rather than skipped in favour of the next source, so a typo is
reported instead of silently filing the entry under the day it was copied.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml
from frontmatter.default_handlers import YAMLHandler

from ingest.readers.files import FileProblem, read_text
from ingest.readers.validate import EntryCollector, file_error, shown, strip_blank_lines
from ingest.records import FileRead

_DATE_IN_NAME = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
_YAML = YAMLHandler()


class _BadFrontMatter(Exception):
    """Front matter that starts like YAML but can't be parsed."""


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Return ``(metadata, body)``; the body is the text after front matter, unchanged.

    python-frontmatter finds and parses the YAML block, but we call its YAML
    handler directly instead of ``frontmatter.loads`` because ``loads`` strips
    the body (losing the first line's indentation) and also treats a file that
    starts with a lone ``{`` line as JSON front matter. Only YAML front matter
    is supported here. A ``---`` block that parses to something other than
    key/value pairs (a text file opening with a horizontal rule) is kept as text.
    """
    start = strip_blank_lines(text)
    if not _YAML.detect(start):
        return {}, text
    try:
        raw, body = _YAML.split(start)
    except ValueError:  # an opening "---" with no closing one: not front matter
        return {}, text
    try:
        meta = _YAML.load(raw)
    except yaml.YAMLError as exc:
        raise _BadFrontMatter(_first_line(exc)) from None
    if meta is None:  # an empty block, "---\n---"
        return {}, body
    if not isinstance(meta, dict):
        return {}, text
    # Keys are matched case-insensitively: "Date:" ignored would mean a silently wrong date.
    return {str(key).lower(): value for key, value in meta.items()}, body


def _first_line(exc: yaml.YAMLError) -> str:
    """PyYAML messages span several lines with a caret drawing; keep the gist."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def _fallback_date(path: Path) -> object:
    """Date from the file name if it has one, else the local date of its modification time."""
    match = _DATE_IN_NAME.search(path.name)
    if match:
        return match.group()  # validated (and, if impossible, rejected) by the collector
    try:
        return dt.date.fromtimestamp(path.stat().st_mtime)
    except (OSError, OverflowError, ValueError):
        return None  # rejected as "missing date"


def read_markdown(path: Path, name: str) -> FileRead:
    """Read one note; its source is ``name`` and its id defaults to the file name stem."""
    try:
        text = read_text(path)
    except FileProblem as problem:
        return file_error(str(path), str(problem))
    collector = EntryCollector(str(path))
    try:
        meta, body = split_front_matter(text)
    except _BadFrontMatter as problem:
        collector.reject(name, f"invalid front matter: {shown(problem, 120)}")
        return collector.result
    date = meta.get("date")
    ident = meta.get("id")
    collector.add(
        name,
        text=body,
        date=date if date is not None else _fallback_date(path),
        id=ident if ident is not None else path.stem,
        tags=meta.get("tags"),
    )
    return collector.result
