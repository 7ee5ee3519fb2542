"""``GET /v1/export``: everything the person stored, as one JSON document."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CurrentUser, ExportDep
from service.export.schemas import ExportDocument

router = APIRouter(prefix="/v1", tags=["export"])


@router.get("/export", summary="Everything you stored, in a form import reads back")
def export(user: CurrentUser, exporter: ExportDep) -> ExportDocument:
    return exporter.export(user)
