"""``POST /v1/entries`` and ``GET /v1/entries/{id}``, always for the caller's own journal."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, Field

from ingest.store import Entry
from service.deps import ContainerDep, CurrentUser
from service.entries.entries_service import EntryInvalid, get_entry, save_entry

router = APIRouter(prefix="/v1/entries", tags=["entries"])


class EntryCreate(BaseModel):
    id: str | int | None = Field(default=None, description="Your id; kept, unique per user.")
    date: str = Field(
        description="The day the entry is about, YYYY-MM-DD.", examples=["2024-03-02"]
    )
    text: str = Field(description="The entry, as written.", max_length=100_000)
    tags: list[str] | None = None


class EntryPublic(BaseModel):
    id: str
    date: str
    text: str
    tags: list[str]
    source: str
    indexed: bool = Field(description="Whether this version is in the search index.")
    status: str | None = Field(default=None, description="imported, updated or unchanged.")


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


@router.post("", status_code=status.HTTP_201_CREATED, responses={200: {"model": EntryPublic}})
def create_entry(
    body: EntryCreate, user: CurrentUser, c: ContainerDep, response: Response
) -> EntryPublic:
    try:
        saved = save_entry(c, user.id, id=body.id, date=body.date, text=body.text, tags=body.tags)
    except EntryInvalid as e:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{e.field}: {e.reason}"
        ) from None
    if saved.status != "imported":
        response.status_code = status.HTTP_200_OK
    return _public(saved.entry, saved.indexed, saved.status)


@router.get("/{entry_id}")
def read_entry(entry_id: str, user: CurrentUser, c: ContainerDep) -> EntryPublic:
    found = get_entry(c, user.id, entry_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No entry {entry_id!r} in your journal.")
    return _public(*found)
