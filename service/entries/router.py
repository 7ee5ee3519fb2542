"""Entries routes, always for the caller's own journal.

Create, read, update, delete; a cursor-paged list with date, tag and pattern filters;
bulk import (JSON body or one uploaded file in any format ``trustlens ingest`` reads);
and index status, so a person can check that an entry is searchable. Each route calls
one ``EntriesService`` method; its domain errors become problem documents in one place.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, Query, Response, UploadFile, status

from service.deps import CurrentUser, EntriesDep
from service.entries.schemas import (
    EntryCreate,
    EntryPage,
    EntryPatch,
    EntryPublic,
    EntryReplace,
    ImportReportModel,
    ImportRequest,
    IndexStatusList,
    IndexStatusModel,
    entry_public,
    written_public,
)
from service.entries.service import IndexStatus, etag

router = APIRouter(prefix="/v1/entries", tags=["entries"])
status_router = APIRouter(prefix="/v1/index", tags=["entries"])

EntryId = Annotated[str, Path(description="Your id for the entry.", examples=["m002"])]

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such entry of yours"}}
# PUT, PATCH and DELETE take the ETag of GET (or of the last write) in If-Match.
PRECONDITION: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    412: {"description": "If-Match names a version that is no longer current"},
}
IfMatch = Annotated[
    str | None,
    Header(
        max_length=1000,
        description="Only if the entry is still this version (its ETag); else 412.",
    ),
]
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"description": "Over a documented limit"}}

# The day-range filters two listings share (entries, index status).
SinceQuery = Annotated[
    dt.date | None, Query(description="Entries on/after this day.", examples=["2024-03-15"])
]
UntilQuery = Annotated[
    dt.date | None, Query(description="Entries on/before this day.", examples=["2024-03-15"])
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": EntryPublic, "description": "Updated or unchanged"}},
    summary="Create (or re-send) an entry",
)
def create_entry(
    body: EntryCreate, user: CurrentUser, entries: EntriesDep, response: Response
) -> EntryPublic:
    w = entries.create(user.id, id=body.id, date=body.date, text=body.text, tags=body.tags)
    if w.saved.status != "imported":
        response.status_code = status.HTTP_200_OK
    response.headers["ETag"] = etag(w.saved.entry)
    return written_public(w)


@router.get("", summary="List your entries, oldest first, a page at a time")
def list_entries(
    user: CurrentUser,
    entries: EntriesDep,
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
    page = entries.list_entries(
        user.id, limit=limit, cursor=cursor, since=since, until=until, tag=tag, pattern=pattern
    )
    items = [entry_public(e, ix) for e, ix in page.items]
    return EntryPage(items=items, next_cursor=page.next_cursor)


@router.post("/import", responses=TOO_LARGE, summary="Import many entries from a JSON body")
def import_entries(
    body: ImportRequest, user: CurrentUser, entries: EntriesDep
) -> ImportReportModel:
    report = entries.import_items(user.id, body.entries, body.sections)
    return ImportReportModel.model_validate(report)


@router.post(
    "/import/file",
    responses=TOO_LARGE,
    summary="Import one file: JSONL, JSON (array, Day One or a trustlens export), "
    "Markdown/text, Day One zip or CSV",
)
def import_file(
    user: CurrentUser,
    entries: EntriesDep,
    file: Annotated[UploadFile, File(description="The journal file; its extension decides.")],
) -> ImportReportModel:
    report = entries.import_upload(user.id, file.filename or "upload", file.file)
    return ImportReportModel.model_validate(report)


@router.get("/{entry_id}", responses=NOT_FOUND, summary="One of your entries")
def read_entry(
    entry_id: EntryId, user: CurrentUser, entries: EntriesDep, response: Response
) -> EntryPublic:
    entry, indexed = entries.require(user.id, entry_id)
    response.headers["ETag"] = etag(entry)
    return entry_public(entry, indexed)


@router.put("/{entry_id}", responses=PRECONDITION, summary="Replace an entry (re-indexed)")
def replace_entry(
    entry_id: EntryId,
    body: EntryReplace,
    user: CurrentUser,
    entries: EntriesDep,
    response: Response,
    if_match: IfMatch = None,
) -> EntryPublic:
    saved = entries.update_entry(
        user.id, entry_id, date=body.date, text=body.text, tags=body.tags or [], if_match=if_match
    )
    response.headers["ETag"] = etag(saved.entry)
    return entry_public(saved.entry, saved.indexed, saved.status)


@router.patch("/{entry_id}", responses=PRECONDITION, summary="Change some fields of an entry")
def patch_entry(
    entry_id: EntryId,
    body: EntryPatch,
    user: CurrentUser,
    entries: EntriesDep,
    response: Response,
    if_match: IfMatch = None,
) -> EntryPublic:
    saved = entries.update_entry(
        user.id, entry_id, date=body.date, text=body.text, tags=body.tags, if_match=if_match
    )
    response.headers["ETag"] = etag(saved.entry)
    return entry_public(saved.entry, saved.indexed, saved.status)


@router.delete(
    "/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=PRECONDITION,
    summary="Delete an entry from the store and the index",
)
def delete_entry(
    entry_id: EntryId, user: CurrentUser, entries: EntriesDep, if_match: IfMatch = None
) -> Response:
    entries.delete_entry(user.id, entry_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _status_model(s: IndexStatus) -> IndexStatusModel:
    return IndexStatusModel(
        entry_id=s.entry_id,
        date=s.date.isoformat(),
        indexed=s.indexed,
        indexed_at=s.indexed_at,
        chunks=s.chunks,
        index_chunks=s.index_chunks,
        state="indexed" if s.indexed else "pending",
        attempts=s.attempts,
        last_error=s.last_error,
    )


@router.get("/{entry_id}/status", responses=NOT_FOUND, summary="Is this entry in the search index?")
def entry_status(entry_id: EntryId, user: CurrentUser, entries: EntriesDep) -> IndexStatusModel:
    return _status_model(entries.entry_status(user.id, entry_id))


@status_router.get("/status", summary="Index status of your entries, e.g. of one day")
def index_status(
    user: CurrentUser,
    entries: EntriesDep,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> IndexStatusList:
    items = [_status_model(s) for s in entries.index_statuses(user.id, since=since, until=until)]
    done = sum(1 for s in items if s.indexed)
    failing = sum(1 for s in items if s.last_error)
    return IndexStatusList(items=items, indexed=done, pending=len(items) - done, failing=failing)
