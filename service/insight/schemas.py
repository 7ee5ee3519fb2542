"""Request and response models of the insight features: reflect, practices, progress,
episodes and follow-up questions (the API's and the CLI's ``--json`` alike)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.safety.schemas import Safety
from service.schemas import Citation

Era = Literal["origin", "recent", "present"]
Direction = Literal["improving", "worsening", "steady", "not enough data"]


class Echo(BaseModel):
    entry_id: str
    date: str
    era: Era
    quote: str = Field(description="Verbatim from the entry.")
    similarity: float
    shared: list[str] = Field(default_factory=list, description="Labels shared with now.")


class Statement(BaseModel):
    statement: str
    citations: list[Citation]


class ReflectResponse(BaseModel):
    situation: str
    echoes: list[Echo]
    same: list[Statement]
    different: list[Statement]
    questions: list[str]
    abstained: bool = Field(description="True when no past entry echoes the situation.")
    safety: Safety | None = Field(
        default=None, description="Set when the situation contains crisis language."
    )


class PracticeQuestion(BaseModel):
    id: str
    question: str = Field(description="The question to ask, personalised where possible.")
    plain: str = Field(description="The same question without the person's evidence.")
    personalised: bool
    citations: list[Citation] = Field(default_factory=list)


class PracticeResponse(BaseModel):
    practice: str
    title: str
    purpose: str
    version: str
    questions: list[PracticeQuestion]


class LabelCount(BaseModel):
    count: int
    entries: list[str]


class MonthProgress(BaseModel):
    month: str = Field(description="YYYY-MM")
    entries: int = Field(description="Entries written that month.")
    patterns: dict[str, LabelCount] = Field(description="Defensive patterns, entries per label.")
    repair: dict[str, LabelCount] = Field(description="Repair signals, entries per label.")
    defensive_per_entry: float
    repair_per_entry: float
    experiments_planned: int
    experiments_recorded: int


class Trend(BaseModel):
    direction: Direction
    summary: str
    defensive_per_entry: dict[str, float] = Field(
        description="first/last: the mean over the first and last months; slope: per month."
    )
    repair_per_entry: dict[str, float]


Change = Literal["up", "down", "same"]


class Third(BaseModel):
    """The earliest or the latest third of the person's entries (by count, in date order)."""

    first_date: str
    last_date: str
    entries: int
    defensive_per_entry: float
    repair_per_entry: float
    entry_ids: list[str]


class Thirds(BaseModel):
    earliest: Third
    latest: Third
    defensive: Change = Field(description="Defensive patterns per entry, latest vs earliest.")
    repair: Change = Field(description="Repair signals per entry, latest vs earliest.")


class ProgressReport(BaseModel):
    months: list[MonthProgress]
    totals: dict[str, int]
    trend: Trend
    experiments: dict[str, int]
    thirds: Thirds | None = Field(
        default=None,
        description="The earliest third of the entries against the latest third; the trend "
        "is read from it. Null below three entries.",
    )


class Followup(BaseModel):
    kind: str = Field(description="same_feeling | same_pattern | origin | repair | plain")
    question: str
    citations: list[Citation] = Field(default_factory=list)


MAX_SITUATION_CHARS = 4000  # the schema's ceiling; TRUSTLENS_MAX_SITUATION_CHARS may be lower


class ReflectRequest(BaseModel):
    situation: str = Field(
        min_length=1,
        max_length=MAX_SITUATION_CHARS,
        description="A present situation, in the person's words.",
        examples=["Rui is late again and hasn't texted."],
    )


class PracticeSummary(BaseModel):
    name: str
    title: str
    purpose: str


class PracticesPublic(BaseModel):
    data: list[PracticeSummary]
    count: int


class EpisodesPublic(BaseModel):
    data: list[dict[str, Any]]
    count: int
