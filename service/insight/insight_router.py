"""Insight routes: reflect, practices, trust experiments, progress, episodes.

Thin handlers: the user comes from the bearer key (``CurrentUser``), the work is done
by ``InsightService`` through user-bound accessors.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from service.deps import ContainerDep, CurrentUser, SessionDep
from service.insight.experiments import (
    ExperimentCreate,
    ExperimentNotFound,
    ExperimentOutcome,
    ExperimentPublic,
    ExperimentsPublic,
    UserExperiments,
)
from service.insight.practices import (
    PracticeResponse,
    UnknownPractice,
    load_practice,
    practice_names,
)
from service.insight.progress import ProgressReport
from service.insight.reflect import ReflectResponse
from service.problems import check_free_text

router = APIRouter(prefix="/v1", tags=["insight"])

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


def _insight(c: ContainerDep) -> Any:
    return c.insight_service


@router.post("/reflect", response_model=ReflectResponse)
def reflect(body: ReflectRequest, user: CurrentUser, c: ContainerDep) -> ReflectResponse:
    """Past episodes the situation echoes, what is the same and different, and questions."""
    check_free_text("situation", body.situation, c.settings.max_situation_chars)
    result: ReflectResponse = _insight(c).reflect(user.id, body.situation)
    return result


@router.get("/practices", response_model=PracticesPublic)
def list_practices(user: CurrentUser) -> PracticesPublic:
    data = []
    for name in practice_names():
        p = load_practice(name)
        data.append(PracticeSummary(name=p.name, title=p.title, purpose=p.purpose))
    return PracticesPublic(data=data, count=len(data))


@router.get("/practices/{name}", response_model=PracticeResponse)
def get_practice(name: str, user: CurrentUser, c: ContainerDep) -> PracticeResponse:
    """A guided practice's questions, personalised with the person's own entries."""
    try:
        result: PracticeResponse = _insight(c).practice(user.id, name)
    except UnknownPractice:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"No practice named {name!r}; known: {', '.join(practice_names())}.",
        ) from None
    return result


@router.get("/episodes", response_model=EpisodesPublic)
def list_episodes(user: CurrentUser, c: ContainerDep) -> EpisodesPublic:
    """Trigger → feeling → response → outcome, per entry that tells one."""
    data = [e.as_dict() for e in _insight(c).episodes(user.id)]
    return EpisodesPublic(data=data, count=len(data))


@router.post("/experiments", response_model=ExperimentPublic, status_code=201)
def plan_experiment(body: ExperimentCreate, user: CurrentUser, session: SessionDep) -> Any:
    e = UserExperiments(session, user.id).plan(body)
    session.commit()
    return ExperimentPublic.of(e)


@router.get("/experiments", response_model=ExperimentsPublic)
def list_experiments(user: CurrentUser, session: SessionDep) -> ExperimentsPublic:
    data = [ExperimentPublic.of(e) for e in UserExperiments(session, user.id).all()]
    return ExperimentsPublic(data=data, count=len(data))


@router.get("/experiments/{experiment_id}", response_model=ExperimentPublic)
def get_experiment(experiment_id: str, user: CurrentUser, session: SessionDep) -> Any:
    try:
        return ExperimentPublic.of(UserExperiments(session, user.id).get(experiment_id))
    except ExperimentNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No experiment {experiment_id!r}."
        ) from None


@router.patch("/experiments/{experiment_id}", response_model=ExperimentPublic)
def record_outcome(
    experiment_id: str, body: ExperimentOutcome, user: CurrentUser, session: SessionDep
) -> Any:
    """Record how a planned experiment went."""
    try:
        e = UserExperiments(session, user.id).record(experiment_id, body)
    except ExperimentNotFound:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No experiment {experiment_id!r}."
        ) from None
    session.commit()
    return ExperimentPublic.of(e)


@router.get("/progress", response_model=ProgressReport)
def progress(user: CurrentUser, c: ContainerDep) -> ProgressReport:
    """Defensive patterns and repair signals per month, and the trend."""
    result: ProgressReport = _insight(c).progress(user.id)
    return result
