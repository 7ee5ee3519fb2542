"""Loading a file's bytes as text, with every failure turned into a readable message.

All readers go through here so that "file not found", "permission denied" and
"not UTF-8" read the same whatever the format, and so that no reader lets an
``OSError`` or ``UnicodeDecodeError`` escape into the import.
"""

from __future__ import annotations

import json
from pathlib import Path

MAX_FILE_BYTES = 256 * 1024 * 1024
"""Refuse files larger than this instead of reading them into memory: a journal
export of this size is far beyond anything real, so it is most likely the wrong file."""

NOT_UTF8 = "not UTF-8 text (is this a binary file?)"


class FileProblem(Exception):
    """A reason the whole file cannot be read; ``str(problem)`` is shown to the person."""


def decode(data: bytes) -> str:
    """Decode UTF-8 (a leading byte-order mark, as Excel writes, is dropped).

    NUL bytes are treated as binary too: they never occur in a text journal, and
    UTF-16 files (mostly NULs for ASCII text) would otherwise decode into garbage.
    """
    if b"\x00" in data:
        raise FileProblem(NOT_UTF8)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(NOT_UTF8) from None


def read_text(path: Path) -> str:
    """Return the file's text or raise ``FileProblem`` saying why it can't be read."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise FileProblem(
                f"file is too large ({size / 1024 / 1024:,.0f} MiB; "
                f"the limit is {MAX_FILE_BYTES // 1024 // 1024} MiB)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileProblem("file not found") from None
    except PermissionError:
        raise FileProblem("permission denied") from None
    except IsADirectoryError:
        raise FileProblem("is a directory, not a file") from None
    except OSError as exc:
        raise FileProblem(f"could not read file: {exc.strerror or exc}") from None
    return decode(data)


def parse_json(text: str, *, with_line: bool = True) -> object:
    """``json.loads`` that reports every failure as ``ValueError("invalid JSON: ...")``.

    The position helps the person find the typo; one-line items (JSON Lines) only
    need the column. ``json`` raises ``RecursionError`` on absurdly nested input,
    which must not crash an import any more than a missing comma does.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if with_line else f"column {exc.colno}"
        # Some messages already end in "at" ("Unterminated string starting at"): no "at at".
        raise ValueError(f"invalid JSON: {exc.msg.removesuffix(' at')} at {where}") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
