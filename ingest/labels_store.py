"""Labels on chunks and the person's corrections of them, bound to one user.

Two tables on the entry store's ``Base``: ``chunk_labels`` is derived data (written by
the indexer with the chunks, in the same transaction, and cascade-deleted with the
entry), ``label_corrections`` is the person's word (keyed by entry id, never touched
by indexing, so a correction survives a reindex and a re-import). Every read goes
through ``UserLabels``, bound to one user like ``UserEntries``; corrections win over the
model: a rejected label is gone everywhere, a confirmed one is there even when the
model did not find it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    delete,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from ingest.chunking import sentence_spans
from ingest.store import Base, Chunk, Entry, UserEntries, delete_entry_rows, utcnow
from ingest.tagging import EntryTags, load_tag_spec

Verdict = Literal["confirm", "reject"]
VERDICTS: tuple[str, ...] = ("confirm", "reject")
ENTRY_SEQ = -1  # chunk_seq of the row holding the whole entry's era


class ChunkLabel(Base):
    """One label on one chunk (or, with ``chunk_seq`` -1, the entry's era)."""

    __tablename__ = "chunk_labels"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.pk", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    chunk_seq: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column(String(16))  # patterns | repair | emotions | era
    score: Mapped[float] = mapped_column(Float)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    # False: the entry's best chunk for a label the model did not find (kept so that a
    # confirmed label can be shown with its most likely sentence).
    positive: Mapped[bool] = mapped_column(Boolean, default=True)


class LabelCorrection(Base):
    """The person confirmed or rejected a label on one of their entries."""

    __tablename__ = "label_corrections"
    __table_args__ = (
        UniqueConstraint("user_id", "entry_id", "label", name="uq_label_corrections"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class LabelSpan:
    label: str
    group: str  # "patterns" | "repair" | "emotions" | "era"
    score: float
    start: int  # offsets into the entry's text; text[start:end] is the evidence sentence
    end: int
    source: str = "model"  # "model" | "confirmed"


@dataclass
class EntryLabels:
    entry_id: str
    date: dt.date
    era: str
    # Positive labels only (patterns, repair, emotions), best span each, corrections
    # applied: rejected removed; confirmed added with the best-scoring span for that
    # label, or the entry's first sentence.
    labels: dict[str, LabelSpan]


@dataclass(frozen=True)
class Correction:
    entry_id: str
    label: str
    verdict: str
    created_at: dt.datetime


def known_labels() -> dict[str, str]:
    """Label → group for every label a person can confirm or reject."""
    return dict(load_tag_spec().labels)


# ------------------------------------------------------------------ indexer side


def write_entry_tags(
    session: Session, user_id: str, tagged: Sequence[tuple[Entry, EntryTags]]
) -> None:
    """Replace the label rows of these entries (called inside the indexing transaction)."""
    pks = [e.pk for e, _ in tagged]
    delete_entry_rows(session, ChunkLabel, user_id, pks)
    # Plain rows in one executemany: ORM objects cost more than the tagging itself.
    rows: list[dict[str, Any]] = []

    def row(
        pk: int, seq: int, label: str, group: str, score: float, a: int, b: int, positive: bool
    ) -> dict[str, Any]:
        return {
            "entry_pk": pk,
            "user_id": user_id,
            "chunk_seq": seq,
            "label": label,
            "group": group,
            "score": score,
            "start": a,
            "end": b,
            "positive": positive,
        }

    for e, tags in tagged:
        if e.user_id != user_id:
            raise PermissionError("entry belongs to another user")
        rows.append(row(e.pk, ENTRY_SEQ, tags.era, "era", 1.0, 0, len(e.text), True))
        for c in tags.chunks:
            rows.append(row(e.pk, c.seq, c.era, "era", 1.0, c.start, c.end, True))
            for h in c.hits:
                rows.append(row(e.pk, c.seq, h.label, h.group, h.score, h.start, h.end, h.positive))
    if rows:
        session.execute(insert(ChunkLabel), rows)


def chunk_metadata(tags: EntryTags, verdicts: Mapping[str, str]) -> list[dict[str, Any]]:
    """Chroma metadata for each chunk: its era, the entry's era and ``lab_<label>: True``
    for each positive label; a rejected label is left out, a confirmed one is put on the
    chunk that shows it best (the first chunk when the model found nothing)."""
    out: list[dict[str, Any]] = []
    for c in tags.chunks:
        meta: dict[str, Any] = {"era": c.era, "entry_era": tags.era}
        for h in c.positive:
            if verdicts.get(h.label) != "reject":
                meta[f"lab_{h.label}"] = True
        out.append(meta)
    if out:
        best = tags.best()
        for label, verdict in verdicts.items():
            if verdict != "confirm" or label in tags.positive_labels():
                continue
            at = best[label].start if label in best else -1
            idx = next((i for i, c in enumerate(tags.chunks) if c.start <= at < c.end), 0)
            out[idx][f"lab_{label}"] = True
    return out


# ---------------------------------------------------------------------- reader


class UserLabels:
    """Labels and corrections of exactly one user's entries."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read or write labels")
        self.session = session
        self.user_id = user_id
        self.entries = UserEntries(session, user_id)

    # -- corrections

    def correct(self, entry_id: str, label: str, verdict: Verdict) -> None:
        """Confirm or reject ``label`` on one of the user's entries (replaces a previous
        verdict). The caller re-indexes the entry so the index metadata follows."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be 'confirm' or 'reject', not {verdict!r}")
        self._check_label(label)
        self._entry(entry_id)
        row = self._correction(entry_id, label)
        if row is None:
            self.session.add(
                LabelCorrection(
                    user_id=self.user_id, entry_id=entry_id, label=label, verdict=verdict
                )
            )
        else:
            row.verdict = verdict
            row.created_at = utcnow()
        self.session.flush()

    def clear_correction(self, entry_id: str, label: str) -> None:
        self._check_label(label)
        self._entry(entry_id)
        self.session.execute(
            delete(LabelCorrection).where(
                LabelCorrection.user_id == self.user_id,
                LabelCorrection.entry_id == entry_id,
                LabelCorrection.label == label,
            )
        )
        self.session.flush()

    def corrections(self) -> list[Correction]:
        rows = self.session.scalars(
            select(LabelCorrection)
            .where(LabelCorrection.user_id == self.user_id)
            .order_by(LabelCorrection.entry_id, LabelCorrection.label)
        )
        return [Correction(r.entry_id, r.label, r.verdict, r.created_at) for r in rows]

    def verdicts(self, entry_ids: Iterable[str] | None = None) -> dict[str, dict[str, str]]:
        """entry id → label → verdict, for these entries (all if None)."""
        stmt = select(LabelCorrection).where(LabelCorrection.user_id == self.user_id)
        if entry_ids is not None:
            ids = list(set(entry_ids))
            if not ids:
                return {}
            stmt = stmt.where(LabelCorrection.entry_id.in_(ids))
        out: dict[str, dict[str, str]] = {}
        for r in self.session.scalars(stmt):
            out.setdefault(r.entry_id, {})[r.label] = r.verdict
        return out

    # -- labels

    def spans(self, entry_ids: Iterable[str] | None = None) -> dict[str, list[LabelSpan]]:
        """Every positive chunk-level hit per entry, ordered by start, corrections applied."""
        entries = self._entries(entry_ids)
        rows = self._rows(entries)
        verdicts = self.verdicts(entries)
        return {
            eid: entry_spans(e.text, rows.get(e.pk, []), verdicts.get(eid, {}))
            for eid, e in entries.items()
        }

    def entry_labels(self, entry_ids: Iterable[str] | None = None) -> dict[str, EntryLabels]:
        """Each entry's era and best span per positive label (all entries if None)."""
        entries = self._entries(entry_ids)
        rows = self._rows(entries)
        spans = self.spans(entries)
        return {
            eid: labels_of(eid, e.date, rows.get(e.pk, []), spans[eid])
            for eid, e in entries.items()
        }

    def untagged(self) -> list[int]:
        """Entries of this user with chunks but no labels (indexed before tagging existed,
        or by an indexer without a tagger): re-indexing them tags them."""
        tagged = select(ChunkLabel.entry_pk).where(
            ChunkLabel.user_id == self.user_id, ChunkLabel.chunk_seq == ENTRY_SEQ
        )
        chunked = select(Chunk.entry_pk).where(Chunk.user_id == self.user_id)
        return list(
            self.session.scalars(
                select(Entry.pk)
                .where(Entry.user_id == self.user_id)
                .where(Entry.pk.in_(chunked), Entry.pk.not_in(tagged))
                .order_by(Entry.pk)
            )
        )

    # -- helpers

    def _entries(self, entry_ids: Iterable[str] | None) -> dict[str, Entry]:
        if entry_ids is None:
            return {e.entry_id: e for e in self.entries.all()}
        return self.entries.get_many(entry_ids)

    def _rows(self, entries: Mapping[str, Entry]) -> dict[int, list[ChunkLabel]]:
        return self.rows_of([e.pk for e in entries.values()])

    def rows_of(self, pks: Sequence[int]) -> dict[int, list[ChunkLabel]]:
        """The label rows of these entries (by entry pk), ordered by start; only this
        user's rows, whatever pks are asked for."""
        out: dict[int, list[ChunkLabel]] = {}
        for i in range(0, len(pks), 500):
            for r in self.session.scalars(
                select(ChunkLabel)
                .where(
                    ChunkLabel.user_id == self.user_id, ChunkLabel.entry_pk.in_(pks[i : i + 500])
                )
                .order_by(ChunkLabel.entry_pk, ChunkLabel.start)
            ):
                out.setdefault(r.entry_pk, []).append(r)
        return out

    def _correction(self, entry_id: str, label: str) -> LabelCorrection | None:
        return self.session.scalar(
            select(LabelCorrection).where(
                LabelCorrection.user_id == self.user_id,
                LabelCorrection.entry_id == entry_id,
                LabelCorrection.label == label,
            )
        )

    def _entry(self, entry_id: str) -> Entry:
        e = self.entries.get(entry_id)
        if e is None:
            raise KeyError(f"no entry {entry_id!r} for this user")
        return e

    @staticmethod
    def _check_label(label: str) -> None:
        labels = known_labels()
        if label not in labels:
            raise ValueError(f"unknown label {label!r}; known labels: {', '.join(labels)}")


def entry_spans(
    text: str, rows: Sequence[ChunkLabel], verdict: Mapping[str, str]
) -> list[LabelSpan]:
    """One entry's positive chunk-level hits, ordered by start, with the person's
    ``verdict`` per label applied: rejected dropped, confirmed added where missing.

    A pure function of the stored rows, so a reader that keeps rows per entry version
    (``service.insight.journal``) gives exactly what ``UserLabels.spans`` gives."""
    mine = [r for r in rows if r.group != "era"]
    spans = [
        _span(r, "confirmed" if verdict.get(r.label) == "confirm" else "model")
        for r in mine
        if r.positive and verdict.get(r.label) != "reject"
    ]
    have = {s.label for s in spans}
    for label, v in verdict.items():
        if v == "confirm" and label not in have:
            spans.append(_confirmed_span(text, label, mine))
    return sorted(spans, key=lambda s: (s.start, s.label))


def labels_of(
    entry_id: str, date: dt.date, rows: Sequence[ChunkLabel], spans: Sequence[LabelSpan]
) -> EntryLabels:
    """An entry's era and best span per label, from its rows and ``entry_spans``."""
    era = next((r.label for r in rows if r.chunk_seq == ENTRY_SEQ), "present")
    best: dict[str, LabelSpan] = {}
    for s in spans:
        if s.label not in best or s.score > best[s.label].score:
            best[s.label] = s
    return EntryLabels(entry_id=entry_id, date=date, era=era, labels=best)


def _confirmed_span(text: str, label: str, rows: Sequence[ChunkLabel]) -> LabelSpan:
    group = known_labels().get(label, "patterns")
    cands = [r for r in rows if r.label == label]
    if cands:
        r = max(cands, key=lambda r: r.score)
        return LabelSpan(label, group, r.score, r.start, r.end, "confirmed")
    sents = sentence_spans(text)
    start, end = (sents[0].start, sents[0].end) if sents else (0, len(text))
    return LabelSpan(label, group, 1.0, start, end, "confirmed")


def _span(r: ChunkLabel, source: str) -> LabelSpan:
    return LabelSpan(r.label, r.group, float(r.score), r.start, r.end, source)
