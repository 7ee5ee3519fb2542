"""Trust experiments: plan one (who, what small risk, what counts as success), record how
it went, list them. Reads and writes go through ``UserExperiments`` (one user)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ingest.experiments_store import ExperimentMissing, UserExperiments
from service.errors import ExperimentNotFound
from service.experiments.schemas import (
    ExperimentCreate,
    ExperimentOutcome,
    ExperimentPublic,
    ExperimentsPublic,
)


class ExperimentsService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def plan(self, user_id: str, spec: ExperimentCreate) -> ExperimentPublic:
        with self.sessions() as session:
            e = UserExperiments(session, user_id).plan(
                spec.who, spec.risk, spec.success, spec.planned_for
            )
            session.commit()
            return ExperimentPublic.of(e)

    def get(self, user_id: str, experiment_id: str) -> ExperimentPublic:
        with self.sessions() as session:
            try:
                return ExperimentPublic.of(UserExperiments(session, user_id).get(experiment_id))
            except ExperimentMissing:
                raise ExperimentNotFound(experiment_id) from None

    def record(
        self, user_id: str, experiment_id: str, result: ExperimentOutcome
    ) -> ExperimentPublic:
        with self.sessions() as session:
            try:
                e = UserExperiments(session, user_id).record(
                    experiment_id, result.outcome, result.note, result.status
                )
            except ExperimentMissing:
                raise ExperimentNotFound(experiment_id) from None
            session.commit()
            return ExperimentPublic.of(e)

    def list(self, user_id: str) -> ExperimentsPublic:
        with self.sessions() as session:
            data = [ExperimentPublic.of(e) for e in UserExperiments(session, user_id).all()]
        return ExperimentsPublic(data=data, count=len(data))
