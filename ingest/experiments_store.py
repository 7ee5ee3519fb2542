"""Trust experiments as stored rows: a small, deliberate trust risk, planned and then
looked back on.

A plan names who, what small risk, and what would count as success, written before the
risk is taken, so that the outcome is judged against the person's own criterion rather
than against a feeling afterwards. Experiments are the person's own data: they live in
the entry store, bound to one user like entries (``UserExperiments`` is the only way to
read or write them), and are deleted and exported with them.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ingest.crypto import Sealed, sealed_model
from ingest.store import Base, utcnow


@sealed_model
class TrustExperiment(Base):
    __tablename__ = "trust_experiments"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The person's words are sealed at rest (``ingest.crypto``).
    who_sealed: Mapped[str] = mapped_column("who", Text)
    who = Sealed("who_sealed")
    risk_sealed: Mapped[str] = mapped_column("risk", Text)
    risk = Sealed("risk_sealed")
    success_sealed: Mapped[str] = mapped_column("success", Text)
    success = Sealed("success_sealed")
    planned_for: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note_sealed: Mapped[str | None] = mapped_column("note", Text, nullable=True)
    note = Sealed("note_sealed")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ExperimentMissing(KeyError):
    """No such experiment for this user (or not theirs: never told apart)."""


class UserExperiments:
    """Every read and write of trust experiments, bound to exactly one user."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read or write experiments")
        self.session = session
        self.user_id = user_id

    def plan(
        self, who: str, risk: str, success: str, planned_for: dt.date | None
    ) -> TrustExperiment:
        e = TrustExperiment(
            id="x" + uuid.uuid4().hex[:15],
            user_id=self.user_id,
            who=who.strip(),
            risk=risk.strip(),
            success=success.strip(),
            planned_for=planned_for,
            status="planned",
        )
        self.session.add(e)
        self.session.flush()
        return e

    def get(self, experiment_id: str) -> TrustExperiment:
        e = self.session.scalar(
            select(TrustExperiment).where(
                TrustExperiment.user_id == self.user_id, TrustExperiment.id == experiment_id
            )
        )
        if e is None:
            raise ExperimentMissing(experiment_id)
        return e

    def record(
        self, experiment_id: str, outcome: str, note: str | None, status: str
    ) -> TrustExperiment:
        e = self.get(experiment_id)
        e.outcome = outcome
        e.note = note
        e.status = status
        e.recorded_at = utcnow()
        self.session.flush()
        return e

    def all(self) -> list[TrustExperiment]:
        return list(
            self.session.scalars(
                select(TrustExperiment)
                .where(TrustExperiment.user_id == self.user_id)
                .order_by(TrustExperiment.created_at, TrustExperiment.pk)
            )
        )

    def delete(self, experiment_id: str) -> None:
        self.session.delete(self.get(experiment_id))
        self.session.flush()
