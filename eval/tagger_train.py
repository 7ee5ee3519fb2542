"""Train the ingest tagger's shipped model and measure it on writers it never saw.

Why a command and a file: a tagger that trained itself at first use read
``eval/datasets`` at run time (the installed package must not need it), cached a pickle
per data dir and could differ between machines. ``trustlens eval tagger-train`` writes
``prompts/models/tagger/<v>/model.json`` (plain JSON weights, loaded by
``ingest/tagging.py`` through :mod:`prompts`) and ``training.json`` beside it (the data
files with their sha256, settings, cross-validated figures, date).

Data. Every development writer: the dev journals in ``eval/datasets/journals/dev/`` (each
by a separate writer, with the sentence that shows each pattern; the first round's test
journals joined them once they had been measured) and the team's own
journal ``examples/maya`` (entry-level labels in ``entry_labels.json``), plus
``tagging_train.jsonl`` (about 420 journal-voice sentences written for the project).
The units are the chunks ingest makes (``chunk_spans`` at the service's default
``chunk_max_words``), so the model learns from what it will score. A chunk is a positive
for a pattern when it holds a sentence labelled with it and a negative when it does not;
where only the entry is labelled (maya's patterns, every writer's emotions), chunks of
entries without the label are negatives and chunks of entries with it are left out (the
label is the entry's, not every chunk's). Only the writer's own behaviour is labelled
("she didn't reply" is not avoidance), and the labels say so, not the code.

Thresholds. An entry has a label when any chunk's probability reaches the label's
threshold, so thresholds are chosen on entries: each maximises pooled per-entry F1 over
out-of-writer scores (leave one writer out, train on the others, score the one left out).
The shipped thresholds come from that over all the writers.

Measurement: nested leave-one-writer-out. For each writer, the model is trained on the
others (plus the sentence set) and its thresholds are chosen by an inner
leave-one-writer-out over those others only; the writer left out is then tagged through
``Tagger.tag_entries``, as at ingest. The fixed settings below (feature weights,
regularisation, vocabulary size) were picked while exploring on the first five writers,
so the figures are somewhat optimistic; the thresholds are nested. The held-out test
journals (``eval/datasets/journals/test/``) are never read here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import platform
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from eval.tagging_eval import lowo_figures
from ingest.chunking import chunk_spans
from ingest.tagging import (
    EMBEDDING,
    TEXT,
    Component,
    Tagger,
    TaggerModel,
    TagSpec,
    TextFeatures,
    char_ngrams,
    cue_features,
    load_tag_spec,
)

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "eval" / "datasets"
DEV = DATASETS / "journals" / "dev"
# Every dev journal (each by its own writer session): the folder is the list.
DEV_WRITERS = tuple(sorted(d.name for d in DEV.iterdir() if (d / "labels.json").is_file()))
TEAM_WRITER = "maya"
WRITERS = (*DEV_WRITERS, TEAM_WRITER)
TEAM_JOURNAL = ROOT / "examples" / "maya" / "journal.jsonl"
ENTRY_LABELS = DATASETS / "entry_labels.json"
TRAINING_SET = DATASETS / "tagging_train.jsonl"
TAXONOMY = ROOT / "prompts" / "taxonomy" / "v1" / "taxonomy.yaml"
MODEL_VERSION = "v7"
EMBEDDING_NAME = "all-MiniLM-L6-v2"  # the packaged model (service.settings)

VECTOR_SCALE = 0.5  # unit vectors, scaled so they weigh next to markers and TF-IDF
C = 3.0  # inverse L2 strength of every label's logistic regression
NGRAM_RANGE = (2, 5)  # character n-grams within words
MIN_DF = 2  # n-grams in fewer training texts are dropped
MAX_FEATURES = 4000  # the most frequent n-grams kept (keeps model.json near 1 MB)


@dataclass(frozen=True)
class JournalEntry:
    writer: str
    entry_id: str
    text: str
    patterns: frozenset[str]
    emotions: frozenset[str]
    # (label, start, end) of each labelled sentence; None: only the entry is labelled
    spans: tuple[tuple[str, int, int], ...] | None

    @property
    def key(self) -> str:
        return f"{self.writer}/{self.entry_id}"


@dataclass
class Corpus:
    """Training units: the chunks of every entry (entry order), then the sentence set."""

    entries: list[JournalEntry]
    chunks: list[list[tuple[int, int]]]  # per entry, chunk spans
    texts: list[str]  # per unit
    owner: list[int]  # per unit: the entry's index, -1 for a sentence-set row
    targets: list[dict[str, int | None]]  # per unit: 1, 0, or None (not used for the label)
    vectors: np.ndarray  # per unit
    sentence_rows: int
    # per unit, computed once for every fold: n-gram counts and marker features
    grams: list[Counter[str]] = field(default_factory=list)
    markers: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        if not self.grams:
            self.grams = [Counter(char_ngrams(t, *NGRAM_RANGE)) for t in self.texts]

    def units(self, writers: Iterable[str], with_sentence_set: bool = True) -> np.ndarray:
        keep = set(writers)
        return np.asarray(
            [
                i
                for i, e in enumerate(self.owner)
                if (e < 0 and with_sentence_set) or (e >= 0 and self.entries[e].writer in keep)
            ],
            dtype=np.int64,
        )


# ------------------------------------------------------------------ data


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def load_training_set(path: Path = TRAINING_SET) -> list[tuple[str, list[str]]]:
    return [(str(r["text"]), [str(x) for x in r["labels"]]) for r in _jsonl(path)]


def locate(text: str, sentence: str) -> tuple[int, int] | None:
    """Offsets of a labelled sentence in its entry (verbatim, else ignoring spacing)."""
    i = text.find(sentence.strip())
    if i >= 0:
        return i, i + len(sentence.strip())
    words = sentence.split()
    if not words:
        return None
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (m.start(), m.end()) if m else None


def load_dev_writer(writer: str) -> list[JournalEntry]:
    """One dev journal with its labels; a labelled sentence not found is an error."""
    folder = DEV / writer
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))["labels"]
    out = []
    for row in _jsonl(folder / "journal.jsonl"):
        lab = labels[row["id"]]
        spans = []
        for p in lab["patterns"]:
            where = locate(row["text"], p["sentence"])
            if where is None:
                raise ValueError(f"{writer}/{row['id']}: sentence not in entry: {p['sentence']!r}")
            spans.append((str(p["label"]), *where))
        out.append(
            JournalEntry(
                writer=writer,
                entry_id=str(row["id"]),
                text=str(row["text"]),
                patterns=frozenset(str(p["label"]) for p in lab["patterns"]),
                emotions=frozenset(lab["emotions"]),
                spans=tuple(spans),
            )
        )
    return out


def load_team_writer() -> list[JournalEntry]:
    """maya's journal with its entry-level labels (``entry_labels.json``)."""
    labels = json.loads(ENTRY_LABELS.read_text(encoding="utf-8"))["labels"]
    return [
        JournalEntry(
            writer=TEAM_WRITER,
            entry_id=str(r["id"]),
            text=str(r["text"]),
            patterns=frozenset(labels[r["id"]]["patterns"]),
            emotions=frozenset(labels[r["id"]]["emotions"]),
            spans=None,
        )
        for r in _jsonl(TEAM_JOURNAL)
    ]


