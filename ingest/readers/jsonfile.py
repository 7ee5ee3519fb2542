"""``.json`` files: a JSON array of entry objects, or a Day One ``Journal.json``.

Both are common, and a person should not have to know which one they have, so
the reader looks at the document's shape. Unlike JSON Lines, a syntax error
anywhere makes the whole document unreadable, so it is a file error.
"""

from __future__ import annotations

from pathlib import Path

from ingest.readers import dayone
from ingest.readers.files import FileProblem, parse_json, read_text
from ingest.readers.jsonl import add_item
from ingest.readers.validate import EntryCollector, file_error, kind
from ingest.records import FileRead

EXPORT_FORMAT = "trustlens-export"
"""The ``format`` of a ``GET /v1/export`` document; its ``entries`` are plain entry objects."""


def read_json(path: Path, name: str) -> FileRead:
    """Read a JSON array (sources ``name:item``) or Day One export (sources ``name:entry``)."""
    try:
        data = parse_json(read_text(path))
    except (FileProblem, ValueError) as problem:
        return file_error(str(path), str(problem))
    collector = EntryCollector(str(path))
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT:
        # Checked before Day One: an export also has an "entries" list, of plain objects.
        items = data.get("entries")
        if not isinstance(items, list):
            return file_error(str(path), 'a trustlens export without an "entries" list')
        for number, item in enumerate(items, start=1):
            add_item(collector, f"{name}:{number}", item)
    elif dayone.is_dayone(data):
        assert isinstance(data, dict)
        dayone.add_entries(data, collector, f"{name}:")
    elif isinstance(data, list):
        for number, item in enumerate(data, start=1):
            add_item(collector, f"{name}:{number}", item)
    else:
        got = 'an object without an "entries" list' if isinstance(data, dict) else kind(data)
        return file_error(
            str(path),
            "expected a JSON array of entries or a Day One export "
            f'({{"entries": [...]}}), got {got}',
        )
    return collector.result
