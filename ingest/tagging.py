"""Tag chunks with trust patterns, repair signals, emotions and an era, at ingest.

Why this shape: tagging has to be cheap and offline, so it reuses the chunk vectors the
indexer already computed (nothing is embedded twice) and adds only a linear model per
label. Each label has a one-vs-rest logistic regression over the chunk vector plus
cue features (the taxonomy's ``markers``: regular expressions that show a label in a
sentence). The models are trained on ``eval/datasets/tagging_train.jsonl`` (journal-voice
sentences written for this project, not the dev journals) the first time a tagger is
used, with each label's threshold chosen by cross-validation on that set; the result
is cached on disk keyed by (embedding model, training set, taxonomy), so a process
restart does not train again. The era (``origin`` / ``recent`` / ``present``) comes from
temporal rules in the taxonomy, carried across the sentences that continue a story.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from langchain_core.embeddings import Embeddings

TAGGER_VERSION = 2  # bump when features or training change, so caches are not reused
GROUPS = ("patterns", "repair", "emotions")
ERAS = ("origin", "recent", "present")
_ERA_PRIORITY = ("present", "recent", "origin")
TRAINING_SET = Path(__file__).resolve().parent.parent / "eval" / "datasets" / "tagging_train.jsonl"

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
_PAST = re.compile(
    r"\b(was|were|had|did|didn't|went|said|told|came|got|felt|made|used to|\w{3,}ed)\b"
)
_PRESENT = re.compile(
    r"\b(i am|i'm|i think|i know|i still|is|are|i want|i feel|i have|i've|now|still)\b"
)


@dataclass(frozen=True)
class TagSpec:
    """What the tagger knows about the taxonomy: labels, their groups, cues and era rules."""

    labels: dict[str, str]  # label -> group
    markers: dict[str, tuple[re.Pattern[str], ...]]
    eras: dict[str, tuple[str, ...]]  # label -> eras a sentence must be in to show it
    era_rules: dict[str, tuple[re.Pattern[str], ...]]
    origin_share: float
    source: bytes  # the taxonomy file, for cache keys


@lru_cache
def load_tag_spec(version: str = "v1") -> TagSpec:
    """Read the taxonomy file directly (``ingest`` never imports ``service``)."""
    raw = resources.files("prompts").joinpath("taxonomy", version, "taxonomy.yaml").read_bytes()
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
    """One feature per label: how many of its markers the text matches (capped at 2)."""
    names = list(spec.labels)
    out = np.zeros((len(texts), len(names)), dtype=np.float32)
    for i, t in enumerate(texts):
        low = t.lower()
        for j, name in enumerate(names):
            n = sum(1 for rx in spec.markers[name] if rx.search(low))
            out[i, j] = min(n, 2)
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


def load_training_set(path: Path = TRAINING_SET) -> list[tuple[str, list[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append((str(r["text"]), [str(x) for x in r["labels"]]))
    return rows


@dataclass
class TrainedModel:
    labels: list[str]
    models: dict[str, Any]  # label -> fitted LogisticRegression (None: no positives)
    thresholds: dict[str, float]
    cv_f1: dict[str, float]


VECTOR_SCALE = 0.5  # sentence vectors are unit length; scaled so they weigh next to cues
C = 1.0  # inverse regularisation of each label's logistic regression
BETA = 0.7  # F-beta the thresholds maximise (below 1 favours precision)
POOLED = 0.5  # weight of the threshold pooled over a group against the label's own


def _features(vectors: np.ndarray, cues: np.ndarray) -> np.ndarray:
    return np.hstack([vectors.astype(np.float32) * VECTOR_SCALE, cues])


def _best_threshold(proba: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    best_t, best_f = 0.5, -1.0
    b2 = BETA * BETA
    for t in np.linspace(0.3, 0.95, 27):
        pred = proba >= t
        tp = int((pred & (y == 1)).sum())
        f = (1 + b2) * tp / (int(pred.sum()) + b2 * int(y.sum())) if tp else 0.0
        if f > best_f + 1e-9:
            best_t, best_f = float(t), f
    return best_t, best_f


def train(
    vectors: np.ndarray, texts: Sequence[str], labels: Sequence[Sequence[str]], spec: TagSpec
) -> TrainedModel:
    """One logistic regression per label; each threshold maximises cross-validated F-beta
    (blended with the threshold pooled over the label's group, which is steadier than
    one label's few dozen examples)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = _features(vectors, cue_features(texts, spec))
    models: dict[str, Any] = {}
    own: dict[str, float] = {}
    cv_f1: dict[str, float] = {}
    pooled: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def make() -> Any:
        return LogisticRegression(C=C, class_weight="balanced", solver="liblinear")

    for name, group in spec.labels.items():
        y = np.array([name in ls for ls in labels], dtype=int)
        if y.sum() < 3:
            models[name] = None
            continue
        folds = StratifiedKFold(n_splits=min(5, int(y.sum())), shuffle=True, random_state=0)
        proba = cross_val_predict(make(), x, y, cv=folds, method="predict_proba")[:, 1]
        own[name], f = _best_threshold(proba, y)
        cv_f1[name] = round(f, 4)
        ps, ys = pooled.setdefault("patterns" if group == "repair" else group, ([], []))
        ps.append(proba)
        ys.append(y)
        models[name] = make().fit(x, y)
    group_t = {
        g: _best_threshold(np.concatenate(ps), np.concatenate(ys))[0]
        for g, (ps, ys) in pooled.items()
    }
    thresholds = {
        name: round(
            POOLED * group_t["patterns" if group == "repair" else group] + (1 - POOLED) * own[name],
            4,
        )
        if name in own
        else 1.0
        for name, group in spec.labels.items()
    }
    return TrainedModel(list(spec.labels), models, thresholds, cv_f1)


# Trained models of this process by cache key: several containers (workers, tests) with
# the same model and training set share one instead of each loading or training it.
_TRAINED: dict[str, TrainedModel] = {}
_TRAINED_LOCK = threading.Lock()


class Tagger:
    """Labels for the chunks of entries, from the vectors the indexer already has."""

    def __init__(
        self,
        embeddings: Embeddings,
        model_name: str,
        cache_dir: Path | None = None,
        training_set: Path = TRAINING_SET,
        taxonomy_version: str = "v1",
    ):
        self.embeddings = embeddings
        self.model_name = model_name
        self.cache_dir = cache_dir
        self.training_set = training_set
        self.spec = load_tag_spec(taxonomy_version)
        self._model: TrainedModel | None = None
        self._lock = threading.Lock()

    @property
    def labels(self) -> dict[str, str]:
        return self.spec.labels

    def cache_key(self) -> str:
        h = hashlib.sha256()
        import sklearn

        settings = (TAGGER_VERSION, VECTOR_SCALE, C, BETA, POOLED, sklearn.__version__)
        for part in (
            repr(settings).encode(),
            self.model_name.encode(),
            self.training_set.read_bytes(),
            self.spec.source,
        ):
            h.update(part)
            h.update(b"\x00")
        return h.hexdigest()[:24]

    @property
    def model(self) -> TrainedModel:
        with self._lock:
            if self._model is None:
                self._model = self._load_or_train()
            return self._model

    def _load_or_train(self) -> TrainedModel:
        key = self.cache_key()
        with _TRAINED_LOCK:
            hit = _TRAINED.get(key)
        if hit is None:
            hit = self._load_or_train_uncached(key)
            with _TRAINED_LOCK:
                _TRAINED[key] = hit
        return hit

    def _load_or_train_uncached(self, key: str) -> TrainedModel:
        path = self.cache_dir / f"tagger-{key}.pkl" if self.cache_dir else None
        if path is not None and path.exists():
            try:
                with path.open("rb") as f:
                    cached = pickle.load(f)  # our own file, named by its content hash
                if isinstance(cached, TrainedModel):
                    return cached
            except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
                pass  # a damaged cache is retrained below
        rows = load_training_set(self.training_set)
        texts = [t for t, _ in rows]
        vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)
        model = train(vectors, texts, [ls for _, ls in rows], self.spec)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                pickle.dump(model, f)
            tmp.replace(path)
        return model

    def tag_entries(
        self,
        items: Sequence[tuple[str, Sequence[tuple[int, int]], np.ndarray]],
    ) -> list[EntryTags]:
        """Tag several entries at once: ``(text, chunk spans, chunk vectors)`` each."""
        model = self.model
        chunk_texts: list[str] = []
        chunk_vecs: list[np.ndarray] = []
        for text, spans, vecs in items:
            for (s, e), v in zip(spans, vecs, strict=True):
                chunk_texts.append(text[s:e])
                chunk_vecs.append(np.asarray(v, dtype=np.float32))
        scores: dict[str, np.ndarray] = {}
        if chunk_texts:
            x = _features(np.stack(chunk_vecs), cue_features(chunk_texts, self.spec))
            for name in model.labels:
                m = model.models.get(name)
                scores[name] = (
                    m.predict_proba(x)[:, 1] if m is not None else np.zeros(len(chunk_texts))
                )
        out: list[EntryTags] = []
        row = 0
        for text, spans, _ in items:
            sentences_of = [split_sentences(text, s, e) for s, e in spans]
            all_sentences = [s for ss in sentences_of for s in ss]
            eras = sentence_eras(text, all_sentences, self.spec)
            chunks: list[ChunkTags] = []
            k = 0
            for seq, ((s, e), sents) in enumerate(zip(spans, sentences_of, strict=True)):
                ct = ChunkTags(seq=seq, start=s, end=e, era=eras[k])
                k += len(sents)
                for name, group in self.spec.labels.items():
                    score = float(scores[name][row])
                    a, b = self._evidence(text, sents, name)
                    positive = score >= model.thresholds[name] and ct.era in self.spec.eras[name]
                    ct.hits.append(Hit(name, group, round(score, 4), a, b, positive))
                chunks.append(ct)
                row += 1
            _keep_best_negatives(chunks)
            out.append(EntryTags(era=entry_era(text, all_sentences, self.spec), chunks=chunks))
        return out

    def tag_text(self, text: str, spans: Sequence[tuple[int, int]]) -> EntryTags:
        """Tag one entry, embedding its chunks (for callers without stored vectors)."""
        vecs = np.asarray(
            self.embeddings.embed_documents([text[s:e] for s, e in spans]), dtype=np.float32
        )
        return self.tag_entries([(text, spans, vecs)])[0]

    def _evidence(self, text: str, sents: Sequence[tuple[int, int]], name: str) -> tuple[int, int]:
        """The sentence of the chunk that shows ``name``: one matching a marker, else the
        longest (chunks are about one sentence, so this rarely has to choose)."""
        if len(sents) == 1:
            return sents[0]
        for s, e in sents:
            low = text[s:e].lower()
            if any(rx.search(low) for rx in self.spec.markers[name]):
                return s, e
        return max(sents, key=lambda se: se[1] - se[0])


def _keep_best_negatives(chunks: list[ChunkTags]) -> None:
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
