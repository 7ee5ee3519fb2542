"""The labelled journals the episode detector learns from, one writer per group.

Why a module of its own: training (``eval/episodes_train.py``) and the leave-one-writer-out
report (``eval/episodes_eval.py``) must read exactly the same rows, split the same way, so
both take them from here. Only the dev journals (``eval/datasets/journals/dev/<w>/``) and
the team's sample journal (maya) are read; the held-out test journals never are.

Gold is mapped onto the sentences ``ingest.chunking.sentence_spans`` finds, since those are
what the detector sees at run time: a sentence is a trigger (response) when it overlaps a
labelled trigger (response) quote. Maya has entry-level labels only (her let-down entries
with a described response, from question q01, her eras and her pattern labels), so she
is a writer for the entry-level figures and the origin model but not a source of
sentence-level rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.chunking import sentence_spans

ROOT = Path(__file__).resolve().parent.parent
DEV_DIR = ROOT / "eval" / "datasets" / "journals" / "dev"
# Every dev journal (each by its own writer session): the folder is the list.
DEV_WRITERS = tuple(sorted(d.name for d in DEV_DIR.iterdir() if (d / "labels.json").is_file()))
MAYA = "maya"
MAYA_JOURNAL = ROOT / "examples" / "maya" / "journal.jsonl"
MAYA_LABELS = ROOT / "eval" / "datasets" / "entry_labels.json"
MAYA_QUESTIONS = ROOT / "eval" / "datasets" / "journal_dev.json"
WRITERS = (*DEV_WRITERS, MAYA)
CACHE_ENV = "TRUSTLENS_EPISODES_CACHE"


@dataclass(frozen=True)
class GoldEpisode:
    by: str
    trigger: tuple[int, ...]  # indices of the entry's sentences the trigger quote overlaps
    response: tuple[int, ...]
    response_label: str | None
    response_text: str | None


@dataclass
class Entry:
    writer: str
    id: str
    text: str
    spans: list[tuple[int, int]]
    era: str
    has_episode: bool  # a let-down episode with a described response (the habit question)
    episodes: list[GoldEpisode] | None  # None: no sentence-level labels (maya)
    patterns: list[tuple[str, str | None]] = field(default_factory=list)  # (label, quote)

    @property
    def sentences(self) -> list[str]:
        return [self.text[s:e] for s, e in self.spans]

    def sentence_flags(self, part: str) -> list[bool]:
        """Per sentence: does it overlap a gold ``part`` ("trigger" or "response")?"""
        hit = {i for ep in self.episodes or [] for i in getattr(ep, part)}
        return [i in hit for i in range(len(self.spans))]


def _overlapping(spans: Sequence[tuple[int, int]], text: str, quote: str | None) -> tuple[int, ...]:
    if not quote:
        return ()
    at = text.find(quote)
    if at < 0:
        return ()
    end = at + len(quote)
    return tuple(i for i, (s, e) in enumerate(spans) if s < end and e > at)


def _jsonl(path: Path) -> dict[str, str]:
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out[str(row["id"])] = str(row["text"])
    return out


def _spans(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in sentence_spans(text)]


def _dev_writer(writer: str) -> list[Entry]:
    folder = DEV_DIR / writer
    texts = _jsonl(folder / "journal.jsonl")
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))["labels"]
    out = []
    for eid, text in texts.items():
        lab = labels[eid]
        spans = _spans(text)
        episodes = [
            GoldEpisode(
                by=str(ep.get("by") or ""),
                trigger=_overlapping(spans, text, ep.get("trigger")),
                response=_overlapping(spans, text, ep.get("response")),
                response_label=ep.get("response_label"),
                response_text=ep.get("response"),
            )
            for ep in lab.get("episodes") or []
        ]
        out.append(
            Entry(
                writer=writer,
                id=eid,
                text=text,
                spans=spans,
                era=str(lab["era"]),
                has_episode=any(ep.response for ep in episodes),
                episodes=episodes,
                patterns=[(p["label"], p.get("sentence")) for p in lab.get("patterns") or []],
            )
        )
    return out


def _maya() -> list[Entry]:
    texts = _jsonl(MAYA_JOURNAL)
    labels = json.loads(MAYA_LABELS.read_text(encoding="utf-8"))["labels"]
    questions = json.loads(MAYA_QUESTIONS.read_text(encoding="utf-8"))["questions"]
    relevant = set(next(q for q in questions if q["id"] == "q01")["relevant"])
    out = []
    for eid, text in texts.items():
        lab = labels.get(eid)
        if lab is None:
            continue
        out.append(
            Entry(
                writer=MAYA,
                id=eid,
                text=text,
                spans=_spans(text),
                era=str(lab["era"]),
                has_episode=eid in relevant,
                episodes=None,
                patterns=[(str(p), None) for p in lab.get("patterns") or []],
            )
        )
    return out


def load_writers(writers: Sequence[str] = WRITERS) -> dict[str, list[Entry]]:
    """Every labelled entry, by writer (each journal was written by a separate session)."""
    return {w: _maya() if w == MAYA else _dev_writer(w) for w in writers}


def data_files() -> list[Path]:
    """The files training reads (named with their sha256 in ``training.json``)."""
    files = [MAYA_JOURNAL, MAYA_LABELS, MAYA_QUESTIONS]
    for w in DEV_WRITERS:
        files += [DEV_DIR / w / "journal.jsonl", DEV_DIR / w / "labels.json"]
    return files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class VectorCache(Embeddings):
    """Sentence vectors keyed by text hash, kept in an ``.npz`` between runs (the model
    embeds about 25 sentences a second on two cores; the dev set is a few thousand).
    It is an ``Embeddings`` itself, named like the model it wraps, so the detector can
    be handed it in cross-validation."""

    def __init__(self, embeddings: Embeddings, folder: Path | None = None) -> None:
        self.embeddings = embeddings
        name = str(getattr(embeddings, "model_name", type(embeddings).__name__))
        self.model_name = name
        key = hashlib.sha256(name.encode()).hexdigest()[:12]
        base = folder or Path(os.environ.get(CACHE_ENV) or "/tmp/trustlens-episodes-cache")
        self.path = base / f"vectors-{key}.npz"
        self._vecs: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path) as data:
                self._vecs = {k: data[k] for k in data.files}

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self._vecs))
        if missing:
            new = np.asarray(self.embeddings.embed_documents(missing), dtype=np.float32)
            for t, v in zip(missing, new, strict=True):
                self._vecs[self.key(t)] = v
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp.npz")
            np.savez(tmp, **self._vecs)  # type: ignore[arg-type]
            tmp.replace(self.path)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vecs[self.key(t)] for t in texts])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.vectors(texts)]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def all_texts(data: dict[str, list[Entry]]) -> list[str]:
    """Every sentence and pattern quote the models read, for embedding up front."""
    out: list[str] = []
    for entries in data.values():
        for e in entries:
            out += e.sentences
            out += [q for _, q in e.patterns if q]
            out += [ep.response_text for ep in e.episodes or [] if ep.response_text]
    return out


def summary(data: dict[str, list[Entry]]) -> dict[str, Any]:
    return {
        w: {
            "entries": len(es),
            "sentences": sum(len(e.spans) for e in es),
            "with_episode": sum(e.has_episode for e in es),
            "origin": sum(e.era == "origin" for e in es),
        }
        for w, es in data.items()
    }
