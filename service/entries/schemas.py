"""Request and response models of the entries routes (``/v1/entries``, ``/v1/index``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict

from service.insight.schemas import Followup
from service.safety.schemas import Safety
from service.schemas import UtcDatetime

if TYPE_CHECKING:
    from ingest.store import Entry
    from service.entries.service import WrittenEntry


ENTRY_EXAMPLE: dict[str, Any] = {
    "id": "m002",
    "date": "2024-01-10",
    "text": "Jonah came home late again and I felt let down.",
    "tags": ["jonah"],
}


class EntryCreate(BaseModel):
    # Strict integers: JSON true/false is not an id (it would become "1" and overwrite "1").
    id: str | Annotated[int, Strict()] | None = Field(
        default=None, description="Your id; kept, unique per user."
    )
    date: str = Field(
        description="The day the entry is about, YYYY-MM-DD.", examples=["2024-03-02"]
    )
    text: str = Field(description="The entry, as written.", max_length=100_000)
    tags: list[str] | None = None

    model_config = {"json_schema_extra": {"examples": [ENTRY_EXAMPLE]}}


class EntryReplace(BaseModel):
    """A full new version of an entry (PUT): omitted tags become none."""

    date: str = Field(description="YYYY-MM-DD.", examples=["2024-03-02"])
    text: str = Field(max_length=100_000)
    tags: list[str] | None = None

    model_config = {
        "json_schema_extra": {"examples": [{k: v for k, v in ENTRY_EXAMPLE.items() if k != "id"}]}
    }


class EntryPatch(BaseModel):
    """Only the fields given change (PATCH)."""

    date: str | None = Field(default=None, description="YYYY-MM-DD.")
    text: str | None = Field(default=None, max_length=100_000)
    tags: list[str] | None = None

    model_config = {"json_schema_extra": {"examples": [{"tags": ["jonah", "work"]}]}}


class EntryPublic(BaseModel):
    id: str
    date: str
    text: str
    tags: list[str]
    source: str
    indexed: bool = Field(description="Whether this version is in the search index.")
    status: str | None = Field(default=None, description="imported, updated or unchanged.")
    safety: Safety | None = Field(
        default=None,
        description="POST only: set when the new entry's text has crisis (or, as "
        "concern, worrying) language: a short message and resources. The entry is saved "
        "all the same.",
    )
    followups: list[Followup] | None = Field(
        default=None,
        description="POST only: one to three reflective questions grounded in your related "
        "past entries (with citations), or one plain question; none when safety is "
        "crisis (a concern's resources sit beside them).",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{**ENTRY_EXAMPLE, "source": "api", "indexed": True, "status": None}]
        }
    }


def entry_public(e: Entry, indexed: bool, status: str | None = None) -> EntryPublic:
    return EntryPublic(
        id=e.entry_id,
        date=e.date.isoformat(),
        text=e.text,
        tags=list(e.tags),
        source=e.source,
        indexed=indexed,
        status=status,
    )


def written_public(w: WrittenEntry) -> EntryPublic:
    """A new entry as ``POST /v1/entries`` (and the MCP ``write_entry`` tool) return it:
    the entry, the safety object when its text needs one, and its follow-up questions
    unless the text is a crisis (a concern sits beside them)."""
    out = entry_public(w.saved.entry, w.saved.indexed, w.saved.status)
    out.safety = w.safety
    crisis = w.safety is not None and w.safety.level == "crisis"
    out.followups = None if crisis else w.followups
    return out


class EntryPage(BaseModel):
    items: list[EntryPublic]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class RejectedItem(BaseModel):
    source: str = Field(examples=["request:2"])
    reason: str = Field(examples=["bad date '2024-13-01': expected YYYY-MM-DD"])


class FileReportModel(BaseModel):
    path: str
    imported: int
    updated: int
    unchanged: int
    rejected: list[RejectedItem]
    error: str | None


class ImportTotals(BaseModel):
    files: int
    imported: int
    updated: int
    unchanged: int
    rejected: int
    failed_files: int
    indexed: int


class SectionReport(BaseModel):
    applied: int
    rejected: list[RejectedItem]


class ImportReportModel(BaseModel):
    files: list[FileReportModel]
    totals: ImportTotals
    sections: dict[str, SectionReport] = Field(
        default_factory=dict,
        description="For an export document: what was restored besides the entries "
        "(e.g. label_corrections).",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "files": [
                        {
                            "path": "request",
                            "imported": 1,
                            "updated": 0,
                            "unchanged": 0,
                            "rejected": [
                                {
                                    "source": "request:2",
                                    "reason": "bad date 'soon': expected YYYY-MM-DD",
                                }
                            ],
                            "error": None,
                        }
                    ],
                    "totals": {
                        "files": 1,
                        "imported": 1,
                        "updated": 0,
                        "unchanged": 0,
                        "rejected": 1,
                        "failed_files": 0,
                        "indexed": 1,
                    },
                }
            ]
        }
    }


class ImportRequest(BaseModel):
    entries: list[Any] = Field(
        description="Entry objects {id?, date, text, tags?}; each bad one is reported and "
        "the rest are imported. A whole trustlens export document fits as it is.",
    )
    sections: dict[str, Any] | None = Field(
        default=None, description="An export's sections; label_corrections are restored."
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{"entries": [ENTRY_EXAMPLE, {"date": "soon", "text": "hm"}]}]
        }
    }


class IndexStatusModel(BaseModel):
    entry_id: str
    date: str
    indexed: bool = Field(description="The current version is in the search index.")
    indexed_at: UtcDatetime | None
    chunks: int = Field(description="Chunks of the indexed version (0 while not indexed).")
    index_chunks: int | None = Field(
        default=None, description="Chunks found in the vector index just now."
    )
    state: Literal["indexed", "pending"] = Field(
        default="indexed",
        description="'pending': committed and queued; the background indexer will index it.",
    )
    attempts: int = Field(default=0, description="Failed indexing tries of this version.")
    last_error: str | None = Field(
        default=None,
        description="The last indexing failure's kind (an exception type; never text), "
        "e.g. while the index server is down.",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "entry_id": "m002",
                    "date": "2024-03-15",
                    "indexed": True,
                    "indexed_at": "2024-03-15T20:01:02Z",
                    "chunks": 3,
                    "index_chunks": 3,
                }
            ]
        }
    }


class IndexStatusList(BaseModel):
    items: list[IndexStatusModel]
    indexed: int
    pending: int
    failing: int = Field(default=0, description="Pending entries whose last try failed.")
