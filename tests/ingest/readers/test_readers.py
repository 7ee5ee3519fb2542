"""Tests for ``ingest.readers``: real files in ``tmp_path``, exact results.

The readers are the boundary between whatever a person exports and the store,
so these tests pin down both what good input becomes (dates, ids, tags, exact
text) and what every kind of bad input is reported as, since those reasons are
shown to the person in the import report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from pathlib import Path

import pytest

import ingest.readers as readers
from ingest.readers import SUPPORTED, read_path
from ingest.readers.validate import MAX_TEXT_CHARS
from ingest.records import FileRead, RawEntry, Rejected

SUPPORTED_TEXT = ".jsonl, .ndjson, .json, .zip, .md, .markdown, .txt, .csv"
NOT_UTF8 = "not UTF-8 text (is this a binary file?)"


def write(directory: Path, name: str, content: str | bytes) -> Path:
    """Create ``directory/name`` (and parent folders) with the given content."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def jsonl(*items: object) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def read_one(path: Path) -> FileRead:
    """``read_path`` on a single file must give exactly one result."""
    results = read_path(path)
    assert len(results) == 1
    return results[0]


def reasons(result: FileRead) -> list[tuple[str, str]]:
    return [(item.source, item.reason) for item in result.rejected]


def set_mtime(path: Path, when: dt.datetime) -> None:
    """Set a file's modification time from a *local* naive datetime."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


# --------------------------------------------------------------------------- dispatch


def test_supported_lists_every_extension() -> None:
    assert SUPPORTED == (".jsonl", ".ndjson", ".json", ".zip", ".md", ".markdown", ".txt", ".csv")


def test_unsupported_extension_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "journal.pdf", "%PDF-1.4")
    result = read_one(path)
    assert result == FileRead(
        path=str(path),
        error=f"unsupported file type '.pdf' (supported: {SUPPORTED_TEXT})",
    )


def test_file_without_extension_is_unsupported(tmp_path: Path) -> None:
    path = write(tmp_path, "journal", "2024-01-01 hello")
    assert (
        read_one(path).error
        == f"unsupported file type (no extension) (supported: {SUPPORTED_TEXT})"
    )


def test_missing_path_is_a_file_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.jsonl"
    assert read_path(missing) == [FileRead(path=str(missing), error="file not found")]


def test_accepts_str_paths_and_uppercase_extensions(tmp_path: Path) -> None:
    write(tmp_path, "J.NDJSON", jsonl({"date": "2024-01-01", "text": "upper"}))
    result = read_one(Path(str(tmp_path / "J.NDJSON")))
    assert [entry.text for entry in result.entries] == ["upper"]
    assert read_path(str(tmp_path / "J.NDJSON")) == [result]


def test_folder_reads_supported_files_recursively_sorted_skipping_hidden(tmp_path: Path) -> None:
    root = tmp_path / "journal"
    write(root, "b.jsonl", jsonl({"id": "b1", "date": "2024-01-02", "text": "from jsonl"}))
    write(root, "a.csv", "date,text\n2024-01-01,from csv\n")
    write(root, "notes/2024-01-03.md", "from markdown\n")
    write(root, "notes/deeper/2024-01-04.txt", "from text\n")
    write(root, "photo.jpg", b"\xff\xd8\xff\xe0 not read")
    write(root, ".hidden.jsonl", jsonl({"date": "2024-01-09", "text": "hidden file"}))
    write(root, ".obsidian/cache.json", "[]")
    write(root, "notes/.draft.md", "hidden draft")

    results = read_path(root)

    assert [result.path for result in results] == [
        str(root / "a.csv"),
        str(root / "b.jsonl"),
        str(root / "notes/2024-01-03.md"),
        str(root / "notes/deeper/2024-01-04.txt"),
    ]
    assert [(e.source, e.text, e.date) for result in results for e in result.entries] == [
        ("a.csv:2", "from csv", dt.date(2024, 1, 1)),
        ("b.jsonl:1", "from jsonl", dt.date(2024, 1, 2)),
        ("notes/2024-01-03.md", "from markdown", dt.date(2024, 1, 3)),
        ("notes/deeper/2024-01-04.txt", "from text", dt.date(2024, 1, 4)),
    ]
    assert all(result.error is None and not result.rejected for result in results)


def test_folder_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "a.json", "{not json")
    write(tmp_path, "b.jsonl", jsonl({"date": "2024-01-02", "text": "still here"}))
    bad, good = read_path(tmp_path)
    assert bad.error is not None and bad.error.startswith("invalid JSON: ")
    assert [entry.text for entry in good.entries] == ["still here"]


def test_empty_folder_says_nothing_was_found(tmp_path: Path) -> None:
    write(tmp_path, "photo.png", b"\x89PNG")
    assert read_path(tmp_path) == [
        FileRead(
            path=str(tmp_path),
            error=f"no journal files found in this folder (looked for {SUPPORTED_TEXT})",
        )
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_named_pipe_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    assert read_one(fifo) == FileRead(path=str(fifo), error="not a regular file")
    write(tmp_path, "real.jsonl", jsonl({"date": "2024-01-01", "text": "ok"}))
    assert [result.path for result in read_path(tmp_path)] == [str(tmp_path / "real.jsonl")]


def test_unexpected_reader_failure_becomes_a_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path, name: str) -> FileRead:
        raise RuntimeError("boom")

    monkeypatch.setitem(readers._READERS, ".jsonl", broken)
    path = write(tmp_path, "j.jsonl", "{}")
    assert read_one(path).error == "could not read file (RuntimeError: boom)"


# --------------------------------------------------------------------------- JSON Lines


def test_jsonl_reads_entries_with_ids_tags_and_line_sources(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "journal.jsonl",
        jsonl(
            {"id": "e1", "date": "2024-01-02", "text": "First entry.", "tags": ["trust", "work"]},
            {"date": "2024-01-03", "text": "No id, tags as text.", "tags": "family, trust"},
        )
        + "\n   \n"
        + jsonl({"id": 42, "date": "2024-01-04", "text": "Int id.", "mood": "ok"}),
    )
    result = read_one(path)
    assert result.error is None
    assert result.rejected == []
    assert result.entries == [
        RawEntry("First entry.", dt.date(2024, 1, 2), "e1", ("trust", "work"), "journal.jsonl:1"),
        RawEntry(
            "No id, tags as text.",
            dt.date(2024, 1, 3),
            None,
            ("family", "trust"),
            "journal.jsonl:2",
        ),
        RawEntry("Int id.", dt.date(2024, 1, 4), "42", (), "journal.jsonl:5"),
    ]


def test_jsonl_malformed_line_is_rejected_and_the_good_lines_still_load(tmp_path: Path) -> None:
    good = {"date": "2024-01-01", "text": "good"}
    path = write(
        tmp_path,
        "journal.jsonl",
        jsonl(good) + '{"date": "2024-01-02", "text": "oops",}\n' + jsonl({**good, "text": "also"}),
    )
    result = read_one(path)
    assert [entry.text for entry in result.entries] == ["good", "also"]
    assert [entry.source for entry in result.entries] == ["journal.jsonl:1", "journal.jsonl:3"]
    assert reasons(result) == [
        (
            "journal.jsonl:2",
            "invalid JSON: Expecting property name enclosed in double quotes at column 39",
        )
    ]
    assert result.error is None


def test_jsonl_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "j.jsonl", '["2024-01-01", "text"]\n"just text"\nnull\n')
    assert reasons(read_one(path)) == [
        ("j.jsonl:1", "expected a JSON object, got a list"),
        ("j.jsonl:2", "expected a JSON object, got a string"),
        ("j.jsonl:3", "expected a JSON object, got null"),
    ]


def test_jsonl_windows_line_endings_and_bom(tmp_path: Path) -> None:
    content = "\ufeff" + jsonl({"date": "2024-01-01", "text": "a"}).replace("\n", "\r\n")
    result = read_one(write(tmp_path, "j.jsonl", content))
    assert [(e.text, e.source) for e in result.entries] == [("a", "j.jsonl:1")]


def test_jsonl_line_with_unicode_line_separator_is_one_line(tmp_path: Path) -> None:
    text = "before\u2028after"
    path = write(
        tmp_path, "j.jsonl", json.dumps({"date": "2024-01-01", "text": text}, ensure_ascii=False)
    )
    assert [e.text for e in read_one(path).entries] == [text]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"date": "2024-01-01", "text": ""}, "empty text"),
        ({"date": "2024-01-01", "text": " \n\t \n"}, "empty text"),
        ({"date": "2024-01-01"}, "empty text"),
        ({"date": "2024-01-01", "text": None}, "empty text"),
        ({"date": "2024-01-01", "text": 12}, "text must be a string"),
        ({"date": "2024-01-01", "text": ["a", "b"]}, "text must be a string"),
        ({"text": "hello"}, "missing date"),
        ({"date": None, "text": "hello"}, "missing date"),
        ({"date": "  ", "text": "hello"}, "missing date"),
        ({"date": "02/01/2024", "text": "hello"}, "bad date '02/01/2024': expected YYYY-MM-DD"),
        ({"date": "20240102", "text": "hello"}, "bad date '20240102': expected YYYY-MM-DD"),
        ({"date": "2024-02-30", "text": "hello"}, "bad date '2024-02-30': expected YYYY-MM-DD"),
        ({"date": "2024-1-2", "text": "hello"}, "bad date '2024-1-2': expected YYYY-MM-DD"),
        ({"date": "yesterday", "text": "hello"}, "bad date 'yesterday': expected YYYY-MM-DD"),
        ({"date": 20240102, "text": "hello"}, "bad date '20240102': expected YYYY-MM-DD"),
        (
            {"date": "2024-01-02T25:00:00", "text": "hello"},
            "bad date '2024-01-02T25:00:00': expected YYYY-MM-DD",
        ),
        ({"id": "", "date": "2024-01-01", "text": "hello"}, "id must not be empty"),
        ({"id": "   ", "date": "2024-01-01", "text": "hello"}, "id must not be empty"),
        (
            {"id": "x" * 129, "date": "2024-01-01", "text": "hello"},
            "id is too long (129 characters; the limit is 128)",
        ),
        (
            {"id": ["a"], "date": "2024-01-01", "text": "hello"},
            "id must be a string or an integer, got a list",
        ),
        (
            {"id": True, "date": "2024-01-01", "text": "hello"},
            "id must be a string or an integer, got true/false",
        ),
        (
            {"id": 1.5, "date": "2024-01-01", "text": "hello"},
            "id must be a string or an integer, got a number",
        ),
        (
            {"tags": 7, "date": "2024-01-01", "text": "hello"},
            "tags must be a list of strings or a comma-separated string, got a number",
        ),
        (
            {"tags": {"a": 1}, "date": "2024-01-01", "text": "hello"},
            "tags must be a list of strings or a comma-separated string, got an object",
        ),
        (
            {"tags": ["ok", 3], "date": "2024-01-01", "text": "hello"},
            "tags must be strings, got a number (3)",
        ),
    ],
)
def test_invalid_items_are_rejected_with_a_reason(
    tmp_path: Path, item: dict[str, object], reason: str
) -> None:
    path = write(tmp_path, "j.jsonl", jsonl({"date": "2024-05-05", "text": "kept"}, item))
    result = read_one(path)
    assert reasons(result) == [("j.jsonl:2", reason)]
    assert [entry.text for entry in result.entries] == ["kept"]


def test_long_values_are_cut_short_in_reasons(tmp_path: Path) -> None:
    path = write(tmp_path, "j.jsonl", jsonl({"date": "x" * 500, "text": "hello"}))
    assert reasons(read_one(path)) == [
        ("j.jsonl:1", f"bad date '{'x' * 39}…': expected YYYY-MM-DD")
    ]


def test_iso_datetimes_give_the_date_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "j.jsonl",
        jsonl(
            {"date": "2024-01-02T23:30:00", "text": "a"},
            {"date": "2024-01-02T23:30:00+05:00", "text": "b"},
            {"date": "2024-01-02T23:30:00Z", "text": "c"},
            {"date": "2024-01-02 08:15", "text": "d"},
            {"date": " 2024-01-03 ", "text": "e"},
        ),
    )
    result = read_one(path)
    assert result.rejected == []
    assert [entry.date for entry in result.entries] == [dt.date(2024, 1, 2)] * 4 + [
        dt.date(2024, 1, 3)
    ]


def test_text_is_kept_as_written_apart_from_outer_blank_lines(tmp_path: Path) -> None:
    text = "\n\n  Indented first line.\n\n\nTwo  spaces,\ttab and trailing   \nend.\n\n  "
    path = write(tmp_path, "j.jsonl", jsonl({"date": "2024-01-01", "text": text}))
    assert [entry.text for entry in read_one(path).entries] == [
        "  Indented first line.\n\n\nTwo  spaces,\ttab and trailing   \nend."
    ]


def test_text_size_limit(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "j.jsonl",
        jsonl(
            {"id": "max", "date": "2024-01-01", "text": "a" * MAX_TEXT_CHARS},
            {"id": "over", "date": "2024-01-01", "text": "a" * (MAX_TEXT_CHARS + 1)},
        ),
    )
    result = read_one(path)
    assert [entry.id for entry in result.entries] == ["max"]
    assert reasons(result) == [
        ("j.jsonl:2", "text is too long (100,001 characters; the limit is 100,000)")
    ]


def test_tags_are_normalised(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "j.jsonl",
        jsonl(
            {"date": "2024-01-01", "text": "a", "tags": " trust, ,family,trust , "},
            {"date": "2024-01-01", "text": "b", "tags": [" work ", "", "  ", "work", "home"]},
            {"date": "2024-01-01", "text": "c", "tags": []},
            {"date": "2024-01-01", "text": "d", "tags": None},
        ),
    )
    assert [entry.tags for entry in read_one(path).entries] == [
        ("trust", "family"),
        ("work", "home"),
        (),
        (),
    ]


def test_ids_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, "j.jsonl", jsonl({"id": "  a1 ", "date": "2024-01-01", "text": "a"}))
    assert [entry.id for entry in read_one(path).entries] == ["a1"]


def test_duplicate_ids_in_one_file_keep_the_first(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "j.jsonl",
        jsonl(
            {"id": "x", "date": "2024-01-01", "text": "first"},
            {"id": "y", "date": "2024-01-02", "text": "other"},
            {"id": "x", "date": "2024-01-03", "text": "second"},
            {"id": 7, "date": "2024-01-04", "text": "int seven"},
            {"id": "7", "date": "2024-01-05", "text": "string seven"},
        ),
    )
    result = read_one(path)
    assert [entry.text for entry in result.entries] == ["first", "other", "int seven"]
    assert reasons(result) == [
        ("j.jsonl:3", "duplicate id 'x' in this file"),
        ("j.jsonl:5", "duplicate id '7' in this file"),
    ]


def test_same_id_in_two_files_is_not_a_duplicate_here(tmp_path: Path) -> None:
    write(tmp_path, "a.jsonl", jsonl({"id": "x", "date": "2024-01-01", "text": "a"}))
    write(tmp_path, "b.jsonl", jsonl({"id": "x", "date": "2024-01-01", "text": "b"}))
    assert [len(result.entries) for result in read_path(tmp_path)] == [1, 1]


# --------------------------------------------------------------------------- whole-file errors


@pytest.mark.parametrize("name", ["j.jsonl", "j.json", "n.md", "n.txt", "t.csv"])
@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"caf\xe9 au lait", "\ufeffhi".encode("utf-16")],
    ids=["png", "latin-1", "utf-16"],
)
def test_binary_or_non_utf8_file_is_a_file_error(tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path, name, content)
    assert read_one(path) == FileRead(path=str(path), error=NOT_UTF8)


@pytest.mark.parametrize("name", ["j.jsonl", "j.json", "n.md", "t.csv"])
def test_permission_denied_is_a_file_error(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, name, "anything")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # Patched rather than chmod 000, which root (as in CI containers) can still read.
    monkeypatch.setattr(Path, "read_bytes", refuse)
    assert read_one(path) == FileRead(path=str(path), error="permission denied")


def test_empty_files(tmp_path: Path) -> None:
    assert read_one(write(tmp_path, "j.jsonl", "")) == FileRead(path=str(tmp_path / "j.jsonl"))
    assert read_one(write(tmp_path, "n.md", "")).rejected == [Rejected("n.md", "empty text")]
    assert read_one(write(tmp_path, "j.json", "")).error == (
        "invalid JSON: Expecting value at line 1 column 1"
    )


@pytest.mark.parametrize("name", list(SUPPORTED))
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n\n",
        b"{" * 100_000,
        b"[" * 100_000,
        b"---\n" + b"[" * 5_000 + b"\n---\nbody",
        b'"\n,\x0b\x0c\r\r\n;--- \xe2\x80\xa8',
        b"date,text\n" + b'"' + b"x" * 200_000 + b'"\n',
    ],
)
def test_readers_never_raise(tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path, "file" + name, content)
    result = read_one(path)
    assert isinstance(result, FileRead)
    if result.error is not None:
        assert result.entries == []
        assert not result.error.startswith("could not read file (")  # not the safety net


# --------------------------------------------------------------------------- JSON


def test_json_array_of_entries(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "entries.json",
        json.dumps(
            [
                {"id": "a", "date": "2024-02-01", "text": "One.", "tags": ["x"]},
                "not an object",
                {"id": "b", "date": "2024-02-02", "text": "   "},
                {"id": "c", "date": "2024-02-03", "text": "Three."},
            ]
        ),
    )
    result = read_one(path)
    assert result.entries == [
        RawEntry("One.", dt.date(2024, 2, 1), "a", ("x",), "entries.json:1"),
        RawEntry("Three.", dt.date(2024, 2, 3), "c", (), "entries.json:4"),
    ]
    assert reasons(result) == [
        ("entries.json:2", "expected a JSON object, got a string"),
        ("entries.json:3", "empty text"),
    ]


def test_invalid_json_document_is_a_file_error(tmp_path: Path) -> None:
    path = write(
        tmp_path, "entries.json", '[\n  {"date": "2024-01-01", "text": "a"}\n  {"x": 1}\n]'
    )
    assert read_one(path) == FileRead(
        path=str(path), error="invalid JSON: Expecting ',' delimiter at line 3 column 3"
    )


def test_deeply_nested_json_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", "[" * 100_000)
    assert read_one(path).error == "invalid JSON: nested too deeply"


@pytest.mark.parametrize(
    ("document", "got"),
    [
        ({"items": []}, 'an object without an "entries" list'),
        ({"entries": {"a": 1}}, 'an object without an "entries" list'),
        ("text", "a string"),
        (3, "a number"),
    ],
)
def test_json_of_the_wrong_shape_is_a_file_error(
    tmp_path: Path, document: object, got: str
) -> None:
    path = write(tmp_path, "x.json", json.dumps(document))
    assert read_one(path).error == (
        f'expected a JSON array of entries or a Day One export ({{"entries": [...]}}), got {got}'
    )


# --------------------------------------------------------------------------- Day One


def dayone_export(*entries: object) -> str:
    return json.dumps({"metadata": {"version": "1.0"}, "entries": list(entries)})


DAYONE_ENTRIES: list[dict[str, object]] = [
    {
        # 03:30 UTC on 2 March is still 1 March in New York.
        "uuid": "A1B2C3",
        "creationDate": "2024-03-02T03:30:00Z",
        "timeZone": "America/New_York",
        "text": "Talked with Sam\\. It went well\\!\n\n\\- trust is earned\n\\# not a heading",
        "tags": ["trust", "Sam"],
        "starred": True,
    },
    {
        # 23:30 UTC on 30 June is already 1 July in London (BST, UTC+1).
        "uuid": "D4E5F6",
        "creationDate": "2024-06-30T23:30:00Z",
        "timeZone": "Europe/London",
        "text": "Summer night\\.",
    },
    {
        # No time zone: the UTC date.
        "uuid": "G7H8I9",
        "creationDate": "2024-06-30T23:30:00Z",
        "text": "No zone\\.",
    },
]


def test_dayone_json_file_converts_dates_to_the_entry_time_zone_and_unescapes(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "Journal.json", dayone_export(*DAYONE_ENTRIES))
    result = read_one(path)
    assert result.error is None and result.rejected == []
    assert result.entries == [
        RawEntry(
            "Talked with Sam. It went well!\n\n- trust is earned\n# not a heading",
            dt.date(2024, 3, 1),
            "A1B2C3",
            ("trust", "Sam"),
            "Journal.json:1",
        ),
        RawEntry("Summer night.", dt.date(2024, 7, 1), "D4E5F6", (), "Journal.json:2"),
        RawEntry("No zone.", dt.date(2024, 6, 30), "G7H8I9", (), "Journal.json:3"),
    ]


def test_dayone_unescape_keeps_other_backslashes(tmp_path: Path) -> None:
    text = r"Path C:\Users\sam, a literal backslash \\. and \\\! and \n stays"
    path = write(
        tmp_path,
        "Journal.json",
        dayone_export({"uuid": "u", "creationDate": "2024-01-01T12:00:00Z", "text": text}),
    )
    assert [entry.text for entry in read_one(path).entries] == [
        r"Path C:\Users\sam, a literal backslash \. and \! and \n stays"
    ]


def test_dayone_dates_edge_cases(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Journal.json",
        dayone_export(
            # Unknown zone: fall back to the UTC date rather than drop the entry.
            {
                "uuid": "a",
                "creationDate": "2024-01-01T23:00:00Z",
                "timeZone": "Mars/Base",
                "text": "a",
            },
            # A bare date is already a calendar date: not shifted back a day.
            {
                "uuid": "b",
                "creationDate": "2024-01-01",
                "timeZone": "America/Los_Angeles",
                "text": "b",
            },
            # Naive timestamps are UTC, as Day One writes them.
            {
                "uuid": "c",
                "creationDate": "2024-01-01T02:00:00",
                "timeZone": "Asia/Tokyo",
                "text": "c",
            },
            {
                "uuid": "d",
                "creationDate": "2024-01-01T02:00:00+09:00",
                "timeZone": None,
                "text": "d",
            },
            {"uuid": "e", "timeZone": "Europe/London", "text": "no date"},
            {"uuid": "f", "creationDate": "March 2nd", "text": "bad date"},
            {"uuid": "g", "creationDate": "2024-01-01T10:00:00Z", "photos": [{"md5": "x"}]},
            {"uuid": "a", "creationDate": "2024-01-01T10:00:00Z", "text": "dup"},
            ["not", "an", "entry"],
        ),
    )
    result = read_one(path)
    assert [(entry.id, entry.date) for entry in result.entries] == [
        ("a", dt.date(2024, 1, 1)),
        ("b", dt.date(2024, 1, 1)),
        ("c", dt.date(2024, 1, 1)),
        ("d", dt.date(2024, 1, 1)),
    ]
    assert reasons(result) == [
        ("Journal.json:5", "missing date"),
        ("Journal.json:6", "bad date 'March 2nd': expected YYYY-MM-DD"),
        ("Journal.json:7", "empty text"),
        ("Journal.json:8", "duplicate id 'a' in this file"),
        ("Journal.json:9", "expected a JSON object, got a list"),
    ]


def test_dayone_folder_reads_only_its_journals(tmp_path: Path) -> None:
    root = tmp_path / "Day One export"
    write(root, "Journal.json", dayone_export(DAYONE_ENTRIES[0]))
    write(root, "Work.json", dayone_export(DAYONE_ENTRIES[1]))
    write(root, "photos/abc.jpeg", b"\xff\xd8\xff")
    write(root, "README.md", "Exported by Day One")
    write(root, "settings.json", json.dumps({"theme": "dark"}))

    results = read_path(root)

    assert [result.path for result in results] == [
        str(root / "Journal.json"),
        str(root / "Work.json"),
    ]
    assert [(e.source, e.id, e.date) for r in results for e in r.entries] == [
        ("Journal.json:1", "A1B2C3", dt.date(2024, 3, 1)),
        ("Work.json:1", "D4E5F6", dt.date(2024, 7, 1)),
    ]


def make_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_dayone_zip(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "export.zip",
        {
            "Journal.json": dayone_export(*DAYONE_ENTRIES[:2]),
            "photos/abc.jpeg": b"\xff\xd8\xff",
            "__MACOSX/._Journal.json": b"\x00\x05\x16\x07",
            "settings.json": json.dumps({"theme": "dark"}),
            "Travel/Travel.json": dayone_export({**DAYONE_ENTRIES[2], "tags": "road, trip"}),
        },
    )
    result = read_one(path)
    assert result.error is None and result.rejected == []
    assert [(e.source, e.id, e.date, e.text, e.tags) for e in result.entries] == [
        (
            "export.zip:Journal.json#1",
            "A1B2C3",
            dt.date(2024, 3, 1),
            "Talked with Sam. It went well!\n\n- trust is earned\n# not a heading",
            ("trust", "Sam"),
        ),
        ("export.zip:Journal.json#2", "D4E5F6", dt.date(2024, 7, 1), "Summer night.", ()),
        (
            "export.zip:Travel/Travel.json#1",
            "G7H8I9",
            dt.date(2024, 6, 30),
            "No zone.",
            ("road", "trip"),
        ),
    ]


def test_zip_in_a_folder_is_read(tmp_path: Path) -> None:
    make_zip(tmp_path / "export.zip", {"Journal.json": dayone_export(DAYONE_ENTRIES[1])})
    write(tmp_path, "notes/2024-01-01.md", "note")
    results = read_path(tmp_path)
    assert [e.source for r in results for e in r.entries] == [
        "export.zip:Journal.json#1",
        "notes/2024-01-01.md",
    ]


def test_zip_member_problems_are_rejections_and_other_journals_load(tmp_path: Path) -> None:
    path = make_zip(
        tmp_path / "export.zip",
        {
            "Broken.json": '{"entries": [',
            "Latin.json": b"caf\xe9",
            "Journal.json": dayone_export(DAYONE_ENTRIES[1]),
        },
    )
    result = read_one(path)
    assert [entry.id for entry in result.entries] == ["D4E5F6"]
    assert reasons(result) == [
        ("export.zip:Broken.json", "invalid JSON: Expecting value at line 1 column 14"),
        ("export.zip:Latin.json", NOT_UTF8),
    ]


def test_bad_zip_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, "export.zip", b"PK\x03\x04 this is not really a zip")
    assert read_one(path) == FileRead(path=str(path), error="not a valid zip file")


def test_zip_without_a_journal_is_a_file_error(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "photos.zip", {"a.jpeg": b"\xff\xd8", "list.json": "[]"})
    assert read_one(path).error == (
        'no Day One journal in this zip (expected a .json file with an "entries" list)'
    )


# --------------------------------------------------------------------------- Markdown / text


def test_markdown_front_matter_gives_date_tags_and_id(tmp_path: Path) -> None:
    body = "# Evening\n\n  Sam kept the promise.\n\n\nI noticed.   \n- one\n- two"
    path = write(
        tmp_path,
        "2023-12-31 draft.md",
        f"---\ndate: 2024-01-05\ntags: [trust, Sam]\nid: evening-5\nmood: calm\n---\n\n{body}\n\n",
    )
    result = read_one(path)
    assert result == FileRead(
        path=str(path),
        entries=[RawEntry(body, dt.date(2024, 1, 5), "evening-5", ("trust", "Sam"), path.name)],
    )


def test_markdown_front_matter_variants(tmp_path: Path) -> None:
    write(tmp_path, "a.md", '---\ndate: "2024-01-06"\ntags: trust, family\n---\nA')
    write(tmp_path, "b.markdown", "---\ndate: 2024-01-07T23:45:00+02:00\ntags:\n---\nB")
    write(tmp_path, "c.md", "\n\n---\nDate: 2024-01-08\nTags: [x]\n---\nC")
    write(tmp_path, "d.md", "---\nid: 0x1F\ndate: 2024-01-09\n---\nD")
    results = read_path(tmp_path)
    assert [(e.text, e.date, e.tags, e.id) for r in results for e in r.entries] == [
        ("A", dt.date(2024, 1, 6), ("trust", "family"), "a"),
        ("B", dt.date(2024, 1, 7), (), "b"),
        ("C", dt.date(2024, 1, 8), ("x",), "c"),
        ("D", dt.date(2024, 1, 9), (), "31"),  # YAML reads unquoted 0x1F as the integer 31
    ]
    assert all(not r.rejected for r in results)


def test_date_from_file_name_when_no_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "notes/journal 2024-02-29 evening.txt", "\n\nLeap day.\n  indented\n\n")
    set_mtime(path, dt.datetime(2020, 1, 1, 12, 0))
    assert read_one(path).entries == [
        RawEntry(
            "Leap day.\n  indented",
            dt.date(2024, 2, 29),
            "journal 2024-02-29 evening",
            (),
            path.name,
        )
    ]


def test_date_from_modification_time_as_last_resort(tmp_path: Path) -> None:
    path = write(tmp_path, "thoughts.md", "---\ntags: [late]\n---\nNo date anywhere.")
    set_mtime(path, dt.datetime(2023, 5, 6, 0, 30))  # just after local midnight
    assert read_one(path).entries == [
        RawEntry("No date anywhere.", dt.date(2023, 5, 6), "thoughts", ("late",), "thoughts.md")
    ]


def test_front_matter_date_wins_over_file_name_and_mtime(tmp_path: Path) -> None:
    path = write(tmp_path, "2024-01-01.md", "---\ndate: 2024-03-03\n---\nx")
    set_mtime(path, dt.datetime(2022, 2, 2, 12, 0))
    assert [e.date for e in read_one(path).entries] == [dt.date(2024, 3, 3)]


def test_markdown_bad_dates_are_rejected_not_replaced(tmp_path: Path) -> None:
    write(tmp_path, "a.md", "---\ndate: next tuesday\n---\nBody")
    write(tmp_path, "2024-02-30.md", "Impossible date in the name")
    write(tmp_path, "b.md", "---\ndate: 2024/01/02\n---\nBody")
    results = read_path(tmp_path)
    assert [reasons(r) for r in results] == [
        [("2024-02-30.md", "bad date '2024-02-30': expected YYYY-MM-DD")],
        [("a.md", "bad date 'next tuesday': expected YYYY-MM-DD")],
        [("b.md", "bad date '2024/01/02': expected YYYY-MM-DD")],
    ]
    assert all(not r.entries for r in results)


def test_markdown_empty_body_and_bad_front_matter(tmp_path: Path) -> None:
    write(tmp_path, "2024-01-01.md", "   \n\n\t\n")
    write(tmp_path, "2024-01-02.md", "---\ndate: 2024-01-02\ntags: [a]\n---\n\n   \n")
    write(tmp_path, "2024-01-03.md", "---\ndate: [2024-01-03\n---\nBody")
    write(tmp_path, "2024-01-04.md", "---\ntags: 5\n---\nBody")
    results = read_path(tmp_path)
    assert [reasons(r) for r in results] == [
        [("2024-01-01.md", "empty text")],
        [("2024-01-02.md", "empty text")],
        [
            (
                "2024-01-03.md",
                "invalid front matter: did not find expected ',' or ']' (line 3)",
            )
        ],
        [
            (
                "2024-01-04.md",
                "tags must be a list of strings or a comma-separated string, got a number",
            )
        ],
    ]


def test_text_file_opening_with_a_rule_keeps_all_its_text(tmp_path: Path) -> None:
    content = "---\nJust a thought between rules\n---\nMore text."
    path = write(tmp_path, "2024-04-04.txt", content)
    assert [e.text for e in read_one(path).entries] == [content]


def test_unclosed_front_matter_is_plain_text(tmp_path: Path) -> None:
    content = "---\ndate: 2024-09-09\nno closing line"
    path = write(tmp_path, "2024-04-05.md", content)
    assert [(e.text, e.date) for e in read_one(path).entries] == [(content, dt.date(2024, 4, 5))]


def test_json_looking_first_line_is_not_front_matter(tmp_path: Path) -> None:
    # python-frontmatter's loads() would read this as JSON front matter.
    content = '{\n"date": "2020-01-01"\n}\nText after braces.'
    path = write(tmp_path, "2024-04-06.txt", content)
    assert [(e.text, e.date) for e in read_one(path).entries] == [(content, dt.date(2024, 4, 6))]


# --------------------------------------------------------------------------- CSV


def test_csv_required_columns_only_any_case_and_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sheet.csv",
        ' Text ,DATE,notes\n"Hello, world.",2024-01-01,x\n"Two\nlines",2024-01-02,y\n',
    )
    result = read_one(path)
    assert result.rejected == [] and result.error is None
    assert result.entries == [
        RawEntry("Hello, world.", dt.date(2024, 1, 1), None, (), "sheet.csv:2"),
        RawEntry("Two\nlines", dt.date(2024, 1, 2), None, (), "sheet.csv:3"),
    ]


def test_csv_optional_id_and_tags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sheet.csv",
        "\ufeffid,date,text,Tags\r\n"
        'r1,2024-01-01,First,"trust, family"\r\n'
        "r2,2024-01-02,Second,work;home; work\r\n"
        ",2024-01-03,No id,\r\n"
        "\r\n"
        "r1,2024-01-04,Again,\r\n",
    )
    result = read_one(path)
    assert result.entries == [
        RawEntry("First", dt.date(2024, 1, 1), "r1", ("trust", "family"), "sheet.csv:2"),
        RawEntry("Second", dt.date(2024, 1, 2), "r2", ("work", "home"), "sheet.csv:3"),
        RawEntry("No id", dt.date(2024, 1, 3), None, (), "sheet.csv:4"),
    ]
    assert reasons(result) == [("sheet.csv:6", "duplicate id 'r1' in this file")]


def test_csv_bad_rows_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sheet.csv",
        "date,text\n"
        "2024-01-01,fine\n"
        "01/02/2024,bad date\n"
        "2024-01-03,   \n"
        "2024-01-04\n"
        "2024-01-05,unquoted, comma\n"
        ",no date\n",
    )
    result = read_one(path)
    assert [entry.text for entry in result.entries] == ["fine"]
    assert reasons(result) == [
        ("sheet.csv:3", "bad date '01/02/2024': expected YYYY-MM-DD"),
        ("sheet.csv:4", "empty text"),
        ("sheet.csv:5", "empty text"),
        (
            "sheet.csv:6",
            "row has 3 cells but the header has 2 (is there an unquoted comma in the text?)",
        ),
        ("sheet.csv:7", "missing date"),
    ]


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ("date,body", "CSV is missing required column text (found: date, body)"),
        ("when,body,id", "CSV is missing required columns date and text (found: when, body, id)"),
        (",,", "CSV is missing required columns date and text (found: none)"),
    ],
)
def test_csv_missing_required_columns_is_a_file_error(
    tmp_path: Path, header: str, error: str
) -> None:
    path = write(tmp_path, "sheet.csv", f"{header}\n2024-01-01,hello,1\n")
    assert read_one(path) == FileRead(path=str(path), error=error)


def test_csv_empty_and_header_only(tmp_path: Path) -> None:
    empty = write(tmp_path, "empty.csv", "")
    header_only = write(tmp_path, "header.csv", "date,text\n")
    assert read_one(empty).error == "empty CSV file (expected a header row with date and text)"
    assert read_one(header_only) == FileRead(path=str(header_only))


def test_csv_unparseable_row_costs_only_that_row(tmp_path: Path) -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    path = write(tmp_path, "sheet.csv", f'date,text\n2024-01-01,"{huge}"\n2024-01-02,after\n')
    result = read_one(path)
    assert [(e.text, e.source) for e in result.entries] == [("after", "sheet.csv:3")]
    assert reasons(result) == [
        ("sheet.csv:2", "could not parse this CSV row: field larger than field limit (131072)")
    ]
