"""Episodes as stored data: what someone did, how the writer responded, and what followed.

An episode is derived at ingest (``ingest/episodes.py`` finds it, the indexer writes it
with the chunks, in the same transaction, and it is cascade-deleted with its entry), so
a habit question counts the person's episodes instead of reading the closest passages.
Every part is stored as character offsets into the entry's text, never as text: the
entry stays the only copy of what the person wrote, and a quote is always a verbatim
slice of it (the one exception, ``by``, a name in the person's words, is sealed at rest
like the entry). Reads go through ``UserEpisodes``, bound to one user like ``UserEntries``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ingest.crypto import opened, seal
from ingest.store import Base, Entry, delete_entry_rows


class EpisodeRow(Base):
    __tablename__ = "episodes"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_pk: Mapped[int] = mapped_column(ForeignKey("entries.pk", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    family: Mapped[str] = mapped_column(String(32))  # a feeling family, e.g. "let_down"
    # Who let the person down, in their words: sealed at rest (``ingest.crypto``).
    by: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger_start: Mapped[int] = mapped_column(Integer)
    trigger_end: Mapped[int] = mapped_column(Integer)
    response_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    outcome_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float] = mapped_column(Float)


class Found(Protocol):
    """What a detector hands the store (``ingest.episodes.DetectedEpisode``)."""

    @property
    def trigger(self) -> Any: ...
    @property
    def by(self) -> str | None: ...
    @property
    def family(self) -> str: ...
    @property
    def response(self) -> Any: ...
    @property
    def response_label(self) -> str | None: ...
    @property
    def outcome(self) -> Any: ...
    @property
    def score(self) -> float: ...


@dataclass(frozen=True)
class StoredEpisode:
    entry_id: str
    date: dt.date
    family: str
    by: str | None
    trigger: tuple[int, int]
    response: tuple[int, int] | None
    response_label: str | None
    outcome: tuple[int, int] | None
    score: float


def write_episodes(
    session: Session, user_id: str, found: Sequence[tuple[Entry, Sequence[Found]]]
) -> None:
    """Replace the episodes of these entries (inside the indexing transaction)."""
    pks = [e.pk for e, _ in found]
    delete_entry_rows(session, EpisodeRow, user_id, pks)
    rows: list[dict[str, Any]] = []
    for e, episodes in found:
        if e.user_id != user_id:
            raise PermissionError("entry belongs to another user")
        for seq, ep in enumerate(episodes):
            r, o = ep.response, ep.outcome
            rows.append(
                {
                    "entry_pk": e.pk,
                    "user_id": user_id,
                    "date": e.date,
                    "seq": seq,
                    "family": ep.family,
                    "by": seal(session, user_id, (ep.by or None) and ep.by[:128]),
                    "trigger_start": ep.trigger.start,
                    "trigger_end": ep.trigger.end,
                    "response_start": r.start if r else None,
                    "response_end": r.end if r else None,
                    "response_label": ep.response_label,
                    "outcome_start": o.start if o else None,
                    "outcome_end": o.end if o else None,
                    "score": float(ep.score),
                }
            )
    if rows:
        session.execute(insert(EpisodeRow), rows)


class UserEpisodes:
    """Every read of stored episodes, bound to exactly one user."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read episodes")
        self.session = session
        self.user_id = user_id

    def all(
        self, since: dt.date | None = None, until: dt.date | None = None
    ) -> list[StoredEpisode]:
        stmt = self._select()
        if since:
            stmt = stmt.where(EpisodeRow.date >= since)
        if until:
            stmt = stmt.where(EpisodeRow.date <= until)
        return self._read(stmt)

    def of_entries(self, entry_pks: Sequence[int]) -> list[StoredEpisode]:
        """The episodes of these entries only (by entry pk), in the order of ``all``:
        what a reader that keeps episodes per entry version reads after a write."""
        pks = list(entry_pks)
        out: list[StoredEpisode] = []
        for i in range(0, len(pks), 500):
            out += self._read(self._select().where(EpisodeRow.entry_pk.in_(pks[i : i + 500])))
        return out

    def _select(self) -> Any:
        return (
            select(EpisodeRow, Entry.entry_id)
            .join(Entry, Entry.pk == EpisodeRow.entry_pk)
            .where(EpisodeRow.user_id == self.user_id, Entry.user_id == self.user_id)
        )

    def _read(self, stmt: Any) -> list[StoredEpisode]:
        out = []
        for row, entry_id in self.session.execute(
            stmt.order_by(EpisodeRow.date, EpisodeRow.entry_pk, EpisodeRow.seq)
        ):
            out.append(
                StoredEpisode(
                    entry_id=entry_id,
                    date=row.date,
                    family=row.family,
                    by=opened(self.session, self.user_id, row.by),
                    trigger=(row.trigger_start, row.trigger_end),
                    response=_span(row.response_start, row.response_end),
                    response_label=row.response_label,
                    outcome=_span(row.outcome_start, row.outcome_end),
                    score=row.score,
                )
            )
        return out


def _span(a: int | None, b: int | None) -> tuple[int, int] | None:
    return None if a is None or b is None else (a, b)
