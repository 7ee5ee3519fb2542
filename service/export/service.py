"""Export: everything the person stored, as one JSON document import reads back.

The document's ``entries`` are in the import format (``{id, date, text, tags}``), and
``format: "trustlens-export"`` is recognised by the JSON reader, so the file can be
given to ``trustlens ingest`` or ``POST /v1/entries/import/file`` as it is, and its
body to ``POST /v1/entries/import``. Besides the entries, each store of the person's own
words adds a named section (``SECTIONS``); an empty section is left out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from ingest.experiments_store import UserExperiments
from ingest.labels_store import UserLabels
from ingest.store import User, UserEntries
from service.experiments.schemas import ExperimentPublic
from service.export.schemas import ExportDocument, ExportedEntry, ExportedUser


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


def _label_corrections(session: Session, user_id: str) -> Any:
    """The person's confirmations and rejections of pattern labels (their own word;
    the labels themselves are derived and recomputed on import)."""
    return [
        {"entry_id": c.entry_id, "label": c.label, "verdict": c.verdict, "at": c.created_at}
        for c in UserLabels(session, user_id).corrections()
    ]


def _experiments(session: Session, user_id: str) -> Any:
    """Trust experiments the person planned and recorded."""
    return [
        ExperimentPublic.of(e).model_dump(mode="json")
        for e in UserExperiments(session, user_id).all()
    ]


SectionProvider = Callable[[Session, str], Any]
SECTIONS: dict[str, SectionProvider] = {
    "label_corrections": _label_corrections,
    "experiments": _experiments,
}


class ExportService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def export(self, user: User) -> ExportDocument:
        with self.sessions() as session:
            entries = [
                ExportedEntry(
                    id=e.entry_id,
                    date=e.date.isoformat(),
                    text=e.text,
                    tags=list(e.tags),
                    source=e.source,
                )
                for e in UserEntries(session, user.id).all()
            ]
            sections = {}
            for name, provider in SECTIONS.items():
                data = provider(session, user.id)
                if data not in (None, [], {}):
                    sections[name] = plain(data)
        return ExportDocument(
            exported_at=dt.datetime.now(dt.UTC),
            user=ExportedUser(name=user.name, created_at=user.created_at),
            entries=entries,
            sections=sections,
        )
