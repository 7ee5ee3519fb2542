"""Train the episode detector (``ingest/episodes.py``) and write its model file.

Why this shape: the detector must work for writers it has never read (teen slang in
lower case, second-language English, terse notes, long literary entries), and there are
only a dozen labelled writers. So every threshold is picked on out-of-fold scores, leaving
one writer out at a time inside the training writers, and the figures in
``training.json`` come from leaving each writer out in turn around that whole procedure
(``eval/episodes_eval.py``): no threshold ever sees the writer it is measured on.

What is fitted (all logistic regressions, CPU-cheap, stored as plain JSON):

- trigger and response, per sentence: one over the sentence's and its neighbours'
  MiniLM vectors, one over word and character TF-IDF plus cues; the detector averages
  the two (the text one alone when the embeddings are some other model). Dev writers
  only: maya has no sentence-level labels.
- the entry's words (TF-IDF) for "holds an episode with a response", averaged with the
  best trigger/response pair: either alone missed entries the other found.
- the response's pattern label (nine labels or none), from the dev episodes' responses
  and the dev ``patterns`` quotes.
- retrospect per sentence (weakly labelled: every sentence of an ``origin`` entry) and
  the entry's words for ``origin``; the entry's origin score averages the two.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eval.episodes_data import (
    MAYA,
    ROOT,
    WRITERS,
    Entry,
    VectorCache,
    all_texts,
    data_files,
    load_writers,
    sha256,
    summary,
)
from ingest.episodes import (
    EMBEDDED,
    LABELS,
    NONE_LABEL,
    TEXT,
    EpisodeModel,
    Linear,
    Scores,
    Softmax,
    Vocabulary,
    doc_blocks,
    pair_up,
    score_entry,
    sentence_blocks,
    unit_rows,
)

MODEL_DIR = ROOT / "prompts" / "models" / "episodes" / "v7"
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DIM = 384

VEC_BLOCKS = ("vec", "vprev", "vnext")
TEXT_BLOCKS = ("word", "wprev", "wnext", "char", "cue", "cprev", "cnext", "pos")
LABEL_BLOCKS = {EMBEDDED: ("vec", "word", "char", "cue"), TEXT: ("word", "char", "cue")}
RETRO_BLOCKS = LABEL_BLOCKS


@dataclass(frozen=True)
class Settings:
    """Every choice training makes, written into ``training.json``."""

    c_sentence: float = 1.0
    c_doc: float = 3.0
    c_label: tuple[tuple[str, float], ...] = ((EMBEDDED, 10.0), (TEXT, 1.0))
    c_retro: float = 1.0
    window: int = 10  # 95% of the dev responses are at most 10 sentences after the trigger
    word: tuple[int, int, int, int] = (1, 2, 2, 4000)  # lo, hi, min_df, max terms
    char: tuple[int, int, int, int] = (2, 4, 3, 6000)
    doc: tuple[int, int, int, int] = (1, 2, 2, 5000)
    entry_precision: float = 0.85  # the entry threshold is the lowest reaching this, OOF
    common_writers: int = 3  # a word used by this many training writers is never a name
    text_blocks: tuple[str, ...] = TEXT_BLOCKS
    vec_blocks: tuple[str, ...] = VEC_BLOCKS
    patterns_as_responses: bool = False  # tried: lowered response AP (0.35 to 0.25)

    def to_json(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["c_label"] = dict(self.c_label)
        return out


SETTINGS = Settings()


# ------------------------------------------------------------------------------ fitting


def _logreg(x: np.ndarray, y: Sequence[Any], c: float, balanced: bool = True) -> Any:
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000)
    return m.fit(sparse.csr_matrix(x), list(y))  # mostly zeros: sparse is several times faster


def _split(coef: np.ndarray, blocks: dict[str, np.ndarray], names: Sequence[str]) -> dict:
    out, at = {}, 0
    for n in names:
        width = blocks[n].shape[1]
        out[n] = np.asarray(coef[..., at : at + width], dtype=np.float32)
        at += width
    return out


def fit_linear(blocks: dict[str, np.ndarray], names: Sequence[str], y: Sequence[bool], c: float):
    x = np.hstack([blocks[n] for n in names])
    m = _logreg(x, y, c)
    return Linear(float(m.intercept_[0]), _split(m.coef_[0], blocks, names))


def fit_softmax(blocks: dict[str, np.ndarray], names: Sequence[str], y: Sequence[str], c: float):
    x = np.hstack([blocks[n] for n in names])
    m = _logreg(x, y, c, balanced=False)
    weights = {k: v.T.copy() for k, v in _split(m.coef_, blocks, names).items()}
    return Softmax(tuple(str(k) for k in m.classes_), m.intercept_.astype(np.float32), weights)


def _vocab(kind: str, texts: Sequence[str], spec: tuple[int, int, int, int]) -> Vocabulary:
    lo, hi, min_df, max_terms = spec
    return Vocabulary.fit(kind, texts, lo, hi, min_df, max_terms)


def _stack(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.vstack([p[k] for p in parts]) for k in parts[0]}


ALL_BLOCKS = set(VEC_BLOCKS) | set(TEXT_BLOCKS)


def _entry_blocks(e: Entry, cache: VectorCache, vocabs: dict[str, Vocabulary]) -> dict:
    vecs = unit_rows(cache.vectors(e.sentences))
    return sentence_blocks(e.sentences, vecs, vocabs, ALL_BLOCKS)


def label_rows(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    """(text, label) for the response classifier: the episodes' responses and the
    writer's pattern quotes (distinct pairs; "none" for a response that fits no label)."""
    rows: dict[tuple[str, str], None] = {}
    for e in entries:
        for ep in e.episodes or []:
            if ep.response_text:
                rows[(ep.response_text, ep.response_label or NONE_LABEL)] = None
        for label, quote in e.patterns:
            if quote and e.episodes is not None and label in LABELS:
                rows[(quote, label)] = None
    return list(rows)


