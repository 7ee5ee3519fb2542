"""The Chroma vector index: derived data, always written and read per user.

The client (embedded ``PersistentClient`` or ``HttpClient`` for a server) is passed in,
and embeddings are always computed by us and passed explicitly: Chroma's default
embedding function would try to download a model. Every record carries the user id,
entry id, the entry date (as an ISO string and as a YYYYMMDD integer, because Chroma
range filters only work on numbers) and the chunk's character offsets.

Chroma holds vectors, ids and that filter metadata only, never text: a hit's ``text``
is read from the entry store (decrypted there, in memory) by the ``texts`` function the
index is given (``ingest.store.chunk_texts``), as ``entry.text[start:end]``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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


# (user id, [(entry id, start, end)]) -> the chunks' texts, in order ("" if gone).
ChunkTexts = Callable[[str, Sequence[tuple[str, int, int]]], list[str]]

# user id -> {entry id: a token that changes whenever that entry's indexed chunks or its
# text may have changed} (``ingest.store.entry_versions``), read without opening a text.
EntryVersions = Callable[[str], dict[str, str]]


def indexed_at(version: str) -> dt.datetime | None:
    """When an ``EntryVersions`` token says its entry's chunks were last marked indexed
    (UTC), or None when they are not. Tokens are ``content:indexed-hash:indexed-at``
    with ``-`` for a missing part (``ingest.store.UserEntries.index_versions``)."""
    parts = version.split(":", 2)
    if len(parts) < 3 or parts[1] == "-" or parts[2] == "-":
        return None
    at = dt.datetime.fromisoformat(parts[2])
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def compact_embedded(path: str | Path) -> None:
    """Rewrite an embedded Chroma's SQLite file so that rows it deleted (old documents,
    a deleted person's queue of upserts) leave no bytes behind; what ``chroma vacuum``
    does. A Chroma server's directory is compacted with ``chroma vacuum --path``."""
    db = Path(path) / "chroma.sqlite3"
    if not db.exists():
        return
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    try:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


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


