"""``/healthz`` (the process answers) and ``/readyz`` (the database and Chroma answer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from service.deps import ContainerDep
from service.problems import problem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "index": "ok"}])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


def _check_database(c: ContainerDep) -> str:
    try:
        with c.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as e:
        return f"down ({type(e).__name__})"


def _check_index(c: ContainerDep) -> str:
    try:
        c.chroma_client.heartbeat()
        c.index.collection.count()
        return "ok"
    except Exception as e:
        return f"down ({type(e).__name__})"


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"description": "The database or the index is down"}},
    summary="Readiness: the database and the vector index answer",
)
def readyz(c: ContainerDep) -> Any:
    checks = {"database": _check_database(c), "index": _check_index(c)}
    down = [k for k, v in checks.items() if v != "ok"]
    if down:
        return problem(503, f"Not ready: {', '.join(down)} down.", checks=checks)
    return Ready(status="ready", checks=checks)
