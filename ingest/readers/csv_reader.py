"""CSV files, usually from a spreadsheet: ``date`` and ``text`` columns, optional ``id``/``tags``.

Header names are matched case-insensitively and in any order, because people
rename and reorder spreadsheet columns. The file is parsed with the ``csv``
module, so quoted cells may contain commas and line breaks.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from ingest.readers.files import FileProblem, read_text
from ingest.readers.validate import EntryCollector, file_error
from ingest.records import FileRead

REQUIRED = ("date", "text")
OPTIONAL = ("id", "tags")
_TAG_SEPARATOR = re.compile(r"[,;]")


def _cell(row: list[str], column: int | None) -> str | None:
    """A cell's value; an empty or missing cell counts as absent (an optional column left blank)."""
    if column is None or column >= len(row) or not row[column].strip():
        return None
    return row[column]


def read_csv(path: Path, name: str) -> FileRead:
    """Read a CSV journal; sources are ``name:line`` where the row starts (header is line 1).

    A row with more cells than the header is rejected rather than truncated: it
    almost always means a comma in unquoted text, and dropping the rest of the
    text silently would store half an entry.
    """
    try:
        text = read_text(path)
    except FileProblem as problem:
        return file_error(str(path), str(problem))
    # newline="" keeps line breaks inside quoted cells intact, as csv requires.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return file_error(str(path), f"could not parse CSV header: {exc}")
    if header is None:
        return file_error(str(path), "empty CSV file (expected a header row with date and text)")
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        if key in REQUIRED + OPTIONAL and key not in columns:
            columns[key] = index
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        found = ", ".join(title.strip() for title in header if title.strip()) or "none"
        return file_error(
            str(path),
            f"CSV is missing required column{'s' if len(missing) > 1 else ''} "
            f"{' and '.join(missing)} (found: {found})",
        )

    collector = EntryCollector(str(path))
    line = reader.line_num + 1  # where the next row starts
    while True:
        source = f"{name}:{line}"
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader drops the rest of the offending line and carries on
            # with the next one, so one oversized or garbled row costs one row.
            collector.reject(source, f"could not parse this CSV row: {exc}")
            line = reader.line_num + 1
            continue
        line = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) > len(header):
            collector.reject(
                source,
                f"row has {len(row)} cells but the header has {len(header)} "
                "(is there an unquoted comma in the text?)",
            )
            continue
        tags = _cell(row, columns.get("tags"))
        collector.add(
            source,
            text=_cell(row, columns["text"]),
            date=_cell(row, columns["date"]),
            id=_cell(row, columns.get("id")),
            tags=_TAG_SEPARATOR.split(tags) if tags is not None else None,
        )
    return collector.result