def chunk_id(user_id: str, entry_id: str, seq: int) -> str:
    """A chunk's id: its entry's chunks are numbered 0, 1, ... with no gap (an entry's
    old chunks are deleted before its new ones are written), so an entry's chunks can be
    fetched by id (``ChromaIndex.entry_chunks_with_vectors``)."""
    return f"{user_id}/{entry_id}/{seq}"


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

    def __init__(
        self,
        client: ClientAPI,
        collection_name: str = "trustlens_chunks",
        texts: ChunkTexts | None = None,
        versions: EntryVersions | None = None,
    ):
        self.client = client
        self.collection_name = collection_name
        self.texts = texts
        self.versions = versions
        self.collection = self._collection(collection_name)

    def _collection(self, name: str) -> Any:
        return self.client.get_or_create_collection(
            name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def _with_texts(self, user_id: str, hits: list[IndexHit]) -> list[IndexHit]:
        if self.texts is None or not hits:
            return hits
        texts = self.texts(user_id, [(h.entry_id, h.start, h.end) for h in hits])
        return [
            IndexHit(h.chunk_id, h.entry_id, h.date, h.start, h.end, t, h.similarity)
            for h, t in zip(hits, texts, strict=True)
        ]

    def strip_documents(self) -> int:
        """Rewrite a collection written by an older version (chunk text stored as the
        document) without documents; returns how many records were rewritten.

        The records are copied (vectors, ids, metadata) into a new collection, the old
        one is dropped and the new one takes its name. Each step can be interrupted and
        re-run: an unfinished copy is redone (upserts), a dropped original with its copy
        in place is finished by the rename.
        """
        name, tmp = self.collection_name, self.collection_name + "-plain"
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        if name not in names and tmp in names:
            self.client.get_collection(tmp).modify(name=name)
            self.collection = self._collection(name)
            return 0
        probe = self.collection.get(limit=self.page_size, include=["documents"])
        if not any(d for d in (probe.get("documents") or [])) and tmp not in names:
            return 0
        target = self._collection(tmp)
        copied, offset = 0, 0
        while True:
            page = self.collection.get(
                include=["embeddings", "metadatas"], limit=self.page_size, offset=offset
            )
            if page["ids"]:
                target.upsert(
                    ids=page["ids"],
                    embeddings=np.asarray(page["embeddings"], dtype=np.float32),
                    metadatas=page["metadatas"],
                )
            copied += len(page["ids"])
            if len(page["ids"]) < self.page_size:
                break
            offset += self.page_size
        self.client.delete_collection(name)
        target.modify(name=name)
        self.collection = self._collection(name)
        return copied

    def upsert(self, records: Sequence[IndexRecord], batch_size: int = 2000) -> None:
        for i in range(0, len(records), batch_size):
            batch = records[i : i + batch_size]
            for r in batch:
                _require_user(r.user_id)
            self.collection.upsert(
                ids=[r.chunk_id for r in batch],
                embeddings=np.stack([np.asarray(r.embedding, dtype=np.float32) for r in batch]),
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
            include=["metadatas", "distances", "embeddings"],
        )
        out: list[list[IndexHit]] = []
        vectors: dict[str, np.ndarray] = {}
        for qi in range(len(embeddings)):
            ids = res["ids"][qi]
            metas = (res.get("metadatas") or [])[qi]
            dists = (res.get("distances") or [])[qi]
            embs = (res.get("embeddings") or [])[qi]
            hits = []
            for j, cid in enumerate(ids):
                hits.append(_hit(cid, metas[j], "", 1.0 - float(dists[j])))
                vectors[cid] = np.asarray(embs[j], dtype=np.float32)
            out.append(hits)
        flat = self._with_texts(user_id, [h for hits in out for h in hits])
        pos = 0
        for qi, hits in enumerate(out):
            out[qi] = flat[pos : pos + len(hits)]
            pos += len(hits)
        return out, vectors

    def vectors(self, user_id: str, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of these chunks (only the user's own; other ids are dropped).

        Fetched by id alone, then kept only where the record's ``user_id`` is this
        user's: Chroma evaluates a ``where`` clause over the whole collection before it
        looks at the ids (seconds at 100k chunks, against milliseconds by id), so here
        the isolation check runs in Python, on every record returned, in this one place.
        """
        _require_user(user_id)
        ids = list(chunk_ids)
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), self.page_size):  # paged, as ``documents_by_id``
            got = self.collection.get(
                ids=ids[i : i + self.page_size], include=["embeddings", "metadatas"]
            )
            embs = got.get("embeddings")
            metas = got.get("metadatas")
            if embs is None or metas is None:
                continue
            out.update(
                (cid, np.asarray(e, dtype=np.float32))
                for cid, e, meta in zip(got["ids"], embs, metas, strict=True)
                if meta is not None and meta.get("user_id") == user_id
            )
        return out

    def documents(
        self, user_id: str, since: dt.date | None = None, until: dt.date | None = None
    ) -> list[IndexHit]:
        """All of one user's indexed chunks (for the lexical index), in a stable order."""
        hits, _ = self._read_all(user_id, since, until, vectors=False)
        return hits

    def documents_with_vectors(self, user_id: str) -> tuple[list[IndexHit], np.ndarray]:
        """All of one user's indexed chunks, as :meth:`documents`, and their stored
        vectors: one row per hit, in the same order (an empty ``(0, 0)`` array if none)."""
        return self._read_all(user_id, None, None, vectors=True)

    def _read_all(
        self, user_id: str, since: dt.date | None, until: dt.date | None, vectors: bool
    ) -> tuple[list[IndexHit], np.ndarray]:
        """Read in pages: one unbounded ``get`` over tens of thousands of chunks fails in
        Chroma's SQLite layer ("too many SQL variables")."""
        where = user_filter(user_id, since, until)
        rows: list[tuple[IndexHit, Any]] = []
        offset = 0
        while True:
            res = self.collection.get(
                where=where,
                include=["metadatas", "embeddings"] if vectors else ["metadatas"],
                limit=self.page_size,
                offset=offset,
            )
            embs = res.get("embeddings") if vectors else None
            if embs is None:
                embs = [None] * len(res["ids"])
            rows.extend(
                (_hit(cid, meta, "", 0.0), emb)
                for cid, meta, emb in zip(res["ids"], res["metadatas"] or [], embs, strict=True)
            )
            if len(res["ids"]) < self.page_size:
                break
            offset += self.page_size
        rows.sort(key=lambda r: r[0].chunk_id)
        hits = self._with_texts(user_id, [h for h, _ in rows])
        if not vectors or not rows:
            return hits, np.zeros((0, 0), dtype=np.float32)
        return hits, np.asarray([e for _, e in rows], dtype=np.float32)

    def chunk_ids(self, user_id: str) -> list[str]:
        """Ids of all of one user's indexed chunks, sorted; no metadata, no text.

        What the lexical index reads on every revision to find what changed: at 20k
        chunks several times cheaper than ``documents`` (Chroma reads no metadata).
        """
        where = user_filter(user_id)
        out: list[str] = []
        offset = 0
        while True:
            res = self.collection.get(where=where, include=[], limit=self.page_size, offset=offset)
            out.extend(res["ids"])
            if len(res["ids"]) < self.page_size:
                break
            offset += self.page_size
        return sorted(out)

    def documents_by_id(self, user_id: str, chunk_ids: Sequence[str]) -> list[IndexHit]:
        """These chunks, with their texts (only the user's own; other ids are dropped),
        in the order asked; ids no longer indexed are left out.

        Fetched by id, in pages, and kept only where the record's ``user_id`` is this
        user's, as in ``vectors``.
        """
        return self._by_id(user_id, chunk_ids, vectors=False)[0]

    def documents_by_id_with_vectors(
        self, user_id: str, chunk_ids: Sequence[str]
    ) -> tuple[list[IndexHit], dict[str, np.ndarray]]:
        """As :meth:`documents_by_id`, with the stored vectors read in the same requests
        (the lexical index's update after a write needs both)."""
        return self._by_id(user_id, chunk_ids, vectors=True)

    def _by_id(
        self, user_id: str, chunk_ids: Sequence[str], vectors: bool
    ) -> tuple[list[IndexHit], dict[str, np.ndarray]]:
        _require_user(user_id)
        found: dict[str, IndexHit] = {}
        vecs: dict[str, np.ndarray] = {}
        ids = list(chunk_ids)
        include: Any = ["metadatas", "embeddings"] if vectors else ["metadatas"]
        for i in range(0, len(ids), self.page_size):
            got = self.collection.get(ids=ids[i : i + self.page_size], include=include)
            embs = got.get("embeddings") if vectors else None
            if embs is None:
                embs = [None] * len(got["ids"])
            for cid, meta, emb in zip(got["ids"], got["metadatas"] or [], embs, strict=True):
                if meta is not None and meta.get("user_id") == user_id:
                    found[cid] = _hit(cid, meta, "", 0.0)
                    if emb is not None:
                        vecs[cid] = np.asarray(emb, dtype=np.float32)
        return self._with_texts(user_id, [found[c] for c in ids if c in found]), vecs

    def entry_chunks_with_vectors(
        self, user_id: str, entry_ids: Sequence[str], probe: int = 16
    ) -> tuple[list[IndexHit], dict[str, np.ndarray]]:
        """Every indexed chunk of these entries of the user's, with texts and vectors.

        Read by id, never by a ``where`` clause: Chroma evaluates one over the whole
        collection (0.1 s for one entry at 100k chunks, against 1-2 ms by id). Chunk ids
        are numbered without gaps (``chunk_id``), so the first ``probe`` ids of each
        entry are asked for, and the next, larger block only for entries whose block came
        back full. Other users' records are dropped as in ``documents_by_id``.
        """
        _require_user(user_id)
        hits: list[IndexHit] = []
        vecs: dict[str, np.ndarray] = {}
        todo = {eid: 0 for eid in dict.fromkeys(entry_ids)}
        size = probe
        while todo:
            ids = [chunk_id(user_id, eid, s) for eid, a in todo.items() for s in range(a, a + size)]
            got, v = self._by_id(user_id, ids, vectors=True)
            hits += got
            vecs.update(v)
            found = {(h.entry_id, h.chunk_id) for h in got}
            todo = {
                eid: a + size
                for eid, a in todo.items()
                if (eid, chunk_id(user_id, eid, a + size - 1)) in found
            }
            size *= 4
        return hits, vecs

    def entry_versions(self, user_id: str) -> dict[str, str] | None:
        """Each entry's version token (``EntryVersions``), or None without a source."""
        _require_user(user_id)
        return None if self.versions is None else self.versions(user_id)


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
