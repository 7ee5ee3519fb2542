"""``GET /v1/export``: everything the person stored, as one JSON document.

The document's ``entries`` are in the import format (``{id, date, text, tags}``), and
``format: "trustlens-export"`` is recognised by the JSON reader, so the file can be
given to ``trustlens ingest`` or ``POST /v1/entries/import/file`` as it is, and its
body to ``POST /v1/entries/import``. Other features add their data as named
``sections`` by registering a provider with ``register_section``; a section whose
store does not exist yet is simply absent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ingest.labels_store import UserLabels
from ingest.readers.jsonfile import EXPORT_FORMAT
from ingest.store import UserEntries
from service.api_types import UtcDatetime
from service.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/v1", tags=["export"])

SectionProvider = Callable[[Session, str], Any]
SECTIONS: dict[str, SectionProvider] = {}


def register_section(name: str) -> Callable[[SectionProvider], SectionProvider]:
    """Add a named section to every export: ``provider(session, user_id) -> JSON-able``."""

    def deco(fn: SectionProvider) -> SectionProvider:
        SECTIONS[name] = fn
        return fn

    return deco


def plain(value: Any) -> Any:
    """Dataclasses, pydantic models, dates and containers as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@register_section("label_corrections")
def _label_corrections(session: Session, user_id: str) -> Any:
    """The person's confirmations and rejections of pattern labels (their own word;
    the labels themselves are derived and recomputed on import)."""
    return [
        {"entry_id": c.entry_id, "label": c.label, "verdict": c.verdict, "at": c.created_at}
        for c in UserLabels(session, user_id).corrections()
    ]


@register_section("experiments")
def _experiments(session: Session, user_id: str) -> Any:
    """Trust experiments the person planned and recorded (once that feature exists)."""
    if importlib.util.find_spec("service.insight.experiments") is None:
        return None
    from service.insight.experiments import ExperimentPublic, UserExperiments

    return [
        ExperimentPublic.of(e).model_dump(mode="json")
        for e in UserExperiments(session, user_id).all()
    ]


class ExportedEntry(BaseModel):
    id: str
    date: str
    text: str
    tags: list[str]
    source: str


class ExportedUser(BaseModel):
    name: str
    created_at: UtcDatetime


class ExportDocument(BaseModel):
    format: Literal["trustlens-export"] = EXPORT_FORMAT  # type: ignore[assignment]
    version: int = 1
    exported_at: UtcDatetime
    user: ExportedUser
    entries: list[ExportedEntry]
    sections: dict[str, Any] = Field(
        description="Further stored data by feature (e.g. labels); absent when empty."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "format": "trustlens-export",
                    "version": 1,
                    "exported_at": "2025-01-01T12:00:00Z",
                    "user": {"name": "maya", "created_at": "2024-01-01T09:00:00Z"},
                    "entries": [
                        {
                            "id": "m002",
                            "date": "2024-01-10",
                            "text": "Jonah came home late again and I felt let down.",
                            "tags": ["jonah"],
                            "source": "api",
                        }
                    ],
                    "sections": {},
                }
            ]
        }
    }


def export_user(session: Session, user_id: str, name: str, created: dt.datetime) -> ExportDocument:
    entries = [
        ExportedEntry(
            id=e.entry_id, date=e.date.isoformat(), text=e.text, tags=list(e.tags), source=e.source
        )
        for e in UserEntries(session, user_id).all()
    ]
    sections = {}
    for name_, provider in SECTIONS.items():
        data = provider(session, user_id)
        if data not in (None, [], {}):
            sections[name_] = plain(data)
    return ExportDocument(
        exported_at=dt.datetime.now(dt.UTC),
        user=ExportedUser(name=name, created_at=created),
        entries=entries,
        sections=sections,
    )


@router.get("/export", summary="Everything you stored, in a form import reads back")
def export(user: CurrentUser, session: SessionDep) -> ExportDocument:
    return export_user(session, user.id, user.name, user.created_at)
