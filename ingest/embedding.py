"""Sentence-transformers embeddings behind LangChain's ``Embeddings`` interface.

Why a wrapper: the model is loaded once, lazily (start-up stays fast for routes that
never embed), inputs are sorted by length before batching so that short journal lines
are not padded to the longest one, identical texts in a call are embedded once, and
query vectors are memoised. The persistent cache keyed by content hash lives in the
entry store (see ``ingest.indexing``).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings


class SentenceTransformerEmbeddings(Embeddings):
    """Normalised embeddings, so a dot product is the cosine similarity."""

    def __init__(
        self,
        model_name_or_path: str,
        *,
        batch_size: int = 32,
        device: str = "cpu",
        query_cache_size: int = 1024,
    ):
        self.model_name = model_name_or_path
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, list[float]] = OrderedDict()
        self._query_cache_size = query_cache_size

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                # The packaged model is a local folder; never reach out to a hub.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(self.model_name, device=self.device)
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (order kept), each distinct text once, longest-first batches."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        order = sorted(range(len(unique)), key=lambda i: len(unique[i]), reverse=True)
        vecs = self.model.encode(
            [unique[i] for i in order],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)
        by_text = {unique[i]: vecs[j] for j, i in enumerate(order)}
        return np.stack([by_text[t] for t in texts])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            hit = self._queries.get(text)
            if hit is not None:
                self._queries.move_to_end(text)
                return hit
        vec = self.encode([text])[0].tolist()
        with self._lock:
            self._queries[text] = vec
            if len(self._queries) > self._query_cache_size:
                self._queries.popitem(last=False)
        return vec
