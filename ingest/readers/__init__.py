"""Journal readers: turn a file or folder into ``FileRead`` results, never raising.

``read_path`` is the only entry point the rest of trustlens uses. It picks a
reader by file extension (or, for a folder, by what the folder looks like) and
returns one ``FileRead`` per file read, so the import report can say, file by
file, what was loaded, what was rejected and why. Every reader validates items
through ``validate.EntryCollector``, so the rules are the same for every format.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ingest.readers.csv_reader import read_csv
from ingest.readers.dayone import is_dayone, read_zip
from ingest.readers.files import FileProblem, parse_json, read_text
from ingest.readers.jsonfile import read_json
from ingest.readers.jsonl import read_jsonl
from ingest.readers.markdown import read_markdown
from ingest.readers.validate import file_error
from ingest.records import FileRead

__all__ = ["FORMATS", "SUPPORTED", "Format", "read_path"]

Reader = Callable[[Path, str], FileRead]


class Format(NamedTuple):
    """One supported format: its file extensions and a line to show the person."""

    extensions: tuple[str, ...]
    description: str


FORMATS: tuple[Format, ...] = (
    Format((".jsonl", ".ndjson"), 'JSON Lines: one {"id"?, "date", "text", "tags"?} per line'),
    Format((".json",), "JSON array of entry objects, or a Day One export (Journal.json)"),
    Format((".zip",), "Day One export zip"),
    Format((".md", ".markdown", ".txt"), "one entry per file; date from front matter or name"),
    Format((".csv",), "CSV with date and text columns (optional id, tags)"),
)

SUPPORTED: tuple[str, ...] = tuple(ext for fmt in FORMATS for ext in fmt.extensions)
"""Every file extension ``read_path`` accepts, e.g. for help text and error messages."""

_READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json,
    ".zip": read_zip,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_markdown,
    ".csv": read_csv,
}
assert set(_READERS) == set(SUPPORTED)


def read_path(path: str | Path) -> list[FileRead]:
    """Read a journal file or a folder of them; problems are reported, never raised.

    A folder that holds a Day One ``Journal.json`` (any top-level ``*.json`` with
    an ``"entries"`` list) is read as a Day One export; any other folder is read
    file by file, recursively, in sorted order, skipping hidden files and
    folders and files of unsupported types (photos and the like are normal
    there). Sources in a folder are paths relative to it, e.g. ``notes/2024-01-02.md``.
    """
    root = Path(path).expanduser()
    try:
        is_dir = root.is_dir()
        exists = is_dir or root.exists()
    except OSError as exc:  # e.g. a path too long for the OS
        return [file_error(str(root), f"could not read path: {exc}")]
    if not exists:
        return [file_error(str(root), "file not found")]
    if not is_dir:
        return [_read_file(root, root.name)]
    files = _dayone_journals(root) or _journal_files(root)
    if not files:
        return [
            file_error(
                str(root),
                f"no journal files found in this folder (looked for {', '.join(SUPPORTED)})",
            )
        ]
    return [_read_file(file, file.relative_to(root).as_posix()) for file in files]


def _read_file(path: Path, name: str) -> FileRead:
    """Dispatch one file by extension; ``name`` is how sources refer to it."""
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        kind = f"'{suffix}'" if suffix else "(no extension)"
        return file_error(
            str(path), f"unsupported file type {kind} (supported: {', '.join(SUPPORTED)})"
        )
    if not path.is_file():
        # Never open FIFOs, devices or sockets: reading one could block forever.
        return file_error(str(path), "not a regular file")
    try:
        return reader(path, name)
    except Exception as exc:
        # Last line of defence: readers handle bad input themselves, but an
        # unforeseen failure on one file must not abort the whole import.
        return file_error(str(path), f"could not read file ({type(exc).__name__}: {exc})")


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _dayone_journals(root: Path) -> list[Path]:
    """Top-level ``*.json`` files in ``root`` that are Day One journals (empty if none)."""
    journals = []
    for file in sorted(root.glob("*.json")):
        if _hidden(file.name) or not file.is_file():
            continue
        try:
            if is_dayone(parse_json(read_text(file))):
                journals.append(file)
        except (FileProblem, ValueError):
            continue  # not a Day One journal; read as a plain file if the folder isn't one
    return journals


def _journal_files(root: Path) -> list[Path]:
    """Supported, non-hidden regular files under ``root``, sorted by relative path."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [sub for sub in subfolders if not _hidden(sub)]
        for name in names:
            file = Path(folder, name)
            if not _hidden(name) and file.suffix.lower() in _READERS and file.is_file():
                found.append(file)
    return sorted(found, key=lambda file: file.relative_to(root).as_posix())