def _response_flags(e: Entry, with_patterns: bool) -> list[bool]:
    flags = e.sentence_flags("response")
    if not with_patterns:
        return flags
    for _, quote in e.patterns:
        at = e.text.find(quote) if quote else -1
        if at < 0:
            continue
        for i, (s, end) in enumerate(e.spans):
            if s < at + len(quote or "") and end > at:
                flags[i] = True
    return flags


def common_words(data: dict[str, list[Entry]], min_writers: int) -> frozenset[str]:
    by_word: dict[str, set[str]] = {}
    for w, entries in data.items():
        for e in entries:
            for tok in set(re.findall(r"[a-z]+(?:'[a-z]+)?", e.text.lower())):
                by_word.setdefault(tok, set()).add(w)
    need = min(min_writers, len(data))
    return frozenset(t for t, ws in by_word.items() if len(ws) >= need)


def fit(
    data: dict[str, list[Entry]], cache: VectorCache, settings: Settings = SETTINGS
) -> EpisodeModel:
    """All the models on ``data`` (thresholds left at 0.5: see ``with_thresholds``)."""
    entries = [e for es in data.values() for e in es]
    labelled = [e for e in entries if e.episodes is not None]
    rows = label_rows(labelled)
    sentences = [s for e in entries for s in e.sentences]
    vocabs = {
        "word": _vocab("word", sentences + [t for t, _ in rows], settings.word),
        "char": _vocab("char", sentences + [t for t, _ in rows], settings.char),
        "doc": _vocab("word", [e.text for e in entries], settings.doc),
    }
    per_entry = {id(e): _entry_blocks(e, cache, vocabs) for e in entries}
    sl = _stack([per_entry[id(e)] for e in labelled])
    trig = [f for e in labelled for f in e.sentence_flags("trigger")]
    resp = [f for e in labelled for f in _response_flags(e, settings.patterns_as_responses)]
    c = settings.c_sentence
    docs = _stack([doc_blocks(e.text, vocabs) for e in entries])
    s_all = _stack([per_entry[id(e)] for e in entries])
    origin_s = [e.era == "origin" for e in entries for _ in e.spans]
    texts = [t for t, _ in rows]
    lb = sentence_blocks(texts, unit_rows(cache.vectors(texts)), vocabs, ALL_BLOCKS)
    c_label = dict(settings.c_label)
    return EpisodeModel(
        embedding_model=EMBEDDING_MODEL,
        dim=DIM,
        vocabs=vocabs,
        trigger={
            EMBEDDED: fit_linear(sl, settings.vec_blocks, trig, c),
            TEXT: fit_linear(sl, settings.text_blocks, trig, c),
        },
        response={
            EMBEDDED: fit_linear(sl, settings.vec_blocks, resp, c),
            TEXT: fit_linear(sl, settings.text_blocks, resp, c),
        },
        episode_doc=fit_linear(docs, ("doc",), [e.has_episode for e in entries], settings.c_doc),
        label={
            v: fit_softmax(lb, LABEL_BLOCKS[v], [lab for _, lab in rows], c_label[v])
            for v in (EMBEDDED, TEXT)
        },
        retro={
            v: fit_linear(s_all, RETRO_BLOCKS[v], origin_s, settings.c_retro)
            for v in (EMBEDDED, TEXT)
        },
        origin_doc=fit_linear(docs, ("doc",), [e.era == "origin" for e in entries], settings.c_doc),
        thresholds={v: {"trigger": 0.5, "entry": 0.5, "origin": 0.5} for v in (EMBEDDED, TEXT)},
        window=settings.window,
        common_words=common_words(data, settings.common_writers),
        meta={},
    )


