"""``/healthz`` (the process answers) and ``/readyz`` (the database and Chroma answer)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import HealthDep
from service.health.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"description": "The database or the index is down"}},
    summary="Readiness: the database and the vector index answer",
)
def readyz(health: HealthDep) -> Ready:
    return health.ready()