def load_entries() -> list[JournalEntry]:
    return [e for w in DEV_WRITERS for e in load_dev_writer(w)] + load_team_writer()


def default_chunk_words() -> int:
    """The service's default chunk size, so training sees the chunks ingest makes."""
    from service.settings import Settings

    return int(Settings.model_fields["chunk_max_words"].default)


def _chunk_targets(
    entry: JournalEntry, span: tuple[int, int], spec: TagSpec
) -> dict[str, int | None]:
    s, e = span
    out: dict[str, int | None] = {}
    for name, group in spec.labels.items():
        gold = entry.emotions if group == "emotions" else entry.patterns
        if group != "emotions" and entry.spans is not None:
            out[name] = int(any(lab == name and a < e and b > s for lab, a, b in entry.spans))
        else:
            out[name] = None if name in gold else 0
    return out


def build_corpus(
    entries: list[JournalEntry],
    sentence_set: list[tuple[str, list[str]]],
    embeddings: Embeddings,
    spec: TagSpec,
    chunk_words: int,
) -> Corpus:
    """Chunk every entry as ingest does, attach targets, embed every text once."""
    chunks: list[list[tuple[int, int]]] = []
    texts: list[str] = []
    owner: list[int] = []
    targets: list[dict[str, int | None]] = []
    for i, entry in enumerate(entries):
        spans = [(c.start, c.end) for c in chunk_spans(entry.text, chunk_words)]
        chunks.append(spans)
        for span in spans:
            texts.append(entry.text[span[0] : span[1]])
            owner.append(i)
            targets.append(_chunk_targets(entry, span, spec))
    for text, labels in sentence_set:
        texts.append(text)
        owner.append(-1)
        targets.append({n: int(n in labels) for n in spec.labels})
    unique = list(dict.fromkeys(texts))
    by_text = dict(zip(unique, embeddings.embed_documents(unique), strict=True))
    vectors = np.asarray([by_text[t] for t in texts], dtype=np.float32)
    corpus = Corpus(entries, chunks, texts, owner, targets, vectors, len(sentence_set))
    corpus.markers = cue_features(texts, spec)
    return corpus