# ---------------------------------------------------------------------------- thresholds


@dataclass
class Scored:
    """One entry's out-of-fold scores under both variants."""

    entry: Entry
    scores: dict[str, Scores]


def score_all(model: EpisodeModel, entries: Sequence[Entry], cache: VectorCache) -> list[Scored]:
    out = []
    for e in entries:
        vecs = unit_rows(cache.vectors(e.sentences))
        out.append(
            Scored(
                e,
                {
                    EMBEDDED: score_entry(model, e.text, e.spans, vecs),
                    TEXT: score_entry(model, e.text, e.spans, None),
                },
            )
        )
    return out


def out_of_fold(
    data: dict[str, list[Entry]], cache: VectorCache, settings: Settings = SETTINGS
) -> list[Scored]:
    """Each training writer scored by models fitted on the other training writers."""
    out: list[Scored] = []
    for held in data:
        rest = {w: es for w, es in data.items() if w != held}
        out += score_all(fit(rest, cache, settings), data[held], cache)
    return out


def best_f1(y: Sequence[bool], p: Sequence[float]) -> float:
    """The threshold with the best F1 (ties: the higher threshold)."""
    ya, pa = np.asarray(y, dtype=bool), np.asarray(p, dtype=np.float64)
    best, at = -1.0, 0.5
    for t in np.unique(np.round(pa, 4)):
        hit = pa >= t
        tp = float((hit & ya).sum())
        f1 = 2 * tp / max(float(hit.sum() + ya.sum()), 1.0)
        if f1 >= best:
            best, at = f1, float(t)
    return at


def lowest_at_precision(y: Sequence[bool], p: Sequence[float], precision: float) -> float:
    """The lowest threshold whose precision reaches ``precision`` (the most recall under
    the constraint); the best-F1 one when none does."""
    ya, pa = np.asarray(y, dtype=bool), np.asarray(p, dtype=np.float64)
    for t in np.unique(np.round(pa, 4)):
        hit = pa >= t
        if hit.sum() and float((hit & ya).sum()) / float(hit.sum()) >= precision:
            return float(t)
    return best_f1(y, p)


