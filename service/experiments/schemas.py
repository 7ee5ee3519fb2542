"""Request and response models of trust experiments (``/v1/experiments``, ``experiment``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas import UtcDatetime

if TYPE_CHECKING:
    from ingest.experiments_store import TrustExperiment

Outcome = Literal["as_hoped", "mixed", "not_as_hoped"]
Status = Literal["planned", "done", "dropped"]
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
