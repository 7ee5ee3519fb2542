"""Search: the retriever's ranked chunks, for frontends that show raw evidence.

It runs the same hybrid retriever as ask (always bound to the caller), so a chunk here
is exactly what an answer could quote; ``text == entry.text[start:end]``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ingest.store import UserEntries
from service.errors import check_free_text
from service.retrieval.factory import Retrievers
from service.search.schemas import SearchHit, SearchRequest, SearchResponse


class SearchService:
    def __init__(
        self, sessions: sessionmaker[Session], retrievers: Retrievers, max_query_chars: int
    ):
        self.sessions = sessions
        self.retrievers = retrievers
        self.max_query_chars = max_query_chars

    def check_query(self, query: str) -> None:
        """Not longer than ``TRUSTLENS_MAX_QUESTION_CHARS``, not blank (``Invalid``)."""
        check_free_text("query", query, self.max_query_chars)

    def search(self, user_id: str, body: SearchRequest) -> SearchResponse:
        self.check_query(body.query)
        retriever = self.retrievers.for_user(
            user_id, since=body.since, until=body.until, mode=body.mode
        )
        docs = retriever.invoke(body.query, k=body.k)
        # The store is the source of truth: a chunk whose entry is gone is not shown.
        with self.sessions() as session:
            live = UserEntries(session, user_id).get_many(str(d.metadata["entry_id"]) for d in docs)
        hits = [
            SearchHit(
                entry_id=str(m["entry_id"]),
                date=str(m["date"]),
                text=d.page_content,
                start=int(m["start"]),
                end=int(m["end"]),
                score=float(m["score"]),
                similarity=float(m["similarity"]),
            )
            for d in docs
            if (m := d.metadata)["entry_id"] in live
        ]
        return SearchResponse(query=body.query, hits=hits)