# ------------------------------------------------------------------ fitting


def fit_vocabulary(grams: Sequence[Counter[str]]) -> TextFeatures:
    """The n-grams in at least ``MIN_DF`` texts, the ``MAX_FEATURES`` most frequent, with
    smooth idf (``ln((1 + n) / (1 + df)) + 1``, as scikit-learn)."""
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    for g in grams:
        tf.update(g)
        df.update(g.keys())
    kept = sorted((g for g in df if df[g] >= MIN_DF), key=lambda g: (-tf[g], g))[:MAX_FEATURES]
    kept.sort()
    idf = np.asarray([np.log((1 + len(grams)) / (1 + df[g])) + 1.0 for g in kept])
    return TextFeatures(ngram_range=NGRAM_RANGE, terms=tuple(kept), idf=idf)


def _tfidf_matrix(space: TextFeatures, grams: Sequence[Counter[str]]) -> Any:
    from scipy import sparse

    rows = [space.row(g) for g in grams]
    indptr = np.cumsum([0, *(len(i) for i, _ in rows)])
    idx = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
    val = np.concatenate([v for _, v in rows]) if rows else np.zeros(0, dtype=np.float32)
    return sparse.csr_matrix((val, idx, indptr), shape=(len(grams), len(space.terms)))


def _fit_component(
    x: Any, targets: Sequence[dict[str, int | None]], labels: Sequence[str], n_vec: int
) -> Component:
    """One balanced logistic regression per label on ``x`` = [vector?, markers, TF-IDF];
    units whose target is None for a label are left out of that label's fit."""
    from sklearn.linear_model import LogisticRegression

    coefs, intercepts = [], []
    for name in labels:
        keep = np.asarray([t[name] is not None for t in targets])
        y = np.asarray([t[name] or 0 for t in targets])[keep]
        if y.min() == y.max():  # no positives (or no negatives): never on
            coefs.append(np.zeros(x.shape[1]))
            intercepts.append(-50.0 if y.max() == 0 else 50.0)
            continue
        lr = LogisticRegression(C=C, class_weight="balanced", solver="liblinear", random_state=0)
        lr.fit(x[keep], y)
        coefs.append(lr.coef_[0])
        intercepts.append(float(lr.intercept_[0]))
    w = np.asarray(coefs).T  # (features, labels)
    n_mark = len(labels)
    return Component(
        intercepts=np.asarray(intercepts),
        marker_weights=w[n_vec : n_vec + n_mark],
        tfidf_weights=w[n_vec + n_mark :],
        thresholds=np.ones(len(labels)),
        vector_weights=w[:n_vec] if n_vec else None,
        vector_scale=VECTOR_SCALE if n_vec else 0.0,
    )


def fit(corpus: Corpus, units: np.ndarray, spec: TagSpec, embedding_name: str) -> TaggerModel:
    """Both components on these units (thresholds left at 1: chosen afterwards)."""
    from scipy import sparse

    grams = [corpus.grams[i] for i in units]
    space = fit_vocabulary(grams)
    markers = sparse.csr_matrix(corpus.markers[units])
    tfidf = _tfidf_matrix(space, grams)
    vectors = corpus.vectors[units]
    targets = [corpus.targets[i] for i in units]
    labels = list(spec.labels)
    x_text = sparse.hstack([markers, tfidf]).tocsr()
    x_emb = sparse.hstack([sparse.csr_matrix(vectors * VECTOR_SCALE), x_text]).tocsr()
    return TaggerModel(
        labels=tuple(labels),
        text=space,
        components={
            EMBEDDING: _fit_component(x_emb, targets, labels, vectors.shape[1]),
            TEXT: _fit_component(x_text, targets, labels, 0),
        },
        embedding_model=embedding_name,
        embedding_dim=int(vectors.shape[1]),
    )