def thresholds(scored: Sequence[Scored], settings: Settings = SETTINGS) -> dict[str, dict]:
    """Per variant: trigger by best sentence F1 (dev writers), the entry threshold by
    precision, origin by best F1 (all writers)."""
    out = {}
    for v in (EMBEDDED, TEXT):
        labelled = [s for s in scored if s.entry.episodes is not None]
        th = {"trigger": _best_sentence_threshold(labelled, v, "trigger")}
        entry_scores = [s.scores[v].entry for s in scored]
        th["entry"] = lowest_at_precision(
            [s.entry.has_episode for s in scored], entry_scores, settings.entry_precision
        )
        th["origin"] = best_f1(
            [s.entry.era == "origin" for s in scored], [s.scores[v].origin for s in scored]
        )
        out[v] = {k: round(float(x), 4) for k, x in th.items()}
    return out


def _best_sentence_threshold(scored: Sequence[Scored], variant: str, part: str) -> float:
    y = [f for s in scored for f in s.entry.sentence_flags(part)]
    p = [float(x) for s in scored for x in getattr(s.scores[variant], part)]
    return best_f1(y, p)


def train_model(
    data: dict[str, list[Entry]], cache: VectorCache, settings: Settings = SETTINGS
) -> tuple[EpisodeModel, list[Scored]]:
    """Fit on all of ``data``, with thresholds from ``data``'s own out-of-fold scores."""
    oof = out_of_fold(data, cache, settings)
    model = fit(data, cache, settings)
    return dataclasses.replace(model, thresholds=thresholds(oof, settings)), oof


def detected(scores: Scores, th: dict[str, float]) -> bool:
    return bool(pair_up(scores, th))


# ----------------------------------------------------------------------------- command


def packaged_cache() -> VectorCache:
    from ingest.embedding import SentenceTransformerEmbeddings
    from service.settings import packaged_model_path

    return VectorCache(SentenceTransformerEmbeddings(packaged_model_path()))


def training_record(
    data: dict[str, list[Entry]], settings: Settings, lowo: dict[str, Any] | None
) -> dict[str, Any]:
    files = []
    for path in data_files():
        n = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        if path.suffix == ".json":
            n = len(_rows_of(path))
        files.append({"path": str(path.relative_to(ROOT)), "sha256": sha256(path), "rows": n})
    return {
        "generated_by": "trustlens eval episodes-train (eval/episodes_train.py)",
        "trained": dt.date.today().isoformat(),
        "embedding_model": EMBEDDING_MODEL,
        "data_files": files,
        "writers": summary(data),
        "label_rows": len(label_rows([e for es in data.values() for e in es])),
        "settings": settings.to_json(),
        "leave_one_writer_out": lowo,
    }


def _rows_of(path: Path) -> list[Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    for key in ("labels", "questions"):
        if isinstance(doc, dict) and key in doc:
            return list(doc[key])
    return list(doc)


def train(
    out_dir: Path = MODEL_DIR,
    settings: Settings = SETTINGS,
    report: Callable[[dict[str, list[Entry]], VectorCache, Settings], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Train on every writer, write ``model.json`` and ``training.json``; returns a summary.
    ``report`` (``eval.episodes_eval.lowo_report``) adds the leave-one-writer-out figures."""
    data = load_writers(WRITERS)
    cache = packaged_cache()
    cache.vectors(all_texts(data))
    lowo = report(data, cache, settings) if report is not None else None
    model, _ = train_model(data, cache, settings)
    record = training_record(data, settings, lowo)
    meta = {
        "generated_by": record["generated_by"],
        "trained": record["trained"],
        "writers": sorted(data),
        "settings": record["settings"],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.json"
    doc = dataclasses.replace(model, meta=meta).to_json()
    model_path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    (out_dir / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return {
        "path": str(model_path),
        "bytes": model_path.stat().st_size,
        "thresholds": model.thresholds,
        "writers": sorted(data),
        "sentences": sum(len(e.spans) for es in data.values() for e in es),
        "lowo_pooled": (lowo or {}).get("pooled"),
        "labels": Counter(lab for _, lab in label_rows([e for es in data.values() for e in es])),
    }


__all__ = ["MAYA", "Settings", "fit", "train", "train_model"]
