"""The person's edits of the people list (who their journal is about), bound to one user.

The list itself is derived from the person's own entries (names written with a capital
mid-sentence, ``service.ask.planner.JournalVocabulary``); here the person adds names the
derivation missed and removes words that are not people. With an LLM configured, every
name on the list is replaced by a placeholder before a request leaves the process
(``service.answer.pseudonyms``). The names are the person's words: sealed at rest.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import DateTime, ForeignKey, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ingest.crypto import Sealed, sealed_model
from ingest.store import Base, utcnow


@sealed_model
class PeopleEdits(Base):
    __tablename__ = "people_edits"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    added_sealed: Mapped[str] = mapped_column("added", Text)  # JSON list of names
    added = Sealed("added_sealed")
    removed_sealed: Mapped[str] = mapped_column("removed", Text)
    removed = Sealed("removed_sealed")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _norm(name: str) -> str:
    return " ".join(name.split()).lower()


class UserPeople:
    """Read and edit one person's additions to and removals from their people list."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read or write the people list")
        self.session = session
        self.user_id = user_id

    def _row(self) -> PeopleEdits | None:
        return self.session.scalar(select(PeopleEdits).where(PeopleEdits.user_id == self.user_id))

    def edits(self) -> tuple[list[str], list[str]]:
        row = self._row()
        if row is None:
            return [], []
        return list(json.loads(row.added)), list(json.loads(row.removed))

    def apply(self, derived: list[str]) -> list[str]:
        """The people list: derived names, plus additions, less removals (sorted)."""
        added, removed = self.edits()
        gone = {_norm(n) for n in removed}
        out = {_norm(n): n for n in derived if _norm(n) not in gone}
        out.update({_norm(n): n for n in added if _norm(n) not in gone})
        return sorted(out.values(), key=str.lower)

    def edit(self, add: list[str], remove: list[str]) -> None:
        added, removed = self.edits()
        add_n = {_norm(n) for n in add if n.strip()}
        remove_n = {_norm(n) for n in remove if n.strip()}
        added = [n for n in added if _norm(n) not in remove_n] + [
            " ".join(n.split()) for n in add if n.strip() and _norm(n) not in remove_n
        ]
        removed = [n for n in removed if _norm(n) not in add_n] + [
            " ".join(n.split()) for n in remove if n.strip()
        ]
        added = list({_norm(n): n for n in added}.values())
        removed = list({_norm(n): n for n in removed}.values())
        row = self._row()
        if row is None:
            row = PeopleEdits(user_id=self.user_id)
            self.session.add(row)
        row.added = json.dumps(added)
        row.removed = json.dumps(removed)
        row.updated_at = utcnow()
        self.session.flush()