def with_thresholds(model: TaggerModel, thresholds: dict[str, np.ndarray]) -> TaggerModel:
    comps = {
        name: dataclasses.replace(c, thresholds=np.asarray(thresholds[name], dtype=np.float64))
        for name, c in model.components.items()
    }
    return dataclasses.replace(model, components=comps)


# ------------------------------------------------------------------ cross-validation


def _items(corpus: Corpus, entries: Sequence[int]) -> list[tuple[str, list[tuple[int, int]], Any]]:
    """``Tagger.tag_entries`` input for these entries, with their stored chunk vectors."""
    first = np.cumsum([0, *(len(c) for c in corpus.chunks)])
    return [
        (corpus.entries[e].text, corpus.chunks[e], corpus.vectors[first[e] : first[e + 1]])
        for e in entries
    ]


def _tagger(model: TaggerModel, component: str) -> Tagger:
    """A tagger that picks ``component`` the way ingest does: by the embedder's name."""
    name = model.embedding_model if component == EMBEDDING else "no-such-embedder"
    return Tagger(_NoEmbeddings(), name, model=model)


class _NoEmbeddings(Embeddings):
    """Cross-validation passes stored vectors; embedding again would be a bug."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("cross-validation must not embed")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("cross-validation must not embed")


def entry_maxima(
    model: TaggerModel, corpus: Corpus, entries: Sequence[int], component: str
) -> np.ndarray:
    """(entries, labels): each label's best chunk probability where the era admits it."""
    tagger = _tagger(model, component)
    scored = tagger.score_entries(_items(corpus, entries), component)
    return np.stack([s.best() for s in scored]) if scored else np.zeros((0, len(model.labels)))


def entry_gold(corpus: Corpus, entries: Sequence[int], labels: Sequence[str]) -> np.ndarray:
    return np.asarray(
        [
            [n in corpus.entries[e].patterns | corpus.entries[e].emotions for n in labels]
            for e in entries
        ],
        dtype=bool,
    )


def choose_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    """The threshold with the best pooled per-entry F1, halfway down to the next lower
    score (a writer's scores shift a little; the edge of a plateau is fragile)."""
    if not gold.any():
        return 1.0
    cands = np.unique(scores)[::-1]
    best_f, best_i = -1.0, 0
    for i, t in enumerate(cands):
        pred = scores >= t
        tp = int((pred & gold).sum())
        f = 2 * tp / (int(pred.sum()) + int(gold.sum())) if tp else 0.0
        if f > best_f + 1e-12:
            best_f, best_i = f, i
    lower = cands[best_i + 1] if best_i + 1 < len(cands) else 0.0
    return float((cands[best_i] + lower) / 2)


def thresholds_from(maxima: dict[str, np.ndarray], gold: dict[str, np.ndarray]) -> np.ndarray:
    """Per label, from the out-of-writer maxima of several writers, pooled."""
    s = np.concatenate(list(maxima.values()))
    g = np.concatenate([gold[w] for w in maxima])
    return np.asarray([choose_threshold(s[:, j], g[:, j]) for j in range(s.shape[1])])


@dataclass
class CrossValidation:
    # component -> writer -> (entries, labels) out-of-writer maxima (models of 4 writers)
    maxima: dict[str, dict[str, np.ndarray]]
    gold: dict[str, np.ndarray]  # writer -> (entries, labels)
    # component -> entry key -> labels tagged (nested: thresholds from the other writers)
    predicted: dict[str, dict[str, set[str]]]
    thresholds: dict[str, dict[str, list[float]]]  # component -> writer -> nested thresholds


def writer_entries(corpus: Corpus, writer: str) -> list[int]:
    return [i for i, e in enumerate(corpus.entries) if e.writer == writer]


def _out_of_writer(
    corpus: Corpus, spec: TagSpec, train: Sequence[str], held: str, embedding_name: str
) -> tuple[TaggerModel, dict[str, np.ndarray]]:
    model = fit(corpus, corpus.units(train), spec, embedding_name)
    ents = writer_entries(corpus, held)
    return model, {c: entry_maxima(model, corpus, ents, c) for c in model.components}


