"""Trust experiments: a small, deliberate trust risk, planned and then looked back on.

Repair happens in small steps. A plan names who, what small risk, and what would
count as success, written before the risk is taken, so that the outcome is judged
against the person's own criterion rather than against a feeling afterwards.
Experiments are the person's own data: they live in the entry store, bound to one
user like entries, and are deleted and exported with them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ingest.store import Base, utcnow
from service.api_types import UtcDatetime

Outcome = Literal["as_hoped", "mixed", "not_as_hoped"]
Status = Literal["planned", "done", "dropped"]


class TrustExperiment(Base):
    __tablename__ = "trust_experiments"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    who: Mapped[str] = mapped_column(String(200))
    risk: Mapped[str] = mapped_column(Text)
    success: Mapped[str] = mapped_column(Text)
    planned_for: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


MAX_FIELD_CHARS = 2000


class ExperimentCreate(BaseModel):
    """A trust experiment, planned before it is tried."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "who": "Rui",
                    "risk": "Ask him directly what he meant instead of checking his phone.",
                    "success": "I ask once, calmly, and listen to the answer.",
                    "planned_for": "2025-02-01",
                }
            ]
        }
    )

    who: str = Field(min_length=1, max_length=200, description="Who the trust is placed in.")
    risk: str = Field(
        min_length=1, max_length=MAX_FIELD_CHARS, description="The small trust risk to take."
    )
    success: str = Field(
        min_length=1, max_length=MAX_FIELD_CHARS, description="What would count as success."
    )
    planned_for: dt.date | None = Field(default=None, description="When, if decided.")


class ExperimentOutcome(BaseModel):
    """What happened, recorded after the experiment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"outcome": "as_hoped", "note": "He explained; I felt calmer after."}]
        }
    )

    outcome: Outcome = Field(description="How it went, against the success criterion.")
    note: str | None = Field(default=None, max_length=MAX_FIELD_CHARS)
    status: Status = Field(default="done", description="done, or dropped if not tried.")


class ExperimentPublic(BaseModel):
    id: str
    who: str
    risk: str
    success: str
    planned_for: dt.date | None
    status: Status
    outcome: Outcome | None
    note: str | None
    created_at: UtcDatetime  # SQLite returns stored UTC times without their zone
    recorded_at: UtcDatetime | None

    @classmethod
    def of(cls, e: TrustExperiment) -> ExperimentPublic:
        return cls(
            id=e.id,
            who=e.who,
            risk=e.risk,
            success=e.success,
            planned_for=e.planned_for,
            status=e.status,  # type: ignore[arg-type]
            outcome=e.outcome,  # type: ignore[arg-type]
            note=e.note,
            created_at=e.created_at,
            recorded_at=e.recorded_at,
        )


class ExperimentsPublic(BaseModel):
    data: list[ExperimentPublic]
    count: int


class ExperimentNotFound(KeyError):
    pass


class UserExperiments:
    """Every read and write of trust experiments, bound to exactly one user."""

    def __init__(self, session: Session, user_id: str):
        if not user_id:
            raise ValueError("a user id is required to read or write experiments")
        self.session = session
        self.user_id = user_id

    def plan(self, spec: ExperimentCreate) -> TrustExperiment:
        e = TrustExperiment(
            id="x" + uuid.uuid4().hex[:15],
            user_id=self.user_id,
            who=spec.who.strip(),
            risk=spec.risk.strip(),
            success=spec.success.strip(),
            planned_for=spec.planned_for,
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
            raise ExperimentNotFound(experiment_id)
        return e

    def record(self, experiment_id: str, result: ExperimentOutcome) -> TrustExperiment:
        e = self.get(experiment_id)
        e.outcome = result.outcome
        e.note = result.note
        e.status = result.status
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
