"""Bad input through the whole import path: reported item by item, never half-written.

A journal export is messy: blank entries, a truncated JSON line, a date nobody can
read, a photo saved with the wrong extension. Each must show up in the per-file
report with a reason a person can act on, the good entries around it must still be
stored and indexed, and nothing of a rejected item may reach the store or Chroma.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from ingest.readers.validate import MAX_TEXT_CHARS
from ingest.store import Chunk, Entry, IndexState, UserEntries, get_user_by_name
from service.cli.main import app
from service.container import Container
from service.settings import Settings
from tests.fakes import WordHashEmbeddings
from tests.ingest.test_indexing import assert_index_matches_store, make_user, store_entry_ids

NOT_UTF8 = "not UTF-8 text (is this a binary file?)"
MALFORMED = '{"id": "broken", "date": "2024-01-04", "text": "oops"'
GOOD = {
    "g1": "I told her the truth today. It felt good to be trusted.",
    "g2": "He forgot again.\nI am not sure I can rely on him.",
    "g3": "A quiet day. Nothing to report.",
}


def journal_lines() -> list[str]:
    return [
        json.dumps({"id": "g1", "date": "2024-01-01", "text": GOOD["g1"]}),  # 1
        json.dumps({"id": "blank", "date": "2024-01-02", "text": "   \n\t "}),  # 2
        json.dumps({"id": "empty", "date": "2024-01-03", "text": ""}),  # 3
        MALFORMED,  # 4
        json.dumps({"id": "baddate", "date": "2024-13-45", "text": "A real entry."}),  # 5
        json.dumps({"id": "usdate", "date": "02/01/2024", "text": "American date."}),  # 6
        json.dumps({"id": "nodate", "text": "No date at all."}),  # 7
        "",  # 8: blank lines are skipped, not rejected
        json.dumps({"id": "g2", "date": "2024-01-09", "text": GOOD["g2"]}),  # 9
        json.dumps({"id": "g1", "date": "2024-01-10", "text": "Same id again."}),  # 10
        "[1, 2]",  # 11
        json.dumps({"id": "huge", "date": "2024-01-12", "text": "x" * (MAX_TEXT_CHARS + 1)}),
        json.dumps({"id": "g3", "date": "2024-01-13", "text": GOOD["g3"]}),  # 13
    ]


JOURNAL_REJECTED = [
    {"source": "journal.jsonl:2", "reason": "empty text"},
    {"source": "journal.jsonl:3", "reason": "empty text"},
    {"source": "journal.jsonl:4", "reason": "invalid JSON: Expecting ',' delimiter at column 54"},
    {"source": "journal.jsonl:5", "reason": "bad date '2024-13-45': expected YYYY-MM-DD"},
    {"source": "journal.jsonl:6", "reason": "bad date '02/01/2024': expected YYYY-MM-DD"},
    {"source": "journal.jsonl:7", "reason": "missing date"},
    {"source": "journal.jsonl:10", "reason": "duplicate id 'g1' in this file"},
    {"source": "journal.jsonl:11", "reason": "expected a JSON object, got a list"},
    {
        "source": "journal.jsonl:12",
        "reason": "text is too long (100,001 characters; the limit is 100,000)",
    },
]


def make_folder(root: Path) -> Path:
    """A folder export with one good-and-bad JSONL file and several broken files."""
    folder = root / "export"
    (folder / "notes").mkdir(parents=True)
    (folder / "journal.jsonl").write_text("\n".join(journal_lines()) + "\n", "utf-8")
    (folder / "photo.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    (folder / "notes" / "2024-02-01.md").write_text("Walked with Sam.\nWe talked for hours.\n")
    (folder / "notes" / "2024-02-02.md").write_text("  \n\n   \n")
    (folder / "notes" / "2024-02-30.md").write_text("Impossible day.\n")
    (folder / "notes" / "latin1.txt").write_bytes("café crème, déjà vu".encode("latin-1"))
    (folder / "notes" / "tuesday.md").write_text("---\ndate: next tuesday\n---\nSoon.\n")
    return folder


def expected_files(folder: Path) -> list[dict[str, object]]:
    def f(rel: str, imported: int = 0, rejected: object = (), error: str | None = None) -> dict:
        return {
            "path": str(folder / rel),
            "imported": imported,
            "updated": 0,
            "unchanged": 0,
            "rejected": list(rejected),  # type: ignore[call-overload]
            "error": error,
        }

    return [
        f("journal.jsonl", imported=3, rejected=JOURNAL_REJECTED),
        f("notes/2024-02-01.md", imported=1),
        f(
            "notes/2024-02-02.md",
            rejected=[{"source": "notes/2024-02-02.md", "reason": "empty text"}],
        ),
        f(
            "notes/2024-02-30.md",
            rejected=[
                {
                    "source": "notes/2024-02-30.md",
                    "reason": "bad date '2024-02-30': expected YYYY-MM-DD",
                }
            ],
        ),
        f("notes/latin1.txt", error=NOT_UTF8),
        f(
            "notes/tuesday.md",
            rejected=[
                {
                    "source": "notes/tuesday.md",
                    "reason": "bad date 'next tuesday': expected YYYY-MM-DD",
                }
            ],
        ),
        f("photo.jsonl", error=NOT_UTF8),
    ]


def assert_nothing_half_written(c: Container, user_id: str, expected_ids: set[str]) -> None:
    """Only accepted entries are stored, each fully chunked, indexed and in Chroma."""
    assert store_entry_ids(c, user_id) == expected_ids
    with c.sessions() as s:
        n_entries = s.scalar(select(func.count()).select_from(Entry))
        assert n_entries == len(expected_ids)
        # No chunk or index_state row without a live entry.
        entry_pks = set(s.scalars(select(Entry.pk)))
        assert set(s.scalars(select(Chunk.entry_pk))) == entry_pks
        assert set(s.scalars(select(IndexState.entry_pk))) == entry_pks
        assert UserEntries(s, user_id).pending_index() == []
    records = assert_index_matches_store(c, user_id)
    assert {r["entry_id"] for r in records.values()} == expected_ids
    assert c.index.collection.count() == len(records)


# ------------------------------------------------------------------- import_path tests


def test_bad_items_are_reported_and_the_rest_is_imported(
    container: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(container, "ana")
    folder = make_folder(tmp_path)
    report = container.importer.import_path(uid, folder)
    assert report.as_dict()["files"] == expected_files(folder)
    assert report.totals == {
        "files": 7,
        "imported": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 12,
        "failed_files": 2,
        "indexed": 4,
    }
    with container.sessions() as s:
        store = UserEntries(s, uid)
        note_ids = {e.entry_id for e in store.all()} - set(GOOD)
        assert len(note_ids) == 1
        for eid, text in GOOD.items():
            entry = store.get(eid)
            assert entry is not None and entry.text == text
        (note_id,) = note_ids
        note = store.get(note_id)
        assert note is not None
        assert (note.text, note.source, note.date.isoformat()) == (
            "Walked with Sam.\nWe talked for hours.",
            "notes/2024-02-01.md",
            "2024-02-01",
        )
    assert_nothing_half_written(container, uid, {*GOOD, note_id})
    # No rejected text was ever sent to the embedder.
    sent = " ".join(t for call in fake_embeddings.calls for t in call)
    for bad in ("A real entry.", "American date.", "No date at all.", "Same id again.", "oops"):
        assert bad not in sent
    assert "Impossible day." not in sent and "Soon." not in sent


def test_reimporting_a_bad_export_reports_the_same_and_changes_nothing(
    container: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(container, "ana")
    folder = make_folder(tmp_path)
    container.importer.import_path(uid, folder)
    ids = store_entry_ids(container, uid)
    calls = len(fake_embeddings.calls)

    again = container.importer.import_path(uid, folder)
    expected = expected_files(folder)
    for f in expected:
        f["unchanged"], f["imported"] = f["imported"], 0
    assert again.as_dict()["files"] == expected
    assert again.totals["indexed"] == 0
    assert len(fake_embeddings.calls) == calls
    assert_nothing_half_written(container, uid, ids)


def test_fixing_a_rejected_line_imports_it(container: Container, tmp_path: Path) -> None:
    uid = make_user(container, "ana")
    path = tmp_path / "journal.jsonl"
    lines = journal_lines()
    path.write_text("\n".join(lines), "utf-8")
    first = container.importer.import_path(uid, path)
    assert first.totals["imported"] == 3

    lines[4] = json.dumps({"id": "baddate", "date": "2024-12-25", "text": "A real entry."})
    lines[3] = json.dumps({"id": "broken", "date": "2024-01-04", "text": "oops"})
    path.write_text("\n".join(lines), "utf-8")
    second = container.importer.import_path(uid, path)
    f = second.files[0]
    assert (f.imported, f.unchanged, f.updated) == (2, 3, 0)
    assert [r.source for r in f.rejected] == [
        "journal.jsonl:2",
        "journal.jsonl:3",
        "journal.jsonl:6",
        "journal.jsonl:7",
        "journal.jsonl:10",
        "journal.jsonl:11",
        "journal.jsonl:12",
    ]
    assert_nothing_half_written(container, uid, {*GOOD, "baddate", "broken"})


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("photo.jsonl", b"\x89PNG\r\n\x1a\n\x00\x00IHDR", NOT_UTF8),
        ("notes.md", "café".encode("utf-16"), NOT_UTF8),
        ("export.json", b'[{"date": "2024-01-01", "text": "unterminated', None),
        ("scan.pdf", b"%PDF-1.4", "unsupported file type '.pdf'"),
    ],
)
def test_a_file_that_cannot_be_read_stores_nothing(
    container: Container,
    fake_embeddings: WordHashEmbeddings,
    tmp_path: Path,
    name: str,
    content: bytes,
    error: str | None,
) -> None:
    uid = make_user(container, "ana")
    path = tmp_path / name
    path.write_bytes(content)
    report = container.importer.import_path(uid, path)
    (f,) = report.files
    assert f.path == str(path)
    assert f.imported == 0
    assert f.error is not None
    if error is None:  # a broken JSON file: the parser's message, with the position
        assert f.error == "invalid JSON: Unterminated string starting at line 1 column 33"
    else:
        assert f.error.startswith(error)
    assert report.totals["failed_files"] == 1
    assert fake_embeddings.calls == []
    assert_nothing_half_written(container, uid, set())


def test_missing_path_is_reported(container: Container, tmp_path: Path) -> None:
    uid = make_user(container, "ana")
    report = container.importer.import_path(uid, tmp_path / "nope.jsonl")
    assert report.as_dict()["files"] == [
        {
            "path": str(tmp_path / "nope.jsonl"),
            "imported": 0,
            "updated": 0,
            "unchanged": 0,
            "rejected": [],
            "error": "file not found",
        }
    ]
    assert_nothing_half_written(container, uid, set())


def test_only_whitespace_entries_give_an_empty_journal(
    container: Container, tmp_path: Path
) -> None:
    uid = make_user(container, "ana")
    path = tmp_path / "blank.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"date": "2024-01-01", "text": t}) for t in ["", " ", "\n\n", "\t \u3000"]
        ),
        "utf-8",
    )
    report = container.importer.import_path(uid, path)
    (f,) = report.files
    assert [(r.source, r.reason) for r in f.rejected] == [
        ("blank.jsonl:1", "empty text"),
        ("blank.jsonl:2", "empty text"),
        ("blank.jsonl:3", "empty text"),
        ("blank.jsonl:4", "empty text"),
    ]
    assert (f.imported, f.error) == (0, None)
    assert_nothing_half_written(container, uid, set())


def test_an_id_repeated_in_another_file_is_rejected_not_overwritten(
    container: Container, fake_embeddings: WordHashEmbeddings, tmp_path: Path
) -> None:
    uid = make_user(container, "ana")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.jsonl").write_text(
        json.dumps({"id": "x", "date": "2024-01-01", "text": "Version A."})
        + "\n"
        + json.dumps({"id": "y", "date": "2024-01-02", "text": "Only in A."})
        + "\n",
        "utf-8",
    )
    (folder / "b.jsonl").write_text(
        json.dumps({"date": "2024-01-03", "text": "No id, only in B."})
        + "\n"
        + json.dumps({"id": "x", "date": "2024-01-01", "text": "Version B."})
        + "\n",
        "utf-8",
    )
    for run in range(3):
        report = container.importer.import_path(uid, folder)
        a, b = report.as_dict()["files"]  # type: ignore[misc]
        assert (a["imported"], a["updated"], a["unchanged"]) == (
            (2, 0, 0) if run == 0 else (0, 0, 2)
        )
        assert (b["imported"], b["updated"], b["unchanged"]) == (
            (1, 0, 0) if run == 0 else (0, 0, 1)
        )
        assert b["rejected"] == [
            {"source": "b.jsonl:2", "reason": "duplicate id 'x': already in a.jsonl:1"}
        ]
        assert report.totals["indexed"] == (3 if run == 0 else 0)
    with container.sessions() as s:
        x = UserEntries(s, uid).get("x")
        assert x is not None and x.text == "Version A."
    sent = [t for call in fake_embeddings.calls for t in call]
    assert "Version B." not in sent
    assert_nothing_half_written(container, uid, store_entry_ids(container, uid))
    assert len(store_entry_ids(container, uid)) == 3


# --------------------------------------------------------------------------- CLI tests


def test_cli_ingest_reports_bad_input_as_json(tmp_path: Path) -> None:
    """`trustlens ingest --json` with the real model: same report, same clean store."""
    data = tmp_path / "data"
    folder = make_folder(tmp_path)
    result = CliRunner().invoke(
        app,
        ["ingest", str(folder), "--user", "ana", "--json"],
        env={"TRUSTLENS_DATA_DIR": str(data)},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["files"] == expected_files(folder)
    assert report["totals"]["imported"] == 4
    assert report["totals"]["rejected"] == 12
    assert report["totals"]["failed_files"] == 2
    assert report["totals"]["indexed"] == 4

    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    try:
        with c.sessions() as s:
            user = get_user_by_name(s, "ana")
            assert user is not None
            uid = user.id
        ids = store_entry_ids(c, uid)
        assert set(GOOD) < ids and len(ids) == 4
        assert_nothing_half_written(c, uid, ids)
    finally:
        c.close()


def test_cli_ingest_of_only_unreadable_files_fails(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = tmp_path / "photo.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00IHDR")
    result = CliRunner().invoke(
        app, ["ingest", str(path), "--user", "ana"], env={"TRUSTLENS_DATA_DIR": str(data)}
    )
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert (
        "0 imported, 0 updated, 0 unchanged, 0 rejected, 1 unreadable files; 0 entries indexed."
        in text
    )
    c = Container(Settings(data_dir=data), embeddings=WordHashEmbeddings())
    try:
        with c.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Entry)) == 0
            assert get_user_by_name(s, "ana") is not None
    finally:
        c.close()
