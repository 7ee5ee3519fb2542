"""The Chroma vector index: derived data, always written and read per user.

The client (embedded ``PersistentClient`` or ``HttpClient`` for a server) is passed in,
and embeddings are always computed by us and passed explicitly: Chroma's default
embedding function would try to download a model. Every record carries the user id,
entry id, the entry date (as an ISO string and as a YYYYMMDD integer, because Chroma
range filters only work on numbers) and the chunk's character offsets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings


def make_chroma_client(url: str | None, path: str | None) -> ClientAPI:
    """A server client for ``http://host:port``, else an embedded persistent one."""
    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        u = urlparse(url)
        return chromadb.HttpClient(
            host=u.hostname or "localhost",
            port=u.port or (443 if u.scheme == "https" else 8000),
            ssl=u.scheme == "https",
            settings=settings,
        )
    if not path:
        raise ValueError("an embedded Chroma needs a path")
    return chromadb.PersistentClient(path=path, settings=settings)


def date_number(d: dt.date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


@dataclass(frozen=True)
class IndexRecord:
    chunk_id: str
    user_id: str
    entry_id: str
    date: dt.date
    start: int
    end: int
    text: str
    embedding: Sequence[float] | np.ndarray
    # Extra filterable metadata (labels from ingest.tagging: era, lab_<label>); the
    # keys above always win over it.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexHit:
    chunk_id: str
    entry_id: str
    date: dt.date
    start: int
    end: int
    text: str
    similarity: float  # cosine similarity, 1 = same direction


def _require_user(user_id: str) -> None:
    if not user_id:
        raise ValueError("the vector index is only ever read or written for one user")


def user_filter(
    user_id: str, since: dt.date | None = None, until: dt.date | None = None
) -> dict[str, Any]:
    """The where-clause every read uses: always the user, optionally a date range."""
    _require_user(user_id)
    clauses: list[dict[str, Any]] = [{"user_id": user_id}]
    if since:
        clauses.append({"date_num": {"$gte": date_number(since)}})
    if until:
        clauses.append({"date_num": {"$lte": date_number(until)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaIndex:
    page_size = 5000  # rows per ``get`` when reading a whole user's chunks

    def __init__(self, client: ClientAPI, collection_name: str = "trustlens_chunks"):
        self.client = client
        self.collection_name = collection_name
        self.collection = client.get_or_create_collection(
            collection_name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )

    def upsert(self, records: Sequence[IndexRecord], batch_size: int = 2000) -> None:
        for i in range(0, len(records), batch_size):
            batch = records[i : i + batch_size]
            for r in batch:
                _require_user(r.user_id)
            self.collection.upsert(
                ids=[r.chunk_id for r in batch],
                embeddings=np.stack([np.asarray(r.embedding, dtype=np.float32) for r in batch]),
                documents=[r.text for r in batch],
                metadatas=[
                    {
                        **r.metadata,
                        "user_id": r.user_id,
                        "entry_id": r.entry_id,
                        "date": r.date.isoformat(),
                        "date_num": date_number(r.date),
                        "start": r.start,
                        "end": r.end,
                    }
                    for r in batch
                ],
            )

    def delete_entries(self, user_id: str, entry_ids: Sequence[str]) -> None:
        _require_user(user_id)
        ids = list(entry_ids)
        for i in range(0, len(ids), 500):
            where: Any = {"$and": [{"user_id": user_id}, {"entry_id": {"$in": ids[i : i + 500]}}]}
            self.collection.delete(where=where)

    def delete_user(self, user_id: str) -> None:
        _require_user(user_id)
        self.collection.delete(where={"user_id": user_id})

    def count(self, user_id: str) -> int:
        _require_user(user_id)
        return len(self.collection.get(where={"user_id": user_id}, include=[])["ids"])

    def query(
        self,
        user_id: str,
        embedding: Sequence[float],
        k: int,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[IndexHit]:
        hits, _ = self.query_many(user_id, [embedding], k, since, until)
        return hits[0]

    def query_many(
        self,
        user_id: str,
        embeddings: Sequence[Any],
        k: int,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> tuple[list[list[IndexHit]], dict[str, np.ndarray]]:
        """Nearest chunks for each query vector, plus the stored vector of every hit."""
        res = self.collection.query(
            query_embeddings=np.asarray([list(e) for e in embeddings], dtype=np.float32),
            n_results=k,
            where=user_filter(user_id, since, until),
            include=["documents", "metadatas", "distances", "embeddings"],
        )
        out: list[list[IndexHit]] = []
        vectors: dict[str, np.ndarray] = {}
        for qi in range(len(embeddings)):
            ids = res["ids"][qi]
            metas = (res.get("metadatas") or [])[qi]
            docs = (res.get("documents") or [])[qi]
            dists = (res.get("distances") or [])[qi]
            embs = (res.get("embeddings") or [])[qi]
            hits = []
            for j, cid in enumerate(ids):
                hits.append(_hit(cid, metas[j], docs[j] or "", 1.0 - float(dists[j])))
                vectors[cid] = np.asarray(embs[j], dtype=np.float32)
            out.append(hits)
        return out, vectors

    def vectors(self, user_id: str, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of these chunks (only the user's own; other ids are dropped).

        Fetched by id alone, then kept only where the record's ``user_id`` is this
        user's: Chroma evaluates a ``where`` clause over the whole collection before it
        looks at the ids (seconds at 100k chunks, against milliseconds by id), so here
        the isolation check runs in Python, on every record returned, in this one place.
        """
        _require_user(user_id)
        if not chunk_ids:
            return {}
        got = self.collection.get(ids=list(chunk_ids), include=["embeddings", "metadatas"])
        embs = got.get("embeddings")
        metas = got.get("metadatas")
        if embs is None or metas is None:
            return {}
        return {
            cid: np.asarray(e, dtype=np.float32)
            for cid, e, meta in zip(got["ids"], embs, metas, strict=True)
            if meta is not None and meta.get("user_id") == user_id
        }

    def documents(
        self, user_id: str, since: dt.date | None = None, until: dt.date | None = None
    ) -> list[IndexHit]:
        """All of one user's indexed chunks (for the lexical index), in a stable order.

        Read in pages: one unbounded ``get`` over tens of thousands of chunks fails in
        Chroma's SQLite layer ("too many SQL variables").
        """
        where = user_filter(user_id, since, until)
        out: list[IndexHit] = []
        offset = 0
        while True:
            res = self.collection.get(
                where=where,
                include=["documents", "metadatas"],
                limit=self.page_size,
                offset=offset,
            )
            out.extend(
                _hit(cid, meta, doc or "", 0.0)
                for cid, meta, doc in zip(
                    res["ids"], res["metadatas"] or [], res["documents"] or [], strict=True
                )
            )
            if len(res["ids"]) < self.page_size:
                break
            offset += self.page_size
        out.sort(key=lambda h: h.chunk_id)
        return out


def _hit(cid: str, meta: Any, doc: str, similarity: float) -> IndexHit:
    return IndexHit(
        chunk_id=cid,
        entry_id=str(meta["entry_id"]),
        date=dt.date.fromisoformat(str(meta["date"])),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=doc,
        similarity=similarity,
    )
