"""Entries through the API: write, update, delete, list, import, and index status.

Every read and write goes through ``UserEntries`` (``EntryQueries`` only adds the list
and delete queries the API needs, still bound to one user). The entry store stays the
source of truth: writes are committed before they are indexed, and a delete first marks
the entry unindexed, then removes its chunks from Chroma, then deletes the row, so a
crash at any point leaves either the entry (re-indexed at start-up, delete can be
retried) or nothing at all, never chunks of a deleted entry.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ingest.index_queue import IndexQueueItem, IndexWorker, enqueue, queue_states
from ingest.indexing import Indexer
from ingest.labels_store import VERDICTS, LabelCorrection, UserLabels, known_labels
from ingest.pipeline import Importer
from ingest.readers import read_path
from ingest.readers.jsonfile import EXPORT_FORMAT
from ingest.readers.jsonl import add_item
from ingest.readers.validate import (
    EntryCollector,
    Invalid,
    check_date,
    check_id,
    check_tags,
    check_text,
)
from ingest.records import FileRead, Rejected
from ingest.store import Chunk, Entry, IndexState, UserEntries, derived_entry_id
from ingest.vector_index import ChromaIndex, user_filter
from service.errors import (
    CursorInvalid,
    EntryChanged,
    EntryInvalid,
    EntryNotFound,
    IndexUnavailable,
    TooLarge,
    UnknownPattern,
)
from service.errors import Invalid as InvalidRequest
from service.insight.schemas import Followup
from service.insight.service import InsightService
from service.safety.gate import SafetyGate
from service.safety.schemas import Safety
from service.settings import Settings

T = TypeVar("T")

log = logging.getLogger("trustlens.entries")

WRITE_TRIES = 6  # a write that loses a race (same new id, a busy SQLite) is retried


@dataclass
class SavedEntry:
    entry: Entry
    status: str  # imported | updated | unchanged
    indexed: bool


@dataclass
class WrittenEntry:
    saved: SavedEntry
    safety: Safety | None
    followups: list[Followup]


@dataclass(frozen=True)
class IndexStatus:
    entry_id: str
    date: dt.date
    indexed: bool
    indexed_at: dt.datetime | None
    chunks: int  # chunks of the indexed version (0 while not indexed)
    index_chunks: int | None = None  # chunks found in the vector index right now
    attempts: int = 0  # failed indexing tries of the queued version
    last_error: str | None = None  # the last failure's exception type (never text)


class EntryQueries(UserEntries):
    """``UserEntries`` plus the paged list and the delete the API needs (same one user)."""

    def page_after(
        self,
        after: tuple[dt.date, str] | None,
        since: dt.date | None,
        until: dt.date | None,
        entry_ids: set[str] | None,
        limit: int,
    ) -> list[Entry]:
        stmt = select(Entry).where(Entry.user_id == self.user_id)
        if since:
            stmt = stmt.where(Entry.date >= since)
        if until:
            stmt = stmt.where(Entry.date <= until)
        if entry_ids is not None:
            stmt = stmt.where(Entry.entry_id.in_(sorted(entry_ids)))
        if after:
            d, eid = after
            stmt = stmt.where(or_(Entry.date > d, and_(Entry.date == d, Entry.entry_id > eid)))
        return list(self.session.scalars(stmt.order_by(Entry.date, Entry.entry_id).limit(limit)))

    def chunk_counts(self, entries: Sequence[Entry]) -> dict[int, int]:
        pks = [e.pk for e in entries]
        out = dict.fromkeys(pks, 0)
        for i in range(0, len(pks), 500):
            rows = self.session.execute(
                select(Chunk.entry_pk, func.count())
                .where(Chunk.user_id == self.user_id, Chunk.entry_pk.in_(pks[i : i + 500]))
                .group_by(Chunk.entry_pk)
            )
            for pk, n in rows:
                out[pk] = int(n)
        return out

    def get_for_update(self, entry_id: str) -> Entry | None:
        """The entry, its row locked until commit on PostgreSQL. On SQLite the whole
        database's write lock is taken first (BEGIN IMMEDIATE): pysqlite reads outside
        any transaction until the first write, so two writers could both read version 1,
        both pass an If-Match of it, and the second would overwrite the first."""
        conn = self.session.connection()
        if conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return self.session.scalar(
            select(Entry)
            .where(Entry.user_id == self.user_id, Entry.entry_id == entry_id)
            .with_for_update()
        )

    def mark_unindexed(self, entry: Entry) -> None:
        self._own(entry)
        self.session.execute(delete(IndexState).where(IndexState.entry_pk == entry.pk))
        self.session.execute(delete(IndexQueueItem).where(IndexQueueItem.entry_pk == entry.pk))
        self.bump_revision()

    def delete(self, entry: Entry) -> None:
        self._own(entry)
        self.session.delete(entry)  # chunks, labels and index state go with it (cascade)
        # Corrections are keyed by entry id (they outlive re-imports), not by the row.
        self.session.execute(
            delete(LabelCorrection).where(
                LabelCorrection.user_id == self.user_id,
                LabelCorrection.entry_id == entry.entry_id,
            )
        )
        self.bump_revision()
        self.session.flush()


# ---------------------------------------------------------------------------- writes


def _checked(field: str, check: Callable[[object], T], value: object) -> T:
    try:
        return check(value)
    except Invalid as e:
        raise EntryInvalid(field, e.reason) from None


# ----------------------------------------------------------------------------- reads


def _is_current(e: Entry) -> bool:
    return bool(e.index_state and e.index_state.indexed_hash == e.content_hash)


def etag(e: Entry) -> str:
    """The entry version's entity tag (its content hash), for ``ETag`` / ``If-Match``."""
    return f'"{e.content_hash[:32]}"'


