"""The hybrid retriever: dense (Chroma) + lexical (BM25), fused by reciprocal rank.

It is a LangChain ``BaseRetriever`` bound to one user at construction: ``user_id`` is
a required, non-empty field, so a retriever that could search everyone's writing
cannot be built. Every returned ``Document`` carries the entry id, date, character
offsets, the fused score and the dense cosine similarity (used to judge whether the
evidence is strong enough to answer at all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from ingest.vector_index import ChromaIndex, IndexHit
from service.retrieval.fusion import reciprocal_rank_fusion
from service.retrieval.lexical import LexicalIndex

Mode = Literal["hybrid", "dense", "bm25"]


class HybridRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    user_id: str = Field(min_length=1)
    index: ChromaIndex
    embeddings: Embeddings
    lexical: LexicalIndex
    revision: Callable[[], int]
    k: int = 12
    candidates: int = 40
    since: dt.date | None = None
    until: dt.date | None = None
    mode: Mode = "hybrid"
    weights: tuple[float, float] = (1.0, 1.0)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        qvec = self.embeddings.embed_query(query)
        dense: list[IndexHit] = []
        lexical: list[IndexHit] = []
        if self.mode in ("hybrid", "dense"):
            dense = self.index.query(
                self.user_id, qvec, self.candidates, since=self.since, until=self.until
            )
        if self.mode in ("hybrid", "bm25"):
            lexical = [
                h
                for h, _ in self.lexical.search(
                    self.index, self.user_id, self.revision(), query, self.candidates * 3
                )
                if (self.since is None or h.date >= self.since)
                and (self.until is None or h.date <= self.until)
            ][: self.candidates]
        by_id = {h.chunk_id: h for h in lexical}
        by_id.update({h.chunk_id: h for h in dense})
        fused = reciprocal_rank_fusion(
            [[h.chunk_id for h in dense], [h.chunk_id for h in lexical]], self.weights
        )
        top = sorted(fused.items(), key=lambda kv: (-kv[1], str(kv[0])))[: self.k]
        sims = {h.chunk_id: h.similarity for h in dense}
        lex_only = [str(cid) for cid, _ in top if cid not in sims]
        if lex_only:
            sims.update(self._similarities(lex_only, qvec))
        docs = []
        for cid, score in top:
            h = by_id[str(cid)]
            docs.append(
                Document(
                    id=h.chunk_id,
                    page_content=h.text,
                    metadata={
                        "chunk_id": h.chunk_id,
                        "entry_id": h.entry_id,
                        "date": h.date.isoformat(),
                        "start": h.start,
                        "end": h.end,
                        "score": float(score),
                        "similarity": float(sims.get(str(cid), 0.0)),
                    },
                )
            )
        return docs

    def _similarities(self, chunk_ids: list[str], qvec: list[float]) -> dict[str, float]:
        got = self.index.collection.get(
            ids=chunk_ids, where={"user_id": self.user_id}, include=["embeddings"]
        )
        embs = got.get("embeddings")
        if embs is None:
            return {}
        q = np.asarray(qvec, dtype=np.float32)
        return {
            cid: float(np.dot(np.asarray(e, dtype=np.float32), q))
            for cid, e in zip(got["ids"], embs, strict=True)
        }
