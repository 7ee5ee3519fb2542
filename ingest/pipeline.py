"""Import files into one person's journal: read, validate, store, then index.

Each file is stored in small transactions so that a crash keeps everything committed
so far; re-running the same import is a no-op for unchanged entries (same id, same
content hash) and re-embeds only entries whose text changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ingest.indexing import Indexer
from ingest.readers import read_path
from ingest.records import FileRead, RawEntry, Rejected
from ingest.store import UserEntries, derived_entry_id


@dataclass
class FileReport:
    """What happened to one file; shown to the person after an import."""

    path: str
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [{"source": r.source, "reason": r.reason} for r in self.rejected],
            "error": self.error,
        }


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    indexed: int = 0

    @property
    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "imported": sum(f.imported for f in self.files),
            "updated": sum(f.updated for f in self.files),
            "unchanged": sum(f.unchanged for f in self.files),
            "rejected": sum(len(f.rejected) for f in self.files),
            "failed_files": sum(1 for f in self.files if f.error),
            "indexed": self.indexed,
        }

    def as_dict(self) -> dict[str, object]:
        return {"files": [f.as_dict() for f in self.files], "totals": self.totals}


class Importer:
    def __init__(self, sessions: sessionmaker[Session], indexer: Indexer, commit_every: int = 64):
        self.sessions = sessions
        self.indexer = indexer
        self.commit_every = commit_every

    def import_path(
        self,
        user_id: str,
        path: str | Path,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ImportReport:
        return self.import_reads(user_id, read_path(path), progress)

    def import_reads(
        self,
        user_id: str,
        reads: Iterable[FileRead],
        progress: Callable[[str, int, int], None] | None = None,
    ) -> ImportReport:
        report = ImportReport()
        # Finish whatever an earlier, interrupted run committed but did not index.
        report.indexed += self.indexer.index_pending(user_id)
        # Explicit ids seen in this import, and where: an id repeated in another file would
        # silently overwrite the first entry, and flip between the two on every re-import.
        seen: dict[str, str] = {}
        for fr in reads:
            fr_report = FileReport(path=fr.path, rejected=list(fr.rejected), error=fr.error)
            report.files.append(fr_report)
            total = len(fr.entries)
            done = 0
            for i in range(0, total, self.commit_every):
                batch = fr.entries[i : i + self.commit_every]
                changed = self._store_batch(user_id, batch, fr_report, seen)
                if changed:
                    self.indexer.index_entries(user_id, changed)
                    report.indexed += len(changed)
                done += len(batch)
                if progress:
                    progress(fr.path, done, total)
        return report

    def _store_batch(
        self, user_id: str, batch: list[RawEntry], fr_report: FileReport, seen: dict[str, str]
    ) -> list[int]:
        """Commit one batch of entries in one transaction; returns the changed entry pks."""
        changed: list[int] = []
        with self.sessions() as session:
            store = UserEntries(session, user_id)
            for raw in batch:
                if raw.id is not None:
                    first = seen.setdefault(raw.id, raw.source)
                    if first != raw.source:
                        fr_report.rejected.append(
                            Rejected(raw.source, f"duplicate id '{raw.id}': already in {first}")
                        )
                        continue
                eid = raw.id or derived_entry_id(raw.text, raw.date)
                entry, status = store.upsert(eid, raw.date, raw.text, raw.tags, raw.source)
                if status == "imported":
                    fr_report.imported += 1
                elif status == "updated":
                    fr_report.updated += 1
                else:
                    fr_report.unchanged += 1
                if status != "unchanged":
                    changed.append(entry.pk)
            session.commit()
        return changed
