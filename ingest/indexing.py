"""Keep the vector index in step with the entry store.

Order of writes, chosen so that a crash at any point loses nothing: entries are
committed first (the source of truth); then chunks are computed and embedded (reusing
vectors already stored for the same text), written to Chroma, and only then are the
chunks and the ``index_state`` row committed together. Anything committed but not
marked indexed is picked up by ``index_pending`` on the next start or import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings
from sqlalchemy.orm import Session, sessionmaker

from ingest.chunking import chunk_spans, sentence_spans
from ingest.episodes_store import Found, write_episodes
from ingest.labels_store import UserLabels, chunk_metadata, write_entry_tags
from ingest.store import (
    Chunk,
    Entry,
    UserEntries,
    all_user_ids,
    text_hash,
    vector_to_bytes,
)
from ingest.tagging import EntryTags, Tagger
from ingest.vector_index import ChromaIndex, IndexRecord, chunk_id

Progress = Callable[[int], None]


class Read(Protocol):
    """One entry's reading (``ingest.episodes.Reading``)."""

    @property
    def episodes(self) -> Sequence[Found]: ...

    @property
    def origin(self) -> float: ...


class Detector(Protocol):
    """Finds episodes and retrospective telling in an entry (``ingest/episodes.py``)."""

    @property
    def uses_vectors(self) -> bool: ...

    @property
    def origin_threshold(self) -> float: ...

    def read(
        self, text: str, sentences: Sequence[Any] | None = None, vectors: np.ndarray | None = None
    ) -> Read: ...


