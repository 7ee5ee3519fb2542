"""The gate's learned second stage: how likely a sentence is to be crisis language.

Two linear models, averaged: a logistic regression over all-MiniLM-L6-v2 sentence
embeddings (meaning: "the only thing keeping me here is the dog") and one over word
uni- and bigram TF-IDF (wording the embedding blurs: "one way", "ctb", "last time").
Leaving one writer's data out at a time, the mix found more of that writer's crisis
texts at the same precision than either model alone (``eval/crisis_train.py``).

The trained parameters and the thresholds picked by cross-validation live in a generated
data file (``prompts/models/crisis/<v>/classifier.json``), never in code, so a result can name
the model it came from and retraining is one command (``trustlens eval crisis-train``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from prompts import load_json

ASSET = "models/crisis"  # trained by `trustlens eval crisis-train`


@dataclass(frozen=True)
class TrainedClassifier:
    model: str  # the embedding model the weights belong to
    emb_weights: np.ndarray
    emb_bias: float
    vocabulary: dict[str, int]
    idf: np.ndarray
    ngram_max: int
    tfidf_weights: np.ndarray
    tfidf_bias: float
    mix: float  # weight of the TF-IDF model in the average
    threshold: float  # concern from here
    crisis_threshold: float  # crisis from here, for statements
    meta: dict[str, Any]  # what it was trained on, and the cross-validated figures
    # v2: a second model for the crisis band alone (intent, a plan or an attempt: C-SSRS
    # level 4 or more), so "resources" and "answer replaced" are two questions; without
    # it the one probability is compared with both thresholds (v1).
    crisis_head: TrainedClassifier | None = None
    # v2 recipe: concern is read from the whole text only (its sentences together), not
    # from any one sentence; crisis still from any. Out of fold on the dev journals, short
    # fragments ("the key's been on my keyring since last week") raised most concerns.
    concern_whole: bool = False
    _vec: Any = field(default=None, compare=False, repr=False)

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Probability of crisis for each text; ``vectors`` are its unit-norm embeddings."""
        p_emb = _sigmoid(vectors @ self.emb_weights + self.emb_bias)
        if self.mix == 0.0 or not self.vocabulary:
            return p_emb
        p_tf = _sigmoid(self._tfidf(texts) @ self.tfidf_weights + self.tfidf_bias)
        return np.asarray((1.0 - self.mix) * p_emb + self.mix * p_tf)

    def proba_crisis(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Probability of the crisis band: the crisis head's, else ``proba`` (v1)."""
        head = self.crisis_head or self
        return head.proba(texts, vectors)

    def _tfidf(self, texts: Sequence[str]) -> Any:
        if self._vec is None:  # rebuilt from the stored vocabulary and idf, once
            vec = make_vectorizer(self.ngram_max)
            vec.vocabulary = self.vocabulary
            vec.fit([" ".join(self.vocabulary)])  # fixes the vocabulary; idf is set next
            vec.idf_ = self.idf
            object.__setattr__(self, "_vec", vec)
        return self._vec.transform(list(texts))

    def to_json(self) -> dict[str, Any]:
        head: dict[str, Any] = (
            {"crisis_head": self.crisis_head.to_json()} if self.crisis_head else {}
        )
        if self.concern_whole:
            head["concern_units"] = "whole"
        return {
            "model": self.model,
            **self.meta,
            "threshold": self.threshold,
            "crisis_threshold": self.crisis_threshold,
            "mix": self.mix,
            "embedding": {
                "bias": round(self.emb_bias, 6),
                "weights": [round(float(w), 6) for w in self.emb_weights],
            },
            "tfidf": {
                "ngram_max": self.ngram_max,
                "bias": round(self.tfidf_bias, 6),
                "terms": {
                    t: [round(float(self.idf[i]), 5), round(float(self.tfidf_weights[i]), 5)]
                    for t, i in sorted(self.vocabulary.items(), key=lambda kv: kv[1])
                },
            },
            **head,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TrainedClassifier:
        terms: dict[str, list[float]] = doc["tfidf"]["terms"]
        known = {"model", "threshold", "crisis_threshold", "mix", "embedding", "tfidf"}
        known |= {"crisis_head", "concern_units"}
        head = doc.get("crisis_head")
        return cls(
            model=str(doc["model"]),
            emb_weights=np.asarray(doc["embedding"]["weights"], dtype=np.float32),
            emb_bias=float(doc["embedding"]["bias"]),
            vocabulary={t: i for i, t in enumerate(terms)},
            idf=np.asarray([v[0] for v in terms.values()], dtype=np.float64),
            ngram_max=int(doc["tfidf"]["ngram_max"]),
            tfidf_weights=np.asarray([v[1] for v in terms.values()], dtype=np.float64),
            tfidf_bias=float(doc["tfidf"]["bias"]),
            mix=float(doc["mix"]),
            threshold=float(doc["threshold"]),
            crisis_threshold=float(doc["crisis_threshold"]),
            meta={k: v for k, v in doc.items() if k not in known},
            crisis_head=cls.from_json(head) if head else None,
            concern_whole=doc.get("concern_units") == "whole",
        )


def make_vectorizer(ngram_max: int, min_df: int = 1) -> Any:
    """The TF-IDF settings training and run time share (only the vocabulary differs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, ngram_max), min_df=min_df, sublinear_tf=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


@lru_cache
def load_classifier(filename: str, version: str | None = None) -> TrainedClassifier | None:
    """The trained crisis classifier (``prompts/models/crisis/<version>/``), None if absent."""
    try:
        return TrainedClassifier.from_json(load_json(ASSET, filename, version))
    except FileNotFoundError:
        return None
