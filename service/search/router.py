"""``POST /v1/search``: ranked chunks of the caller's own journal (``SearchService``)."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import CurrentUser, SearchDep
from service.search.schemas import SearchRequest, SearchResponse

router = APIRouter(prefix="/v1", tags=["search"])


@router.post("/search", summary="Ranked chunks of your journal")
def search(body: SearchRequest, user: CurrentUser, searcher: SearchDep) -> SearchResponse:
    return searcher.search(user.id, body)
