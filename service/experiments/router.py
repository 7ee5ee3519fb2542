"""Trust experiment routes: plan, list, read, record the outcome."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CurrentUser, ExperimentsDep
from service.experiments.schemas import (
    ExperimentCreate,
    ExperimentOutcome,
    ExperimentPublic,
    ExperimentsPublic,
)

router = APIRouter(prefix="/v1", tags=["insight"])


@router.post("/experiments", response_model=ExperimentPublic, status_code=201)
def plan_experiment(
    body: ExperimentCreate, user: CurrentUser, experiments: ExperimentsDep
) -> ExperimentPublic:
    return experiments.plan(user.id, body)


@router.get("/experiments", response_model=ExperimentsPublic)
def list_experiments(user: CurrentUser, experiments: ExperimentsDep) -> ExperimentsPublic:
    return experiments.list(user.id)


@router.get("/experiments/{experiment_id}", response_model=ExperimentPublic)
def get_experiment(
    experiment_id: str, user: CurrentUser, experiments: ExperimentsDep
) -> ExperimentPublic:
    return experiments.get(user.id, experiment_id)


@router.patch("/experiments/{experiment_id}", response_model=ExperimentPublic)
def record_outcome(
    experiment_id: str, body: ExperimentOutcome, user: CurrentUser, experiments: ExperimentsDep
) -> ExperimentPublic:
    """Record how a planned experiment went."""
    return experiments.record(user.id, experiment_id, body)
