"""Day One exports: ``Journal.json`` (``{"metadata": ..., "entries": [...]}``), alone or zipped.

Day One is the most common journaling app people export from, and its JSON
differs from our plain format in three ways handled here:

* the id is ``uuid`` and the date is ``creationDate``, a UTC timestamp;
* the day an entry belongs to is the day *where it was written*, so the
  timestamp is converted to the entry's ``timeZone`` before taking the date
  (an entry written at 23:30 in New York is stored in UTC as the next day);
* ``text`` is Markdown in which Day One backslash-escapes punctuation
  (``\\.``, ``\\!``, ``\\-``); left in, those backslashes would end up in the
  stored text, in embeddings and in quotes shown back to the person.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.readers.files import MAX_FILE_BYTES, FileProblem, decode, parse_json
from ingest.readers.validate import EntryCollector, Invalid, check_date, file_error, kind
from ingest.records import FileRead

# The characters CommonMark lets a backslash escape; "\\\\" (an escaped backslash)
# is among them, so "\\\\." comes out as a literal backslash followed by a dot.
_MARKDOWN_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")


def is_dayone(data: object) -> bool:
    """A Day One export is a JSON object whose ``entries`` is a list."""
    return isinstance(data, dict) and isinstance(data.get("entries"), list)


def unescape(text: str) -> str:
    """Undo Day One's Markdown backslash escapes; other backslashes are kept."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)


def _zone(name: object) -> ZoneInfo | None:
    """The entry's time zone, or ``None`` when absent or unknown.

    An unknown zone name is not a reason to drop an entry: the UTC date is at
    most one day off, which is better than losing what the person wrote.
    """
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def local_date(created: object, time_zone: object) -> object:
    """The calendar date of ``creationDate`` in ``timeZone``.

    Values the shared date check would refuse are returned unchanged so that
    ``EntryCollector`` rejects them with the same reason as every other format.
    A bare ``YYYY-MM-DD`` is already a calendar date and is not shifted.
    """
    try:
        plain = check_date(created)
    except Invalid:
        return created
    if not isinstance(created, str) or len(created.strip()) == len("YYYY-MM-DD"):
        return plain
    moment = dt.datetime.fromisoformat(created.strip())  # accepted by check_date above
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # Day One writes timestamps in UTC
    zone = _zone(time_zone)
    return (moment.astimezone(zone) if zone else moment).date()


def add_entries(data: dict[str, object], collector: EntryCollector, prefix: str) -> None:
    """Validate each item of ``data["entries"]``; sources are ``prefix`` + item number."""
    items = data.get("entries")
    assert isinstance(items, list)
    for number, item in enumerate(items, start=1):
        source = f"{prefix}{number}"
        if not isinstance(item, dict):
            collector.reject(source, f"expected a JSON object, got {kind(item)}")
            continue
        text = item.get("text")
        collector.add(
            source,
            text=unescape(text) if isinstance(text, str) else text,
            date=local_date(item.get("creationDate"), item.get("timeZone")),
            id=item.get("uuid"),
            tags=item.get("tags"),
        )


def _is_journal_member(info: zipfile.ZipInfo) -> bool:
    """JSON files in the zip, minus macOS resource forks and hidden files."""
    parts = PurePosixPath(info.filename).parts
    return (
        not info.is_dir()
        and info.filename.lower().endswith(".json")
        and not any(part.startswith(".") or part == "__MACOSX" for part in parts)
    )


def read_zip(path: Path, name: str) -> FileRead:
    """Read every Day One journal inside a zip export into one ``FileRead``.

    A problem with one member (corrupt, not UTF-8, invalid JSON) is recorded as a
    rejection with source ``export.zip:Member.json`` so the other journals in the
    same export still load; JSON members that are not Day One journals are skipped.
    """
    collector = EntryCollector(str(path))
    journals = 0
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted(
                (info for info in archive.infolist() if _is_journal_member(info)),
                key=lambda info: info.filename,
            )
            for info in members:
                where = f"{name}:{info.filename}"
                try:
                    if info.file_size > MAX_FILE_BYTES:
                        raise FileProblem(f"too large ({info.file_size:,} bytes)")
                    data = parse_json(decode(archive.read(info)))
                except FileProblem as problem:
                    collector.reject(where, str(problem))
                    continue
                except ValueError as problem:  # invalid JSON
                    collector.reject(where, str(problem))
                    continue
                except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError) as exc:
                    # corrupt data, encrypted member, unsupported compression
                    collector.reject(where, f"could not extract: {exc}")
                    continue
                if is_dayone(data):
                    assert isinstance(data, dict)
                    journals += 1
                    add_entries(data, collector, f"{where}#")
    except FileNotFoundError:
        return file_error(str(path), "file not found")
    except PermissionError:
        return file_error(str(path), "permission denied")
    except zipfile.BadZipFile:
        return file_error(str(path), "not a valid zip file")
    except OSError as exc:
        return file_error(str(path), f"could not read file: {exc.strerror or exc}")
    if journals == 0 and not collector.result.rejected:
        return file_error(
            str(path),
            'no Day One journal in this zip (expected a .json file with an "entries" list)',
        )
    return collector.result
