"""Deterministic stand-ins for fast unit tests (the real model is used in integration tests).

``WordHashEmbeddings`` hashes words into a small vector, so texts that share words are
similar and exact results can be asserted without loading a neural model.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from langchain_core.embeddings import Embeddings

_WORD = re.compile(r"[a-z0-9']+")
_STOP = {
    "i",
    "a",
    "the",
    "and",
    "to",
    "of",
    "my",
    "me",
    "it",
    "was",
    "is",
    "in",
    "on",
    "at",
    "for",
    "that",
    "what",
    "do",
    "when",
    "did",
    "how",
    "he",
    "she",
    "his",
    "her",
}


class WordHashEmbeddings(Embeddings):
    def __init__(self, dim: int = 256):
        self.dim = dim
        self.model_name = f"word-hash-{dim}"
        self.calls: list[list[str]] = []

    def _vec(self, text: str) -> list[float]:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in _WORD.findall(text.lower()):
            if w in _STOP:
                continue
            h = int.from_bytes(hashlib.md5(w.encode()).digest()[:4], "little")
            v[h % self.dim] += 1.0
        n = float(np.linalg.norm(v))
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return (v / n).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # ``calls`` records every text sent, so tests can assert on what indexing embedded
        # (the tagger ships its model and embeds nothing of its own).
        self.calls.append(list(texts))
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)