class Indexer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        index: ChromaIndex,
        embeddings: Embeddings,
        model_name: str,
        chunk_max_words: int = 90,
        batch_size: int = 64,
        tagger: Tagger | None = None,
        detector: Detector | None = None,
    ):
        self.sessions = sessions
        self.index = index
        self.embeddings = embeddings
        self.model_name = model_name
        self.chunk_max_words = chunk_max_words
        self.batch_size = batch_size
        self.tagger = tagger
        self.detector = detector

    def index_entries(
        self, user_id: str, entry_pks: Sequence[int], progress: Progress | None = None
    ) -> int:
        """(Re)index these entries of one user; returns how many chunks were written."""
        written = 0
        pks = list(entry_pks)
        for i in range(0, len(pks), self.batch_size):
            batch = pks[i : i + self.batch_size]
            written += self._index_batch(user_id, batch)
            if progress:
                progress(len(batch))
        return written

    def _index_batch(self, user_id: str, pks: Sequence[int]) -> int:
        with self.sessions() as session:
            store = UserEntries(session, user_id)
            entries = store.by_pks(pks)
            planned: list[tuple[Entry, list[Chunk]]] = []
            for e in entries:
                chunks = [
                    Chunk(
                        seq=seq,
                        start=span.start,
                        end=span.end,
                        text_hash=text_hash(span.of(e.text)),
                        model=self.model_name,
                    )
                    for seq, span in enumerate(chunk_spans(e.text, self.chunk_max_words))
                ]
                planned.append((e, chunks))
            all_chunks = [(e, c) for e, cs in planned for c in cs]
            cached = store.cached_embeddings([c.text_hash for _, c in all_chunks], self.model_name)
            missing = list(
                dict.fromkeys(
                    e.text[c.start : c.end] for e, c in all_chunks if c.text_hash not in cached
                )
            )
            if missing:
                vectors = self.embeddings.embed_documents(missing)
                for t, v in zip(missing, vectors, strict=True):
                    cached[text_hash(t)] = vector_to_bytes(v)
            for _, c in all_chunks:
                c.embedding = cached[c.text_hash]
            tagged, metas = self._tag(session, user_id, planned)

            records = [
                IndexRecord(
                    chunk_id=chunk_id(user_id, e.entry_id, c.seq),
                    user_id=user_id,
                    entry_id=e.entry_id,
                    date=e.date,
                    start=c.start,
                    end=c.end,
                    text=e.text[c.start : c.end],
                    embedding=np.frombuffer(cached[c.text_hash], dtype=np.float32),
                    metadata=metas[e.entry_id][c.seq] if metas else {},
                )
                for e, c in all_chunks
            ]
            # Old chunks of a changed entry may outnumber the new ones: clear them first.
            self.index.delete_entries(user_id, [e.entry_id for e in entries])
            self.index.upsert(records)
            store.replace_chunks_of(planned)
            found = self._episodes(planned, tagged, cached)
            if tagged:
                write_entry_tags(session, user_id, tagged)
            if found:
                write_episodes(session, user_id, found)
            store.mark_indexed(entries)
            session.commit()
            return len(records)

    def _tag(
        self, session: Session, user_id: str, planned: Sequence[tuple[Entry, list[Chunk]]]
    ) -> tuple[list[tuple[Entry, EntryTags]], dict[str, list[dict[str, Any]]]]:
        """Label the planned chunks from their vectors (nothing is embedded again); returns
        the tags (written with the chunks, in the same transaction) and each entry's
        per-chunk index metadata with the person's corrections applied."""
        if self.tagger is None:
            return [], {}
        items = [
            (
                e.text,
                [(c.start, c.end) for c in cs],
                np.stack([np.frombuffer(c.embedding or b"", dtype=np.float32) for c in cs])
                if cs
                else np.zeros((0, 0), dtype=np.float32),
            )
            for e, cs in planned
        ]
        tags = self.tagger.tag_entries(items)
        tagged = [(e, t) for (e, _), t in zip(planned, tags, strict=True)]
        verdicts = UserLabels(session, user_id).verdicts([e.entry_id for e, _ in planned])
        metas = {e.entry_id: chunk_metadata(t, verdicts.get(e.entry_id, {})) for e, t in tagged}
        return tagged, metas

    def _episodes(
        self,
        planned: Sequence[tuple[Entry, list[Chunk]]],
        tagged: Sequence[tuple[Entry, EntryTags]],
        cached: dict[str, bytes],
    ) -> list[tuple[Entry, Sequence[Found]]]:
        """Each entry's episodes, read sentence by sentence (the detector was trained on
        sentences); an entry told mainly in retrospect gets the ``origin`` era, whatever
        the era rules said (the detector reads retrospective telling the rules miss).

        A sentence that is also a chunk reuses the chunk's stored vector; the others are
        embedded in one batch for the whole indexing batch (never twice for one text)."""
        if self.detector is None:
            return []
        sentences = {e.pk: [(s.start, s.end) for s in sentence_spans(e.text)] for e, _ in planned}
        vectors = self._sentence_vectors(planned, sentences, cached)
        tags = {e.pk: t for e, t in tagged}
        out: list[tuple[Entry, Sequence[Found]]] = []
        for e, _ in planned:
            spans, vecs = sentences[e.pk], vectors.get(e.pk)
            reading = self.detector.read(e.text, spans, vecs)
            out.append((e, reading.episodes))
            t = tags.get(e.pk)
            if t is not None and spans and reading.origin >= self.detector.origin_threshold:
                t.era = "origin"
        return out

    def _sentence_vectors(
        self,
        planned: Sequence[tuple[Entry, list[Chunk]]],
        sentences: dict[int, list[tuple[int, int]]],
        cached: dict[str, bytes],
    ) -> dict[int, np.ndarray]:
        if self.detector is None or not self.detector.uses_vectors:
            return {}
        texts = {e.pk: [e.text[a:b] for a, b in sentences[e.pk]] for e, _ in planned}
        missing = list(
            dict.fromkeys(t for ts in texts.values() for t in ts if text_hash(t) not in cached)
        )
        found = dict(cached)
        if missing:
            for t, v in zip(missing, self.embeddings.embed_documents(missing), strict=True):
                found[text_hash(t)] = vector_to_bytes(v)
        return {
            pk: np.stack([np.frombuffer(found[text_hash(t)], dtype=np.float32) for t in ts])
            for pk, ts in texts.items()
            if ts
        }

    def pending(self, user_id: str) -> list[int]:
        with self.sessions() as session:
            return [e.pk for e in UserEntries(session, user_id).pending_index()]

    def index_pending(self, user_id: str | None = None, progress: Progress | None = None) -> int:
        """Index every committed entry whose current text is not in the index yet."""
        total = 0
        for uid in self._users(user_id):
            pks = self.pending(uid)
            if pks:
                self.index_entries(uid, pks, progress)
                total += len(pks)
        return total

    def reindex(self, user_id: str | None = None, progress: Progress | None = None) -> int:
        """Drop a user's vectors and rebuild them from the store (stored vectors reused)."""
        total = 0
        for uid in self._users(user_id):
            with self.sessions() as session:
                store = UserEntries(session, uid)
                store.clear_index_state()
                session.commit()
            self.index.delete_user(uid)
            total += self.index_pending(uid, progress)
        return total

    def _users(self, user_id: str | None) -> list[str]:
        if user_id:
            return [user_id]
        with self.sessions() as session:
            return all_user_ids(session)
