"""JSON Lines (``.jsonl`` / ``.ndjson``): one ``{"id"?, "date", "text", "tags"?}`` per line.

This is the format we recommend for scripted exports because one broken line
costs one entry: each line is parsed on its own, a malformed one becomes a
rejection naming its line number, and the lines around it still load.
"""

from __future__ import annotations

from pathlib import Path

from ingest.readers.files import FileProblem, parse_json, read_text
from ingest.readers.validate import EntryCollector, file_error, kind
from ingest.records import FileRead


def add_item(collector: EntryCollector, source: str, item: object) -> None:
    """Validate one ``{"id"?, "date", "text", "tags"?}`` object (shared with JSON arrays).

    Other keys are ignored so exports from other tools with extra fields still load.
    """
    if not isinstance(item, dict):
        collector.reject(source, f"expected a JSON object, got {kind(item)}")
        return
    collector.add(
        source,
        text=item.get("text"),
        date=item.get("date"),
        id=item.get("id"),
        tags=item.get("tags"),
    )


def read_jsonl(path: Path, name: str) -> FileRead:
    """Read a JSON Lines file; sources are ``name:line`` (1-based, blank lines counted)."""
    try:
        text = read_text(path)
    except FileProblem as problem:
        return file_error(str(path), str(problem))
    collector = EntryCollector(str(path))
    # Split on "\n" only: str.splitlines() would also split on U+2028 and other
    # separators that are legal inside a JSON string, breaking valid lines apart.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        source = f"{name}:{number}"
        try:
            item = parse_json(line, with_line=False)
        except ValueError as problem:
            collector.reject(source, str(problem))
            continue
        add_item(collector, source, item)
    return collector.result