def cross_validate(
    corpus: Corpus, spec: TagSpec, embedding_name: str, nested: bool = True
) -> CrossValidation:
    """Leave one writer out; with ``nested``, also tag the writer left out with thresholds
    chosen by an inner leave-one-writer-out over the other writers only."""
    labels = list(spec.labels)
    writers = [w for w in WRITERS if writer_entries(corpus, w)]
    gold = {w: entry_gold(corpus, writer_entries(corpus, w), labels) for w in writers}
    cv = CrossValidation({EMBEDDING: {}, TEXT: {}}, gold, {EMBEDDING: {}, TEXT: {}}, {})
    for held in writers:
        rest = [w for w in writers if w != held]
        model, maxima = _out_of_writer(corpus, spec, rest, held, embedding_name)
        for c, m in maxima.items():
            cv.maxima[c][held] = m
        if not nested:
            continue
        inner: dict[str, dict[str, np.ndarray]] = {EMBEDDING: {}, TEXT: {}}
        for ih in rest:
            _, m_in = _out_of_writer(corpus, spec, [w for w in rest if w != ih], ih, embedding_name)
            for c, m in m_in.items():
                inner[c][ih] = m
        chosen = {c: thresholds_from(inner[c], gold) for c in inner}
        tuned = with_thresholds(model, chosen)
        ents = writer_entries(corpus, held)
        for c in (EMBEDDING, TEXT):
            tags = _tagger(tuned, c).tag_entries(_items(corpus, ents))
            for e, t in zip(ents, tags, strict=True):
                cv.predicted[c][corpus.entries[e].key] = t.positive_labels()
            cv.thresholds.setdefault(c, {})[held] = [round(float(x), 4) for x in chosen[c]]
    return cv


# ------------------------------------------------------------------ the command


def packaged_embeddings() -> Embeddings:
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import packaged_model_path

    return SentenceTransformerEmbeddings(packaged_model_path())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data_files() -> list[dict[str, Any]]:
    """Every file the model is trained from, with its sha256 and row count."""
    out = []
    for w in DEV_WRITERS:
        for name in ("journal.jsonl", "labels.json"):
            out.append(DEV / w / name)
    out += [TEAM_JOURNAL, ENTRY_LABELS, TRAINING_SET, TAXONOMY]
    rows = []
    for p in out:
        if p.suffix == ".jsonl":
            n: int | None = len(_jsonl(p))
        elif p.name.endswith("labels.json"):
            n = len(json.loads(p.read_text(encoding="utf-8"))["labels"])
        else:
            n = None
        rows.append({"path": str(p.relative_to(ROOT)), "sha256": _sha256(p), "rows": n})
    return rows


def _dump(value: Any, depth: int = 0) -> str:
    """JSON with every object indented and every list on one line (a label's weights are
    one line), so a retrain's diff shows which settings, figures and labels moved."""
    if isinstance(value, dict) and value:
        pad = " " * (depth + 1)
        inner = ",\n".join(f"{pad}{json.dumps(k)}: {_dump(v, depth + 1)}" for k, v in value.items())
        return "{\n" + inner + "\n" + " " * depth + "}"
    return json.dumps(value, ensure_ascii=False)


def default_out_dir() -> Path:
    return Path(str(resources.files("prompts"))) / "models" / "tagger" / MODEL_VERSION


def settings() -> dict[str, Any]:
    return {
        "unit": "chunk (ingest.chunking.chunk_spans)",
        "chunk_max_words": default_chunk_words(),
        "vector_scale": VECTOR_SCALE,
        "C": C,
        "class_weight": "balanced",
        "solver": "liblinear (random_state 0)",
        "tfidf": {
            "analyzer": "char_wb",
            "ngram_range": list(NGRAM_RANGE),
            "min_df": MIN_DF,
            "max_features": MAX_FEATURES,
            "sublinear_tf": True,
            "smooth_idf": True,
            "norm": "l2",
        },
        "markers": "per taxonomy label, how many of its markers match (capped at 2)",
        "thresholds": "per label, best pooled per-entry F1 over out-of-writer scores of all "
        "writers (halfway to the next lower score)",
    }


