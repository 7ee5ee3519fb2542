"""The hybrid retriever: dense + lexical (BM25), fused by reciprocal rank.

Dense is an exact cosine search over the user's vectors as stored in Chroma (read once
per index revision, beside the BM25 model, ``service.retrieval.lexical``), not Chroma's
approximate search, whose results depend on how its graph happened to be built.

It is a LangChain ``BaseRetriever`` bound to one user at construction: ``user_id`` is
a required, non-empty field, so a retriever that could search everyone's writing
cannot be built. Every returned ``Document`` carries the entry id, date, character
offsets, the fused score and a dense similarity (used to judge whether the evidence is
strong enough to answer at all).

``expansions`` are extra sentences that describe what the question is about (example
sentences of a trust label the question names). A chunk's dense similarity is then the
weighted mean of its similarity to the question and its best similarity to an expansion,
which
finds episodes told in words the question never uses.
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
from service.retrieval.fusion import convex_fusion, reciprocal_rank_fusion
from service.retrieval.lexical import LexicalIndex

Mode = Literal["hybrid", "dense", "bm25"]
Fusion = Literal["rrf", "convex"]


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
    weights: tuple[float, float] = (1.0, 1.0)  # (dense, lexical)
    # "rrf": reciprocal rank fusion with constant ``rrf_k`` (the default, used for
    # journals); "convex": weighted sum of min-max scaled cosine and BM25 scores.
    fusion: Fusion = "rrf"
    rrf_k: int = Field(default=60, ge=1)
    expansions: list[str] = Field(default_factory=list)
    expansion_weight: float = Field(default=0.5, ge=0.0, le=1.0)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
    ) -> list[Document]:
        qvec = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        xvecs = [
            np.asarray(self.embeddings.embed_query(x), dtype=np.float32) for x in self.expansions
        ]
        dense: list[IndexHit] = []
        lexical: list[IndexHit] = []
        bm25: dict[str, float] = {}
        vectors: dict[str, np.ndarray] = {}
        revision = self.revision()
        if self.mode in ("hybrid", "dense"):
            # Exact, not Chroma's approximate search: see ``service.retrieval.lexical``.
            per_query, vectors = self.lexical.nearest(
                self.index,
                self.user_id,
                revision,
                [qvec, *xvecs],
                self.candidates,
                self.since,
                self.until,
            )
            seen = {h.chunk_id: h for hits in per_query for h in hits}
            dense = list(seen.values())
        if self.mode in ("hybrid", "bm25"):
            scored = [
                (h, s)
                for h, s in self.lexical.search(
                    self.index, self.user_id, revision, query, self.candidates * 3
                )
                if (self.since is None or h.date >= self.since)
                and (self.until is None or h.date <= self.until)
            ][: self.candidates]
            lexical = [h for h, _ in scored]
            bm25 = {h.chunk_id: s for h, s in scored}
        missing = [h.chunk_id for h in lexical if h.chunk_id not in vectors]
        vectors.update(self.lexical.vectors(self.index, self.user_id, revision, missing))
        sims = {
            cid: self._similarity(v, qvec, xvecs, self.expansion_weight)
            for cid, v in vectors.items()
        }
        dense.sort(key=lambda h: (-sims[h.chunk_id], h.chunk_id))

        by_id = {h.chunk_id: h for h in lexical}
        by_id.update({h.chunk_id: h for h in dense})
        fused: dict[str, float]
        if self.fusion == "convex":
            fused = convex_fusion(
                [{h.chunk_id: sims[h.chunk_id] for h in dense}, bm25], self.weights
            )
        else:
            rrf = reciprocal_rank_fusion(
                [[h.chunk_id for h in dense], [h.chunk_id for h in lexical]],
                self.weights,
                k=self.rrf_k,
            )
            fused = {str(cid): score for cid, score in rrf.items()}
        # ``k`` passed to invoke() wins over the field, as LangChain retrievers do.
        top = sorted(fused.items(), key=lambda kv: (-kv[1], str(kv[0])))[
            : self.k if k is None else k
        ]
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

    @staticmethod
    def _similarity(v: np.ndarray, q: np.ndarray, xs: list[np.ndarray], w: float) -> float:
        base = float(v @ q)
        if not xs:
            return base
        return (1 - w) * base + w * max(float(v @ x) for x in xs)