def _matches(if_match: str, e: Entry) -> bool:
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    return "*" in tags or etag(e) in tags


def _retryable(e: Exception) -> bool:
    """A lost race, not a refusal: the same new id inserted by another request (unique
    key), SQLite busy, or a PostgreSQL deadlock or serialization failure."""
    return isinstance(e, (IntegrityError, OperationalError))


def _pause(attempt: int) -> None:
    time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))


def encode_cursor(e: Entry) -> str:
    raw = json.dumps([e.date.isoformat(), e.entry_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.date, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        d, eid = json.loads(raw)
        return dt.date.fromisoformat(d), str(eid)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise CursorInvalid() from None


@dataclass
class Page:
    items: list[tuple[Entry, bool]]
    next_cursor: str | None


# ---------------------------------------------------------------------------- import


def check_range(since: dt.date | None, until: dt.date | None) -> None:
    if since and until and since > until:
        raise InvalidRequest("until", "since must not be after until")


def check_pattern(pattern: str) -> None:
    labels = known_labels()
    if pattern not in labels:
        raise UnknownPattern(f"unknown pattern {pattern!r}; known: {', '.join(sorted(labels))}")


_SAFE_NAME = re.compile(r"[\w][\w .,()+-]{0,199}")


def upload_name(filename: str) -> str:
    """The name an upload is stored and reported under, never a path: the client's base
    name when it is a plain file name (letters, digits, spaces and . , ( ) + - only, at most
    200 characters, not starting with a dot), else "upload" with its extension if plain."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if _SAFE_NAME.fullmatch(base):
        return base
    suffix = Path(base).suffix.lower()
    return "upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else "")


def _export_sections(name: str, data: bytes) -> object:
    """The ``sections`` of an uploaded trustlens export (None for any other file)."""
    if not name.lower().endswith(".json"):
        return None
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(doc, dict) and doc.get("format") == EXPORT_FORMAT:
        return doc.get("sections")
    return None


class EntriesService:
    """Entries of one person at a time: every method takes the caller's user id and reads
    or writes only through user-bound accessors."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        index: ChromaIndex,
        indexer: Indexer,
        worker: IndexWorker,
        importer: Importer,
        gate: SafetyGate,
        insight: InsightService,
    ):
        self.settings = settings
        self.sessions = sessions
        self.index = index
        self.indexer = indexer
        self.worker = worker
        self.importer = importer
        self.gate = gate
        self.insight = insight

    def create(
        self, user_id: str, *, id: object, date: object, text: object, tags: object
    ) -> WrittenEntry:
        """Save → safety gate → follow-up questions: the one write path of a new entry,
        for the API and ``trustlens write`` alike. The entry is saved whatever the gate
        says; crisis language gets resources and no insight (no follow-ups); a concern
        gets the resources beside the follow-ups."""
        saved = self.save_entry(user_id, id=id, date=date, text=text, tags=tags)
        safety = self.gate.check(saved.entry.text, "entry", user_id)
        crisis = safety is not None and safety.level == "crisis"
        followups = [] if crisis else self._followups(user_id, saved.entry.entry_id)
        return WrittenEntry(saved, safety, followups)

    def _followups(self, user_id: str, entry_id: str) -> list[Followup]:
        """Follow-ups read the index; an index that does not answer costs the questions,
        never the write (the entry is committed and queued already)."""
        try:
            return self.insight.followups(user_id, entry_id)
        except Exception as e:
            log.warning("follow-ups skipped: %s", type(e).__name__)
            return []

    def entry_status(self, user_id: str, entry_id: str) -> IndexStatus:
        """One entry's index status, checked against the vector index itself."""
        found = self.index_statuses(user_id, entry_id=entry_id, check_index=True)
        if not found:
            raise EntryNotFound(entry_id)
        return found[0]

    def require(self, user_id: str, entry_id: str) -> tuple[Entry, bool]:
        """The entry and whether it is indexed; ``EntryNotFound`` if it is not theirs."""
        found = self.get_entry(user_id, entry_id)
        if found is None:
            raise EntryNotFound(entry_id)
        return found

    def save_entry(
        self, user_id: str, *, id: object, date: object, text: object, tags: object
    ) -> SavedEntry:
        """Validate with the same rules as file import, commit with its index work, then
        wait (at most ``TRUSTLENS_INDEX_WAIT_S``) for the indexer."""
        clean_date, clean_text, clean_tags = self._clean(date, text, tags)
        clean_id = _checked("id", check_id, id)
        eid = clean_id or derived_entry_id(clean_text, clean_date)
        return self._write(user_id, eid, lambda _old: (clean_date, clean_text, clean_tags))

    def _clean(self, date: object, text: object, tags: object) -> tuple[dt.date, str, list[str]]:
        clean_text = _checked("text", check_text, text)
        limit = self.settings.max_entry_chars
        if len(clean_text) > limit:
            raise EntryInvalid("text", f"longer than the limit of {limit} characters")
        clean_date = _checked("date", check_date, date)
        clean_tags = _checked("tags", check_tags, tags)
        return clean_date, clean_text, list(clean_tags)

    def _write(
        self,
        user_id: str,
        entry_id: str,
        build: Callable[[Entry | None], tuple[dt.date, str, list[str]]],
        *,
        must_exist: bool = False,
        if_match: str | None = None,
    ) -> SavedEntry:
        """The one write transaction: read the entry (locked), check the preconditions,
        upsert it and queue its index work, commit; a lost race is retried, so writers of
        one id end in one stored version and every request gets an answer, not a 500."""
        for attempt in range(WRITE_TRIES):
            try:
                with self.sessions() as session:
                    store = EntryQueries(session, user_id)
                    old = store.get_for_update(entry_id)
                    if old is None and (must_exist or if_match):
                        raise EntryNotFound(entry_id)
                    if old is not None and if_match and not _matches(if_match, old):
                        raise EntryChanged(entry_id)
                    d, t, tags = build(old)
                    entry, status = store.upsert(entry_id, d, t, tags, "api")
                    current = _is_current(entry)
                    if not current:
                        enqueue(session, [entry])
                    session.commit()
                break
            except (IntegrityError, OperationalError) as e:
                if attempt == WRITE_TRIES - 1 or not _retryable(e):
                    raise
                _pause(attempt)
        indexed = current or self._await_index(user_id, entry)
        return SavedEntry(entry=entry, status=status, indexed=indexed)

    def _await_index(self, user_id: str, entry: Entry) -> bool:
        """Give the indexer a bounded time for this version; inline where none runs."""
        if self.worker.running:
            self.worker.notify()
            return self.worker.wait_indexed(
                user_id, entry.entry_id, entry.content_hash, self.settings.index_wait_s
            )
        self.worker.drain()
        return self.is_indexed(user_id, entry.entry_id)

    def update_entry(
        self,
        user_id: str,
        entry_id: str,
        *,
        date: object | None = None,
        text: object | None = None,
        tags: object | None = None,
        if_match: str | None = None,
    ) -> SavedEntry:
        """Change an existing entry (fields left ``None`` keep their value); with
        ``if_match``, only if it still is that version (else ``EntryChanged``, 412)."""

        def build(old: Entry | None) -> tuple[dt.date, str, list[str]]:
            assert old is not None
            return self._clean(
                old.date.isoformat() if date is None else date,
                old.text if text is None else text,
                list(old.tags) if tags is None else tags,
            )

        return self._write(user_id, entry_id, build, must_exist=True, if_match=if_match)

    def delete_entry(self, user_id: str, entry_id: str, if_match: str | None = None) -> None:
        """Remove an entry from the index and the store (in the crash-safe order above)."""
        with self.sessions() as session:
            store = EntryQueries(session, user_id)
            entry = store.get_for_update(entry_id)
            if entry is None:
                raise EntryNotFound(entry_id)
            if if_match and not _matches(if_match, entry):
                raise EntryChanged(entry_id)
            store.mark_unindexed(entry)
            session.commit()
        try:
            self.index.delete_entries(user_id, [entry_id])
        except Exception as e:  # the entry stays, unindexed; deleting again finishes it
            log.warning("index delete failed: %s", type(e).__name__)
            raise IndexUnavailable() from None
        with self.sessions() as session:
            store = EntryQueries(session, user_id)
            entry = store.get(entry_id)
            if entry is not None:
                store.delete(entry)
            session.commit()

    def is_indexed(self, user_id: str, entry_id: str) -> bool:
        with self.sessions() as session:
            e = UserEntries(session, user_id).get(entry_id)
            return bool(e and _is_current(e))

    def get_entry(self, user_id: str, entry_id: str) -> tuple[Entry, bool] | None:
        with self.sessions() as session:
            e = UserEntries(session, user_id).get(entry_id)
            if e is None:
                return None
            return e, _is_current(e)

    def list_entries(
        self,
        user_id: str,
        *,
        limit: int,
        cursor: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        tag: str | None = None,
        pattern: str | None = None,
        entry_ids: set[str] | None = None,
    ) -> Page:
        """One page in (date, id) order; the cursor is the last item's position.

        ``limit`` is at most ``TRUSTLENS_MAX_PAGE_SIZE``; an unknown ``pattern`` is refused.

        ``pattern`` keeps entries carrying that label (the tagger's, with the person's
        corrections applied: a rejected label is gone, a confirmed one is there).

        The tag filter runs over fetched rows (tags are a JSON list, which SQLite and
        PostgreSQL query differently), so rows are fetched in batches until the page fills.
        """
        if limit > self.settings.max_page_size:
            raise InvalidRequest(
                "limit", f"at most {self.settings.max_page_size} (TRUSTLENS_MAX_PAGE_SIZE)"
            )
        check_range(since, until)
        if pattern is not None:
            check_pattern(pattern)
        after = decode_cursor(cursor) if cursor else None
        out: list[tuple[Entry, bool]] = []
        with self.sessions() as session:
            store = EntryQueries(session, user_id)
            if pattern is not None:
                labelled = {
                    eid
                    for eid, el in UserLabels(session, user_id).entry_labels().items()
                    if pattern in el.labels
                }
                entry_ids = labelled if entry_ids is None else entry_ids & labelled
            batch = max(limit + 1, 100) if tag else limit + 1
            while len(out) <= limit:
                rows = store.page_after(after, since, until, entry_ids, batch)
                for e in rows:
                    if tag is None or tag in e.tags:
                        out.append((e, _is_current(e)))
                        if len(out) > limit:
                            break
                if len(rows) < batch:
                    break
                after = (rows[-1].date, rows[-1].entry_id)
        more = len(out) > limit
        out = out[:limit]
        return Page(out, encode_cursor(out[-1][0]) if more and out else None)

    def index_statuses(
        self,
        user_id: str,
        *,
        entry_id: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        check_index: bool = False,
    ) -> list[IndexStatus]:
        """Whether each entry's current version is indexed, when, and in how many chunks."""
        check_range(since, until)
        with self.sessions() as session:
            store = EntryQueries(session, user_id)
            if entry_id is not None:
                one = store.get(entry_id)
                entries = [one] if one else []
            else:
                entries = store.page_after(None, since, until, None, 1_000_000)
            counts = store.chunk_counts(entries)
            queued = queue_states(session, user_id, [e.pk for e in entries])
            out = []
            for e in entries:
                current = _is_current(e)
                state = e.index_state
                q = None if current else queued.get(e.pk)
                out.append(
                    IndexStatus(
                        entry_id=e.entry_id,
                        date=e.date,
                        indexed=current,
                        indexed_at=state.indexed_at if state and current else None,
                        chunks=counts[e.pk] if current else 0,
                        attempts=q.attempts if q else 0,
                        last_error=q.last_error if q else None,
                    )
                )
        if check_index and out:
            try:
                found = self._index_chunk_counts(user_id, [s.entry_id for s in out])
            except Exception as e:  # the index is down: say what the store knows
                log.warning("index chunk count failed: %s", type(e).__name__)
                return out
            out = [
                IndexStatus(**{**s.__dict__, "index_chunks": found.get(s.entry_id, 0)}) for s in out
            ]
        return out

    def _index_chunk_counts(self, user_id: str, entry_ids: list[str]) -> dict[str, int]:
        where: Any = {"$and": [user_filter(user_id), {"entry_id": {"$in": entry_ids}}]}
        got = self.index.collection.get(where=where, include=["metadatas"])
        counts: dict[str, int] = {}
        for meta in got.get("metadatas") or []:
            eid = str(meta["entry_id"])
            counts[eid] = counts.get(eid, 0) + 1
        return counts

    def _enforce_limits(self, reads: list[FileRead]) -> list[FileRead]:
        # Every item sent counts, the ones the reader refused as well as the valid ones.
        n = sum(len(fr.entries) + len(fr.rejected) for fr in reads)
        if n > self.settings.max_batch_entries:
            raise TooLarge(
                f"{n} entries in one import; the limit is {self.settings.max_batch_entries} "
                "(TRUSTLENS_MAX_BATCH_ENTRIES): split the import."
            )
        limit = self.settings.max_entry_chars
        for fr in reads:
            keep = []
            for e in fr.entries:
                if len(e.text) > limit:
                    fr.rejected.append(
                        Rejected(e.source, f"text longer than the limit of {limit} characters")
                    )
                else:
                    keep.append(e)
            fr.entries = keep
        return reads

    def apply_sections(self, user_id: str, sections: object) -> dict[str, object]:
        """Restore the sections of an export that import understands (label corrections).

        Runs after the entries are imported; each correction is applied or reported, like
        an entry, and the corrected entries are re-indexed so the index metadata follows.
        """
        out: dict[str, object] = {}
        if not isinstance(sections, dict):
            return out
        items = sections.get("label_corrections")
        if isinstance(items, list):
            applied, rejected, pks = 0, [], set()
            with self.sessions() as session:
                labels = UserLabels(session, user_id)
                for number, item in enumerate(items, start=1):
                    source = f"label_corrections:{number}"
                    if not isinstance(item, dict):
                        rejected.append({"source": source, "reason": "expected a JSON object"})
                        continue
                    eid, label, verdict = (
                        item.get("entry_id"),
                        item.get("label"),
                        item.get("verdict"),
                    )
                    if verdict not in VERDICTS or not isinstance(label, str):
                        rejected.append({"source": source, "reason": "needs a label and a verdict"})
                        continue
                    try:
                        labels.correct(str(eid), label, verdict)
                    except (KeyError, ValueError) as e:
                        rejected.append({"source": source, "reason": str(e).strip("'\"")})
                        continue
                    applied += 1
                    entry = labels.entries.get(str(eid))
                    if entry is not None:
                        pks.add(entry.pk)
                session.commit()
            if pks:
                self.indexer.index_entries(user_id, sorted(pks))
            out["label_corrections"] = {"applied": applied, "rejected": rejected}
        return out

    def import_items(
        self, user_id: str, items: Iterable[object], sections: object = None
    ) -> dict[str, object]:
        """Bulk import from a JSON body: the same validation and report as a file import."""
        collector = EntryCollector("request")
        for number, item in enumerate(items, start=1):
            add_item(collector, f"request:{number}", item)
        reads = self._enforce_limits([collector.result])
        report = self.importer.import_reads(user_id, reads).as_dict()
        report["sections"] = self.apply_sections(user_id, sections)
        return report

    def import_upload(self, user_id: str, filename: str, stream: BinaryIO) -> dict[str, object]:
        """Bulk import of one uploaded file, in any format ``trustlens ingest`` reads.

        At most ``TRUSTLENS_MAX_UPLOAD_BYTES`` are read (one more byte tells it is over)."""
        limit = self.settings.max_upload_bytes
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"file over the limit of {limit} bytes (TRUSTLENS_MAX_UPLOAD_BYTES)")
        name = upload_name(filename)
        with tempfile.TemporaryDirectory(prefix="trustlens-upload-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            reads = read_path(path)
            for fr in reads:
                # Report the upload's name, never the server's temporary folder.
                fr.path = fr.path.replace(str(path), name).replace(tmp, "")
                if fr.error:
                    fr.error = fr.error.replace(str(path), name).replace(tmp, "")
            reads = self._enforce_limits(reads)
            report = self.importer.import_reads(user_id, reads).as_dict()
        report["sections"] = self.apply_sections(user_id, _export_sections(name, data))
        return report
