"""The gate's learned second stage: how likely a sentence is to be crisis language.

Two linear models, averaged: a logistic regression over all-MiniLM-L6-v2 sentence
embeddings (meaning: "the only thing keeping me here is the dog") and one over word
uni- and bigram TF-IDF (wording the embedding blurs: "one way", "ctb", "last time").
Leaving one writer's data out at a time, the mix found more of that writer's crisis
texts at the same precision than either model alone (``eval/crisis_train.py``).

From model v3 the concern head (resources shown beside the answer) is an RBF-kernel
support-vector machine over the whole text's embedding (``KernelHead``): out of fold on
the real posts, at the same everyday false-alarm bound, it showed resources on more
level >= 2 posts than the linear mix (0.94 against 0.90), because what separates a
forum post about wanting to die from an ordinary sad day is not one direction in the
embedding space. The crisis head stays the linear mix.

The trained parameters and the thresholds picked by cross-validation live in a generated
data file (``prompts/models/crisis/<v>/classifier.json``), never in code, so a result can name
the model it came from and retraining is one command (``trustlens eval crisis-train``).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from prompts import asset_path, load_json

ASSET = "models/crisis"  # trained by `trustlens eval crisis-train`


@dataclass(frozen=True)
class KernelHead:
    """An RBF-kernel SVM (scikit-learn ``SVC``) kept as its support vectors, so run time
    needs numpy only. The rows are unit-norm, hence ``|a - b|^2 = 2 - 2 a.b`` and the
    kernel is one matrix product. ``gamma`` is stored as trained (``gamma="scale"`` is
    computed from the training data and cannot be recomputed here)."""

    support: np.ndarray  # (n, d) float32 unit rows
    coef: np.ndarray  # (n,) signed dual coefficients: positive pulls towards concern
    bias: float
    gamma: float

    def decision(self, vectors: np.ndarray) -> np.ndarray:
        sq = np.maximum(2.0 - 2.0 * (vectors @ self.support.T), 0.0)
        return np.asarray(np.exp(-self.gamma * sq) @ self.coef + self.bias)

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        """The decision value squashed into (0, 1): a score for thresholds, ordered like
        the decision value (0.5 is the SVM's own boundary), not a calibrated probability."""
        return _sigmoid(self.decision(vectors))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"support": self.support, "coef": self.coef}


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
    # v3: the concern head is a kernel SVM (the linear fields above are then unused).
    kernel: KernelHead | None = None
    # v3: a question (a unit that opens like one: "why do I ...") gets concern from the
    # concern threshold like a statement; before, only from the crisis threshold. Many
    # real posts are one unpunctuated sentence that opens with "how" or "why".
    question_concern: bool = False
    _vec: Any = field(default=None, compare=False, repr=False)

    def proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        """Probability of crisis for each text; ``vectors`` are its unit-norm embeddings."""
        if self.kernel is not None:
            return self.kernel.proba(vectors)
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

    def to_json(self, kernel_file: str = "") -> dict[str, Any]:
        """The readable part; a kernel head's arrays go to ``kernel_file`` (an ``.npz``
        beside it, written by the trainer from ``kernel.arrays()``)."""
        head: dict[str, Any] = (
            {"crisis_head": self.crisis_head.to_json()} if self.crisis_head else {}
        )
        if self.concern_whole:
            head["concern_units"] = "whole"
        if self.question_concern:
            head["question_concern"] = True
        base = {
            "model": self.model,
            **self.meta,
            "threshold": self.threshold,
            "crisis_threshold": self.crisis_threshold,
        }
        if self.kernel is not None:
            kernel = {
                "file": kernel_file,
                "gamma": self.kernel.gamma,
                "bias": round(self.kernel.bias, 8),
                "support_vectors": int(self.kernel.support.shape[0]),
            }
            return {**base, "kernel": kernel, **head}
        return {
            **base,
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
    def kernel_only(cls, kernel: KernelHead, **fields: Any) -> TrainedClassifier:
        """A concern head that is a kernel SVM: the linear fields are empty and unused."""
        return cls(
            emb_weights=np.zeros(kernel.support.shape[1], dtype=np.float32),
            emb_bias=0.0,
            vocabulary={},
            idf=np.zeros(0),
            ngram_max=1,
            tfidf_weights=np.zeros(0),
            tfidf_bias=0.0,
            mix=0.0,
            kernel=kernel,
            **fields,
        )

    @classmethod
    def from_json(
        cls,
        doc: dict[str, Any],
        arrays: Callable[[str], dict[str, np.ndarray]] | None = None,
    ) -> TrainedClassifier:
        """``arrays`` opens the ``.npz`` a kernel head names (required if it has one)."""
        known = {"model", "threshold", "crisis_threshold", "mix", "embedding", "tfidf"}
        known |= {"crisis_head", "concern_units", "kernel", "question_concern"}
        head = doc.get("crisis_head")
        common: dict[str, Any] = {
            "model": str(doc["model"]),
            "threshold": float(doc["threshold"]),
            "crisis_threshold": float(doc["crisis_threshold"]),
            "meta": {k: v for k, v in doc.items() if k not in known},
            "crisis_head": cls.from_json(head, arrays) if head else None,
            "concern_whole": doc.get("concern_units") == "whole",
            "question_concern": bool(doc.get("question_concern", False)),
        }
        if "kernel" in doc:
            k = doc["kernel"]
            if arrays is None:
                raise ValueError(f"a kernel head needs its arrays ({k['file']})")
            got = arrays(str(k["file"]))
            kernel = KernelHead(
                support=np.asarray(got["support"], dtype=np.float32),
                coef=np.asarray(got["coef"], dtype=np.float32),
                bias=float(k["bias"]),
                gamma=float(k["gamma"]),
            )
            if kernel.support.shape[0] != int(k["support_vectors"]):
                raise ValueError(f"{k['file']} does not match its classifier file")
            return cls.kernel_only(kernel, **common)
        terms: dict[str, list[float]] = doc["tfidf"]["terms"]
        return cls(
            emb_weights=np.asarray(doc["embedding"]["weights"], dtype=np.float32),
            emb_bias=float(doc["embedding"]["bias"]),
            vocabulary={t: i for i, t in enumerate(terms)},
            idf=np.asarray([v[0] for v in terms.values()], dtype=np.float64),
            ngram_max=int(doc["tfidf"]["ngram_max"]),
            tfidf_weights=np.asarray([v[1] for v in terms.values()], dtype=np.float64),
            tfidf_bias=float(doc["tfidf"]["bias"]),
            mix=float(doc["mix"]),
            **common,
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

    def arrays(name: str) -> dict[str, np.ndarray]:
        data = asset_path(ASSET, name, version).read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}

    try:
        return TrainedClassifier.from_json(load_json(ASSET, filename, version), arrays)
    except FileNotFoundError:
        return None
