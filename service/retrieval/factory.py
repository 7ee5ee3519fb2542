"""Makes retrievers, each bound to one user: the only way a feature gets one.

Services hold a ``Retrievers`` and ask it for ``for_user(user_id, ...)``; they never see
the index, the embeddings or the lexical cache on their own, so a search over more than
one person's writing cannot be written in a feature.
"""

from __future__ import annotations

import datetime as dt

from langchain_core.embeddings import Embeddings
from sqlalchemy.orm import Session, sessionmaker

from ingest.store import UserEntries
from ingest.vector_index import ChromaIndex
from service.retrieval.hybrid import HybridRetriever, Mode
from service.retrieval.lexical import LexicalIndex


class Retrievers:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        index: ChromaIndex,
        embeddings: Embeddings,
        lexical: LexicalIndex,
        k: int,
    ):
        self.sessions = sessions
        self.index = index
        self.embeddings = embeddings
        self.lexical = lexical
        self.k = k

    def revision(self, user_id: str) -> int:
        """The user's store revision: the lexical cache is keyed by it."""
        with self.sessions() as session:
            return UserEntries(session, user_id).revision()

    def for_user(
        self,
        user_id: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
        mode: Mode = "hybrid",
    ) -> HybridRetriever:
        return HybridRetriever(
            user_id=user_id,
            index=self.index,
            embeddings=self.embeddings,
            lexical=self.lexical,
            revision=lambda: self.revision(user_id),
            k=self.k,
            since=since,
            until=until,
            mode=mode,
        )
