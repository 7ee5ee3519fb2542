"""Insight routes: reflect, practices, progress, episodes.

Thin handlers: the user comes from the bearer key (``CurrentUser``), the work is done
by ``InsightService`` through user-bound accessors.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CurrentUser, InsightDep
from service.insight.schemas import (
    EpisodesPublic,
    PracticeResponse,
    PracticesPublic,
    ProgressReport,
    ReflectRequest,
    ReflectResponse,
)

router = APIRouter(prefix="/v1", tags=["insight"])


@router.post("/reflect", response_model=ReflectResponse)
def reflect(body: ReflectRequest, user: CurrentUser, insight: InsightDep) -> ReflectResponse:
    """Past episodes the situation echoes, what is the same and different, and questions."""
    return insight.reflect(user.id, body.situation)


@router.get("/practices", response_model=PracticesPublic)
def list_practices(user: CurrentUser, insight: InsightDep) -> PracticesPublic:
    return insight.practices()


@router.get("/practices/{name}", response_model=PracticeResponse)
def get_practice(name: str, user: CurrentUser, insight: InsightDep) -> PracticeResponse:
    """A guided practice's questions, personalised with the person's own entries."""
    return insight.practice(user.id, name)


@router.get("/episodes", response_model=EpisodesPublic)
def list_episodes(user: CurrentUser, insight: InsightDep) -> EpisodesPublic:
    """Trigger → feeling → response → outcome, per entry that tells one."""
    return insight.episodes_public(user.id)


@router.get("/progress", response_model=ProgressReport)
def progress(user: CurrentUser, insight: InsightDep) -> ProgressReport:
    """Defensive patterns and repair signals per month, and the trend."""
    return insight.progress(user.id)