def dev_corpus(spec: Any, embeddings: Embeddings | None = None) -> Any:
    """Every dev writer and the sentence set, chunked and embedded as at ingest."""
    return build_corpus(
        load_entries(),
        load_training_set(),
        embeddings or packaged_embeddings(),
        spec,
        default_chunk_words(),
    )


def train_tagger(
    out_dir: Path | None = None,
    embeddings: Embeddings | None = None,
    embedding_name: str = EMBEDDING_NAME,
    *,
    nested: bool = True,
) -> dict[str, Any]:
    """Cross-validate, fit on every writer and the sentence set, write
    ``model.json`` and ``training.json`` to ``out_dir`` (default the shipped
    ``prompts/models/tagger/v1``). ``nested=False`` skips the nested figures (quicker;
    the shipped thresholds are chosen the same way either way). Returns the summary."""
    spec = load_tag_spec()
    corpus = dev_corpus(spec, embeddings)
    cv = cross_validate(corpus, spec, embedding_name, nested=nested)
    model = fit(corpus, corpus.units(WRITERS), spec, embedding_name)
    chosen = {c: thresholds_from(cv.maxima[c], cv.gold) for c in model.components}
    today = dt.date.today().isoformat()
    model = dataclasses.replace(
        with_thresholds(model, chosen),
        meta={
            "generated_by": "trustlens eval tagger-train (eval/tagger_train.py); do not edit",
            "version": MODEL_VERSION,
            "trained": today,
            "taxonomy": {"version": "v1", "sha256": spec.sha256},
            "features": settings(),
        },
    )
    gold = {e.key: set(e.patterns) | set(e.emotions) for e in corpus.entries}
    writer_of = {e.key: e.writer for e in corpus.entries}
    figures = {c: lowo_figures(cv.predicted[c], gold, writer_of, spec.labels) for c in cv.predicted}
    out = out_dir or default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    model_text = _dump(model.to_json()) + "\n"
    (out / "model.json").write_text(model_text, encoding="utf-8")
    training = {
        "generated_by": "trustlens eval tagger-train (eval/tagger_train.py); do not edit",
        "trained": today,
        "model_file": "model.json",
        "model_sha256": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
        "embedding_model": {"name": embedding_name, "dimension": model.embedding_dim},
        "data": data_files(),
        "units": {
            "chunks": len(corpus.texts) - corpus.sentence_rows,
            "sentence_set_rows": corpus.sentence_rows,
            "entries_per_writer": {w: len(writer_entries(corpus, w)) for w in WRITERS},
            "vocabulary": len(model.text.terms),
        },
        "settings": settings(),
        "thresholds": {c: model.thresholds(c) for c in model.components},
        "cross_validation": {
            "method": f"nested leave-one-writer-out over {', '.join(WRITERS)} (train on "
            "the others plus the sentence set, thresholds from an inner "
            "leave-one-writer-out over those others, tag the one left out through "
            "Tagger.tag_entries); per-entry labels, pooled over the writers",
            **figures,
            "nested_thresholds": cv.thresholds,
        }
        if nested
        else "skipped (nested=False)",
        "versions": _versions(),
    }
    (out / "training.json").write_text(json.dumps(training, indent=1) + "\n", encoding="utf-8")
    return {
        "model": str(out / "model.json"),
        "training": str(out / "training.json"),
        "bytes": len(model_text.encode("utf-8")),
        "units": training["units"],
        "cross_validation": {
            c: {k: v for k, v in f.items() if k in ("summary", "per_writer")}
            for c, f in figures.items()
        },
    }


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("numpy", "scipy", "scikit-learn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def lowo_scores(embeddings: Any = None, nested: bool = True) -> dict[str, Any]:
    """Nested leave-one-writer-out over every dev writer (``eval/tagger_train.py``),
    for each component of the model: ``embedding`` (what the packaged MiniLM gets) and
    ``text`` (what any other embedder gets)."""
    spec = load_tag_spec()
    corpus = dev_corpus(spec, embeddings)
    cv = cross_validate(corpus, spec, EMBEDDING_NAME, nested=nested)
    gold = {e.key: set(e.patterns) | set(e.emotions) for e in corpus.entries}
    writer_of = {e.key: e.writer for e in corpus.entries}
    return {
        c: lowo_figures(cv.predicted[c], gold, writer_of, spec.labels) for c in cv.predicted
    } | {"nested_thresholds": cv.thresholds}
