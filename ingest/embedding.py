"""Sentence-transformers embeddings behind LangChain's ``Embeddings`` interface.

Why a wrapper: the model is loaded once, lazily (start-up stays fast for routes that
never embed), inputs are sorted by length before batching so that short journal lines
are not padded to the longest one, identical texts in a call are embedded once, and
query vectors are memoised. Batches are also cut where the length drops by more than
half (``length_batches``): one long text in a batch of short ones pads every short one
to its length, which made the safety gate's sentences-plus-whole-text call cost twice
what it needs. The persistent cache keyed by content hash lives in the
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

# Characters per token, roughly, for English: past ``CHARS_PER_TOKEN * max_seq_length``
# characters a text is truncated anyway, so longer ones cost the same.
CHARS_PER_TOKEN = 5
# A batch ends where a text is shorter than this share of the batch's longest text.
LENGTH_DROP = 0.5


def length_batches(ordered: Sequence[str], size: int, cap: int) -> list[list[str]]:
    """Cut texts sorted longest first into batches of at most ``size`` whose shortest
    text is at least ``LENGTH_DROP`` of the longest (lengths capped at ``cap``): padding
    costs at most twice the work, and similar texts still share one batch."""
    batches: list[list[str]] = []
    for t in ordered:
        if (
            batches
            and len(batches[-1]) < size
            and min(len(t), cap) >= LENGTH_DROP * min(len(batches[-1][0]), cap)
        ):
            batches[-1].append(t)
        else:
            batches.append([t])
    return batches


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
        ordered = sorted(unique, key=len, reverse=True)
        model = self.model
        cap = CHARS_PER_TOKEN * int(getattr(model, "max_seq_length", 0) or 512)
        parts = [
            model.encode(
                batch,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32)
            for batch in length_batches(ordered, self.batch_size, cap)
        ]
        by_text = dict(zip(ordered, np.concatenate(parts), strict=True))
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
