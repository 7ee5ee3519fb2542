"""Entries routes, always for the caller's own journal.

Create, read, update, delete; a cursor-paged list with date, tag and pattern filters;
bulk import (JSON body or one uploaded file in any format ``trustlens ingest`` reads);
and index status, so a person can check that an entry is searchable.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, Field

from ingest.store import Entry
from service.api_types import UtcDatetime
from service.deps import ContainerDep, CurrentUser
from service.entries import entries_service as svc
from service.entries.entries_service import CursorInvalid, EntryInvalid, TooLarge
from service.insight.followups import Followup
from service.safety.detector import Safety

router = APIRouter(prefix="/v1/entries", tags=["entries"])
status_router = APIRouter(prefix="/v1/index", tags=["entries"])

EntryId = Annotated[str, Path(description="Your id for the entry.", examples=["m002"])]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such entry of yours"}}
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"description": "Over a documented limit"}}

ENTRY_EXAMPLE: dict[str, Any] = {
    "id": "m002",
    "date": "2024-01-10",
    "text": "Jonah came home late again and I felt let down.",
    "tags": ["jonah"],
}


class EntryCreate(BaseModel):
    id: str | int | None = Field(default=None, description="Your id; kept, unique per user.")
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
        description="POST only: set when the new entry's text has crisis language "
        "(a short message and resources). The entry is saved all the same.",
    )
    followups: list[Followup] | None = Field(
        default=None,
        description="POST only: one to three reflective questions grounded in your related "
        "past entries (with citations), or one plain question; none when safety is set.",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{**ENTRY_EXAMPLE, "source": "api", "indexed": True, "status": None}]
        }
    }


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


def _public(e: Entry, indexed: bool, status: str | None = None) -> EntryPublic:
    return EntryPublic(
        id=e.entry_id,
        date=e.date.isoformat(),
        text=e.text,
        tags=list(e.tags),
        source=e.source,
        indexed=indexed,
        status=status,
    )


def _not_found(entry_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"No entry {entry_id!r} in your journal.")


def _invalid(e: EntryInvalid) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{e.field}: {e.reason}")


# The day-range filters two listings share (entries, index status).
SinceQuery = Annotated[
    dt.date | None, Query(description="Entries on/after this day.", examples=["2024-03-15"])
]
UntilQuery = Annotated[
    dt.date | None, Query(description="Entries on/before this day.", examples=["2024-03-15"])
]


def _range(since: dt.date | None, until: dt.date | None) -> None:
    if since and until and since > until:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, "until: since must not be after until"
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EntryPublic, "description": "Updated or unchanged"}},
    summary="Create (or re-send) an entry",
)
def create_entry(
    body: EntryCreate, user: CurrentUser, c: ContainerDep, response: Response
) -> EntryPublic:
    try:
        saved = svc.save_entry(
            c, user.id, id=body.id, date=body.date, text=body.text, tags=body.tags
        )
    except EntryInvalid as e:
        raise _invalid(e) from None
    if saved.status != "imported":
        response.status_code = status.HTTP_200_OK
    out = _public(saved.entry, saved.indexed, saved.status)
    out.safety = c.detect_crisis(saved.entry.text)
    if out.safety is None:  # crisis language: resources only, no insight
        out.followups = c.insight_service.followups(user.id, saved.entry.entry_id)
    return out


@router.get("", summary="List your entries, oldest first, a page at a time")
def list_entries(
    user: CurrentUser,
    c: ContainerDep,
    limit: Annotated[
        int, Query(ge=1, description="Page size (at most TRUSTLENS_MAX_PAGE_SIZE).", examples=[20])
    ] = 50,
    cursor: Annotated[str | None, Query(max_length=1000, description="From next_cursor.")] = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
    tag: Annotated[
        str | None, Query(max_length=200, description="Only entries with it.", examples=["jonah"])
    ] = None,
    pattern: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only entries showing this trust pattern (a label; corrections apply).",
            examples=["avoidance"],
        ),
    ] = None,
) -> EntryPage:
    if limit > c.settings.max_page_size:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"limit: at most {c.settings.max_page_size} (TRUSTLENS_MAX_PAGE_SIZE)",
        )
    _range(since, until)
    try:
        if pattern is not None:
            svc.check_pattern(pattern)
        page = svc.list_entries(
            c,
            user.id,
            limit=limit,
            cursor=cursor,
            since=since,
            until=until,
            tag=tag,
            pattern=pattern,
        )
    except CursorInvalid as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"cursor: {e}") from None
    except svc.UnknownPattern as e:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"pattern: {e}") from None
    return EntryPage(items=[_public(e, ix) for e, ix in page.items], next_cursor=page.next_cursor)


@router.post("/import", responses=TOO_LARGE, summary="Import many entries from a JSON body")
def import_entries(body: ImportRequest, user: CurrentUser, c: ContainerDep) -> ImportReportModel:
    try:
        report = svc.import_items(c, user.id, body.entries, body.sections)
    except TooLarge as e:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(e)) from None
    return ImportReportModel.model_validate(report)


@router.post(
    "/import/file",
    responses=TOO_LARGE,
    summary="Import one file: JSONL, JSON (array, Day One or a trustlens export), "
    "Markdown/text, Day One zip or CSV",
)
def import_file(
    user: CurrentUser,
    c: ContainerDep,
    file: Annotated[UploadFile, File(description="The journal file; its extension decides.")],
) -> ImportReportModel:
    limit = c.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"file over the limit of {limit} bytes (TRUSTLENS_MAX_UPLOAD_BYTES)",
        )
    try:
        report = svc.import_upload(c, user.id, file.filename or "upload", data)
    except TooLarge as e:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, str(e)) from None
    return ImportReportModel.model_validate(report)


@router.get("/{entry_id}", responses=NOT_FOUND, summary="One of your entries")
def read_entry(entry_id: EntryId, user: CurrentUser, c: ContainerDep) -> EntryPublic:
    found = svc.get_entry(c, user.id, entry_id)
    if found is None:
        raise _not_found(entry_id)
    return _public(*found)


@router.put("/{entry_id}", responses=NOT_FOUND, summary="Replace an entry (re-indexed)")
def replace_entry(
    entry_id: EntryId, body: EntryReplace, user: CurrentUser, c: ContainerDep
) -> EntryPublic:
    try:
        saved = svc.update_entry(
            c, user.id, entry_id, date=body.date, text=body.text, tags=body.tags or []
        )
    except EntryInvalid as e:
        raise _invalid(e) from None
    if saved is None:
        raise _not_found(entry_id)
    return _public(saved.entry, saved.indexed, saved.status)


@router.patch("/{entry_id}", responses=NOT_FOUND, summary="Change some fields of an entry")
def patch_entry(
    entry_id: EntryId, body: EntryPatch, user: CurrentUser, c: ContainerDep
) -> EntryPublic:
    try:
        saved = svc.update_entry(
            c, user.id, entry_id, date=body.date, text=body.text, tags=body.tags
        )
    except EntryInvalid as e:
        raise _invalid(e) from None
    if saved is None:
        raise _not_found(entry_id)
    return _public(saved.entry, saved.indexed, saved.status)


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
    summary="Delete an entry from the store and the index",
)
def delete_entry(entry_id: EntryId, user: CurrentUser, c: ContainerDep) -> Response:
    if not svc.delete_entry(c, user.id, entry_id):
        raise _not_found(entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _status_model(s: svc.IndexStatus) -> IndexStatusModel:
    return IndexStatusModel(
        entry_id=s.entry_id,
        date=s.date.isoformat(),
        indexed=s.indexed,
        indexed_at=s.indexed_at,
        chunks=s.chunks,
        index_chunks=s.index_chunks,
    )


@router.get("/{entry_id}/status", responses=NOT_FOUND, summary="Is this entry in the search index?")
def entry_status(entry_id: EntryId, user: CurrentUser, c: ContainerDep) -> IndexStatusModel:
    found = svc.index_statuses(c, user.id, entry_id=entry_id, check_index=True)
    if not found:
        raise _not_found(entry_id)
    return _status_model(found[0])


@status_router.get("/status", summary="Index status of your entries, e.g. of one day")
def index_status(
    user: CurrentUser,
    c: ContainerDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> IndexStatusList:
    _range(since, until)
    items = [_status_model(s) for s in svc.index_statuses(c, user.id, since=since, until=until)]
    done = sum(1 for s in items if s.indexed)
    return IndexStatusList(items=items, indexed=done, pending=len(items) - done)
