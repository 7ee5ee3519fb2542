"""Let-down episodes and retrospective telling in one journal entry.

Why: "what do I usually do when someone lets me down?" is answered from episodes: what
someone else did (the trigger), who did it, what the writer did about it (the response,
with its pattern label) and what came of it. Entry tags alone cannot say which sentence
is which, and an answer has to quote the writer's own words, so every span here is a
whole sentence of the entry, by character offsets.

How: two sentence-level linear models score each sentence as a trigger and as a
response, from the sentence and its neighbours (MiniLM vectors, word and character
TF-IDF, and a few cues such as who the subject is, negation, reported speech). An
episode is a trigger sentence paired with the likeliest response sentence among the
next ten (in the dev journals the writer's response comes one to eleven sentences after
the trigger, so "the nearest response-like sentence" picked the wrong one more often); a
sentence whose subject is someone else is never a response. The entry's own words vote
too: an episode is kept only when pair and entry together clear a threshold picked for
precision. A multinomial model names the response's pattern. A separate pair of models scores how
much each sentence, and the entry as a whole, is told in retrospect (the formative
past: childhood, an old relationship).

Everything learned lives in one generated file, ``prompts/models/episodes/<v>/model.json``
(``trustlens eval episodes-train``): weights, vocabularies and the thresholds picked by
leave-one-writer-out cross-validation. Nothing is trained at run time. The file holds two
variants of every model: one over the embedding model it was trained with, and one over
text features only, used (deterministically) when the caller's embeddings are some other
model, such as the hashing fakes in tests.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from ingest.chunking import Span
from ingest.labels_store import known_labels

MODEL_ASSET = "models/episodes"
MODEL_FILE = "model.json"
FAMILY = "let_down"
# The nine labels a response can show (seven patterns, two repair signals), in the
# taxonomy's order.
LABELS = tuple(n for n, g in known_labels().items() if g in ("patterns", "repair"))
NONE_LABEL = "none"  # the label classifier's class for a response that fits no pattern
EMBEDDED = "embedded"
TEXT = "text"

# --------------------------------------------------------------------------- text features

_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")
_WORDS = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalise(text: str) -> str:
    """Lower case, straight quotes: the form every text feature reads."""
    return text.translate(_QUOTES).lower()


def word_terms(text: str, ngram_max: int = 2) -> list[str]:
    """Word uni- and bigrams (punctuation marks count as words: "?", "!", "'")."""
    toks = _TOKEN.findall(normalise(text))
    out = list(toks)
    for n in range(2, ngram_max + 1):
        out += [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    return out


def char_terms(text: str, lo: int = 2, hi: int = 4) -> list[str]:
    """Character n-grams inside word boundaries (typos and spellings still share most)."""
    out = []
    for w in _WORDS.findall(normalise(text)):
        padded = f" {w} "
        for n in range(lo, hi + 1):
            out += [padded[i : i + n] for i in range(max(len(padded) - n + 1, 1))]
    return out


@dataclass(frozen=True)
class Vocabulary:
    """A fitted TF-IDF vocabulary (sublinear tf, smooth idf, rows of length one)."""

    kind: str  # "word" or "char"
    terms: tuple[str, ...]
    idf: np.ndarray
    lo: int = 1
    hi: int = 2

    @property
    def index(self) -> dict[str, int]:
        return _index(self.terms)

    def terms_of(self, text: str) -> list[str]:
        if self.kind == "char":
            return char_terms(text, self.lo, self.hi)
        return word_terms(text, self.hi)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        index = self.index
        out = np.zeros((len(texts), len(self.terms)), dtype=np.float32)
        for r, text in enumerate(texts):
            counts = Counter(index[t] for t in self.terms_of(text) if t in index)
            for c, n in counts.items():
                out[r, c] = (1.0 + math.log(n)) * self.idf[c]
            norm = float(np.linalg.norm(out[r]))
            if norm > 0:
                out[r] /= norm
        return out

    @classmethod
    def fit(
        cls, kind: str, texts: Sequence[str], lo: int, hi: int, min_df: int, max_terms: int
    ) -> Vocabulary:
        probe = cls(kind, (), np.zeros(0), lo, hi)
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(probe.terms_of(text)))
        kept = [t for t, n in df.items() if n >= min_df]
        kept.sort(key=lambda t: (-df[t], t))
        kept = sorted(kept[:max_terms])
        n_docs = len(texts)
        idf = np.asarray([math.log((1 + n_docs) / (1 + df[t])) + 1.0 for t in kept])
        return cls(kind, tuple(kept), idf.astype(np.float32), lo, hi)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lo": self.lo,
            "hi": self.hi,
            "terms": list(self.terms),
            "idf": [round(float(x), 4) for x in self.idf],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Vocabulary:
        return cls(
            str(doc["kind"]),
            tuple(doc["terms"]),
            np.asarray(doc["idf"], dtype=np.float32),
            int(doc["lo"]),
            int(doc["hi"]),
        )


@lru_cache(maxsize=16)
def _index(terms: tuple[str, ...]) -> dict[str, int]:
    return {t: i for i, t in enumerate(terms)}


# --------------------------------------------------------------------------------- cues

_LEAD = (
    r"^(?:(?:and|so|but|then|instead|today|tonight|yesterday|now|later|after that|this time|"
    r"in the end|at \S+|on \S+|anyway|well|ok|okay|still|just|also|finally)[, ]+)*"
)
ROLES = (
    r"mum|mom|mam|mummy|mother|mama|dad|daddy|father|tata|papa|parents|brother|sister|son|"
    r"daughter|nan|nana|nani|gran|granny|grandma|grandad|grandpa|grandmother|grandfather|aunt|"
    r"auntie|uncle|cousin|husband|wife|partner|boyfriend|girlfriend|fiance|fiancee|ex|boss|"
    r"manager|supervisor|landlord|landlady|flatmate|roommate|housemate|neighbour|neighbor|"
    r"friend|mate|colleague|coworker|co-worker|teacher|therapist|doctor|coach|team|lads|girls"
)
_I_SUBJECT = re.compile(_LEAD + r"(?:i|i'm|im|i've|ive|i'd|id|i'll|ill|me and \w+|we|we've)\b")
_OTHER_SUBJECT = re.compile(
    _LEAD + r"(?:he|she|they|he's|she's|they're|hes|shes|theyre|nobody|no one|noone|someone|"
    r"somebody|everyone|everybody|none of them|both of them|his|her|their|"
    r"(?:my|our|his|her) (?:best |old |new |big |little |older |younger )?(?:" + ROLES + r")s?|"
    r"the \w+ (?:said|told|texted|rang|called|asked|wrote))\b"
)
_FIRST = re.compile(r"\b(?:i|i'm|im|i've|ive|i'd|i'll|me|my|myself|mine)\b")
_THIRD = re.compile(r"\b(?:he|she|they|him|her|them|his|their|hes|shes)\b")
_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|nobody|none|without|n't|\w+n't|dont|didnt|doesnt|hasnt|havent|"
    r"hadnt|wasnt|werent|wont|cant|couldnt|wouldnt|isnt)\b|n't\b"
)
_SPEECH = re.compile(
    r"\b(?:said|says|say|told|tell|asked|ask|texted|text|messaged|message|wrote|replied|reply|"
    r"answered|answer|rang|ring|called|call|emailed|posted|put)\b"
)
_LET_DOWN = re.compile(
    r"\b(?:cancel\w*|forg[eo]t\w*|late|lied|lie|lying|promis\w*|swore|sworn|broke|"
    r"blew (?:me|it) off|bail\w*|stood (?:me )?up|without me|left out|not invited|"
    r"behind my back|credit|took|borrow\w*|owe\w*|pay (?:me )?back|paid back|secret|"
    r"told (?:everyone|everybody|the whole|them)|hasn'?t (?:replied|answered|rung|called|"
    r"texted)|no reply|no answer|didn'?t (?:come|turn up|show|call|ring|reply|answer|text)|"
    r"never (?:came|called|rang|replied|answered|showed)|ignored|nothing|not there|"
    r"read it|seen|left (?:me )?on read|no call|did not (?:come|ring|call|say))\b"
)
_RESPONSE = re.compile(
    r"\b(?:said nothing|didn'?t (?:say|reply|answer|text|tell|mention)|did not (?:say|reply|"
    r"answer|tell)|left (?:it|them|him|her) on read|on read|blocked|muted|deleted|went quiet|"
    r"went to (?:bed|my room)|checked|scrolled|reread|re-read|stopped|walked out|left the|"
    r"not (?:replying|texting|answering|going)|won'?t|decided|asked (?:him|her|them)|"
    r"told (?:him|her|them)|said to|i said|i told|i asked|i wrote|i messaged|i texted|i rang|"
    r"i called|i sent|i put|i let|i kept|i stayed|i went|i made|i took)\b"
)
_TIME = re.compile(r"\d|o'clock|\b(?:am|pm|tonight|midnight|noon)\b")
_FUTURE = re.compile(r"\b(?:will|going to|gonna|shall|i'll|ill|won't|wont)\b")
_PAST_PERFECT = re.compile(r"\b(?:had|'d) (?:\w+ed|been|gone|done|said|told|left|known|made)\b")
_NOW = re.compile(r"\b(?:today|tonight|now|this (?:morning|evening|afternoon|week)|right now)\b")
_RETRO = re.compile(
    r"\bwhen (?:i|we) (?:was|were) (?:a |\d|little|young|small|a kid|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|six|seven|eight|nine|ten|five|four)|\bgrowing up\b|"
    r"\bas a (?:child|kid|boy|girl|teenager|teen)\b|\byears (?:ago|later|before)\b|"
    r"\bback then\b|\bin those days\b|\bmy (?:first|old|ex)[ -]?\w*\b|\bchildhood\b|"
    r"\b(?:primary|secondary|high|grammar|middle|junior) school\b|\b(?:year|form|grade) \d\b|"
    r"\b(?:19[4-9]\d|200\d|201\d)\b|\bi was (?:\d+|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|little|small|young)\b|\bused to\b|"
    r"\bever since\b|\bsince then\b|\bto this day\b|\bi (?:still )?remember\b|"
    r"\bafter that\b|\bnever again\b|\bthat (?:summer|winter|year|christmas)\b|"
    r"\bat (?:fourteen|twelve|eleven|ten|nine|sixteen|\d+)\b|\bfor (?:years|the next)\b"
)
CUE_NAMES = (
    "i_subject",
    "other_subject",
    "first_person",
    "third_person",
    "negation",
    "speech",
    "let_down",
    "response",
    "quote",
    "question",
    "exclaim",
    "time",
    "future",
    "past_perfect",
    "now",
    "retro",
    "length",
)


def cues(sentence: str) -> np.ndarray:
    """Hand-named cues of one sentence, each in [0, 1]."""
    s = normalise(sentence).strip(" \"'-*")
    n_words = max(len(_WORDS.findall(s)), 1)

    def rate(p: re.Pattern[str], cap: int = 3) -> float:
        return min(len(p.findall(s)), cap) / cap

    return np.asarray(
        [
            float(bool(_I_SUBJECT.match(s))),
            float(bool(_OTHER_SUBJECT.match(s))),
            rate(_FIRST),
            rate(_THIRD),
            rate(_NEGATION),
            rate(_SPEECH, 2),
            rate(_LET_DOWN, 2),
            rate(_RESPONSE, 2),
            float("'" in s[1:] or '"' in s),
            float("?" in s),
            float("!" in s or bool(re.search(r"\b[A-Z]{3,}\b", sentence))),
            rate(_TIME, 2),
            rate(_FUTURE, 2),
            rate(_PAST_PERFECT, 2),
            rate(_NOW, 2),
            rate(_RETRO, 2),
            min(math.log1p(n_words) / math.log(60), 1.0),
        ],
        dtype=np.float32,
    )


def cue_rows(sentences: Sequence[str]) -> np.ndarray:
    if not sentences:
        return np.zeros((0, len(CUE_NAMES)), dtype=np.float32)
    return np.stack([cues(s) for s in sentences])


_MY_CLAUSE = re.compile(r"(?:\band|\bso|\bbut|\bthen|,|;|:) (?:i|i'm|im|i've|ive|i'd|i'll)\b")
_QUOTED = re.compile(r"(?:^|(?<=[\s:,(]))['\"][^'\"]*['\"](?=$|[\s.,!?;:)])")


def is_other_subject(sentence: str) -> bool:
    """The sentence tells only what someone else did: its subject is not the writer and no
    clause outside quotes has the writer as subject ("he asked and I said" is the writer's)."""
    s = normalise(sentence).strip(" \"'-*")
    if not _OTHER_SUBJECT.match(s) or _I_SUBJECT.match(s):
        return False
    return not _MY_CLAUSE.search(_QUOTED.sub(" ", s))


def shifted(rows: np.ndarray, by: int) -> np.ndarray:
    """Rows moved ``by`` places (+1: each row gets its previous sentence's), zeros at the ends."""
    out = np.zeros_like(rows)
    if by > 0:
        out[by:] = rows[:-by]
    elif by < 0:
        out[:by] = rows[-by:]
    return out


def position_rows(n: int) -> np.ndarray:
    if n == 0:
        return np.zeros((0, 4), dtype=np.float32)
    idx = np.arange(n, dtype=np.float32)
    return np.stack(
        [
            idx / max(n - 1, 1),
            (idx == 0).astype(np.float32),
            (idx == n - 1).astype(np.float32),
            np.full(n, min(math.log1p(n) / math.log(60), 1.0), dtype=np.float32),
        ],
        axis=1,
    )


def unit_rows(vectors: Any) -> np.ndarray:
    a = np.asarray(vectors, dtype=np.float32)
    if a.size == 0:
        return a.reshape(0, 0)
    return np.asarray(a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


def _floats(a: np.ndarray, digits: int = 5) -> list[Any]:
    return list(np.round(np.asarray(a, dtype=np.float64), digits).tolist())


# ------------------------------------------------------------------------------- models


@dataclass(frozen=True)
class Linear:
    """A logistic regression over named feature blocks (see ``sentence_blocks``)."""

    bias: float
    weights: dict[str, np.ndarray]

    def proba(self, blocks: dict[str, np.ndarray]) -> np.ndarray:
        z = sum((blocks[name] @ w for name, w in self.weights.items()), np.float32(self.bias))
        return _sigmoid(np.asarray(z))

    def to_json(self) -> dict[str, Any]:
        return {
            "bias": round(self.bias, 6),
            "weights": {k: _floats(v) for k, v in self.weights.items()},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Linear:
        return cls(
            float(doc["bias"]),
            {k: np.asarray(v, dtype=np.float32) for k, v in doc["weights"].items()},
        )


@dataclass(frozen=True)
class Softmax:
    """A multinomial logistic regression over named feature blocks."""

    classes: tuple[str, ...]
    bias: np.ndarray  # (classes,)
    weights: dict[str, np.ndarray]  # block -> (features, classes)

    def proba(self, blocks: dict[str, np.ndarray]) -> np.ndarray:
        z = sum((blocks[name] @ w for name, w in self.weights.items()), self.bias)
        z = np.asarray(z, dtype=np.float64)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def to_json(self) -> dict[str, Any]:
        return {
            "classes": list(self.classes),
            "bias": _floats(self.bias),
            "weights": {k: _floats(v.T) for k, v in self.weights.items()},  # one row per class
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Softmax:
        return cls(
            tuple(doc["classes"]),
            np.asarray(doc["bias"], dtype=np.float32),
            {k: np.asarray(v, dtype=np.float32).T for k, v in doc["weights"].items()},
        )


def sentence_blocks(
    sentences: Sequence[str],
    vectors: np.ndarray | None,
    vocabs: dict[str, Vocabulary],
    needed: Iterable[str],
) -> dict[str, np.ndarray]:
    """The named feature blocks of each sentence, from the sentence and its neighbours."""
    want = set(needed)
    out: dict[str, np.ndarray] = {}
    if want & {"vec", "vprev", "vnext"}:
        if vectors is None:
            raise ValueError("this model needs sentence vectors")
        out["vec"] = vectors
        out["vprev"] = shifted(vectors, 1)
        out["vnext"] = shifted(vectors, -1)
    if want & {"word", "wprev", "wnext"}:
        w = vocabs["word"].transform(sentences)
        out["word"] = w
        out["wprev"] = shifted(w, 1)
        out["wnext"] = shifted(w, -1)
    if "char" in want:
        out["char"] = vocabs["char"].transform(sentences)
    if want & {"cue", "cprev", "cnext"}:
        c = cue_rows(sentences)
        out["cue"] = c
        out["cprev"] = shifted(c, 1)
        out["cnext"] = shifted(c, -1)
    if "pos" in want:
        out["pos"] = position_rows(len(sentences))
    return out


def doc_blocks(text: str, vocabs: dict[str, Vocabulary]) -> dict[str, np.ndarray]:
    return {"doc": vocabs["doc"].transform([text])}


@dataclass(frozen=True)
class EpisodeModel:
    """Everything ``model.json`` holds, parsed (``to_json``/``from_json`` round-trip)."""

    embedding_model: str  # the sentence embeddings the "embedded" variant was trained on
    dim: int
    vocabs: dict[str, Vocabulary]
    trigger: dict[str, Linear]  # "embedded" (vectors) and "text"; embedded averages both
    response: dict[str, Linear]
    episode_doc: Linear  # is there an episode in this entry, from its words
    label: dict[str, Softmax]  # variant -> response pattern label
    retro: dict[str, Linear]  # variant -> sentence told in retrospect
    origin_doc: Linear  # is the entry about the formative past, from its words
    thresholds: dict[str, dict[str, float]]  # variant -> trigger, entry, origin
    window: int  # a response is at most this many sentences after its trigger
    common_words: frozenset[str]  # never a name (for ``by``)
    meta: dict[str, Any]

    def needed(self, variant: str) -> set[str]:
        models: list[Linear | Softmax] = [
            self.trigger[TEXT],
            self.response[TEXT],
            self.label[variant],
            self.retro[variant],
        ]
        if variant == EMBEDDED:
            models += [self.trigger[EMBEDDED], self.response[EMBEDDED]]
        return {b for m in models for b in m.weights}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "embedding_model": self.embedding_model,
            "dim": self.dim,
            "window": self.window,
            "thresholds": self.thresholds,
            **self.meta,
            "vocabs": {k: v.to_json() for k, v in self.vocabs.items()},
            "trigger": {k: v.to_json() for k, v in self.trigger.items()},
            "response": {k: v.to_json() for k, v in self.response.items()},
            "episode_doc": self.episode_doc.to_json(),
            "label": {k: v.to_json() for k, v in self.label.items()},
            "retro": {k: v.to_json() for k, v in self.retro.items()},
            "origin_doc": self.origin_doc.to_json(),
            "common_words": sorted(self.common_words),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> EpisodeModel:
        known = {
            "format", "embedding_model", "dim", "window", "thresholds", "vocabs", "trigger",
            "response", "episode_doc", "label", "retro", "origin_doc", "common_words",
        }  # fmt: skip
        return cls(
            embedding_model=str(doc["embedding_model"]),
            dim=int(doc["dim"]),
            vocabs={k: Vocabulary.from_json(v) for k, v in doc["vocabs"].items()},
            trigger={k: Linear.from_json(v) for k, v in doc["trigger"].items()},
            response={k: Linear.from_json(v) for k, v in doc["response"].items()},
            episode_doc=Linear.from_json(doc["episode_doc"]),
            label={k: Softmax.from_json(v) for k, v in doc["label"].items()},
            retro={k: Linear.from_json(v) for k, v in doc["retro"].items()},
            origin_doc=Linear.from_json(doc["origin_doc"]),
            thresholds={
                k: {n: float(x) for n, x in v.items()} for k, v in doc["thresholds"].items()
            },
            window=int(doc["window"]),
            common_words=frozenset(doc["common_words"]),
            meta={k: v for k, v in doc.items() if k not in known},
        )


@lru_cache(maxsize=4)
def load_model(version: str | None = None) -> EpisodeModel:
    """The shipped model, through the one asset loader (``prompts``)."""
    from prompts import load_json

    return EpisodeModel.from_json(load_json(MODEL_ASSET, MODEL_FILE, version))


# ----------------------------------------------------------------------------- detection


@dataclass(frozen=True)
class Reading:
    """What the detector reads in one entry: its episodes and its origin score."""

    episodes: list[DetectedEpisode]
    origin: float


@dataclass(frozen=True)
class DetectedEpisode:
    trigger: Span
    by: str | None
    family: str
    response: Span | None
    response_label: str | None
    outcome: Span | None
    score: float


@dataclass(frozen=True)
class Scores:
    """Every probability the detector reads for one entry (training picks thresholds on
    these, out of fold)."""

    variant: str
    trigger: np.ndarray  # per sentence
    response: np.ndarray  # per sentence
    can_respond: tuple[bool, ...]  # False: the sentence only tells what someone else did
    doc: float  # episode model over the entry's words
    retro: np.ndarray  # per sentence
    origin_doc: float
    window: int

    def pair(self, i: int, j: int) -> float:
        return float(math.sqrt(self.trigger[i] * self.response[j]))

    def best_response(self, i: int) -> int | None:
        """The likeliest response to a trigger at ``i``: the best-scoring sentence in the
        window after it that may be the writer's own action."""
        after = range(i + 1, min(len(self.trigger), i + 1 + self.window))
        valid = [j for j in after if self.can_respond[j]]
        return max(valid, key=lambda j: float(self.response[j])) if valid else None

    def best_pair(self) -> tuple[float, int, int]:
        """The best (trigger, later response) pair within the window: (score, i, j)."""
        best = (0.0, -1, -1)
        for i in range(len(self.trigger)):
            j = self.best_response(i)
            if j is not None and self.pair(i, j) > best[0]:
                best = (self.pair(i, j), i, j)
        return best

    def combined(self, pair: float) -> float:
        return 0.5 * (pair + self.doc)

    @property
    def entry(self) -> float:
        """How likely the entry holds a let-down episode with the writer's response."""
        return self.combined(self.best_pair()[0])

    @property
    def origin(self) -> float:
        """How likely the entry is mainly told in retrospect."""
        mean = float(self.retro.mean()) if len(self.retro) else 0.0
        return 0.5 * (mean + self.origin_doc)


def _spans(sentences: Sequence[Any]) -> list[tuple[int, int]]:
    out = []
    for s in sentences:
        if isinstance(s, tuple):
            out.append((int(s[0]), int(s[1])))
        else:
            out.append((int(s.start), int(s.end)))
    return out


def score_entry(
    model: EpisodeModel,
    text: str,
    spans: Sequence[tuple[int, int]],
    vectors: np.ndarray | None,
) -> Scores:
    """Score an entry; with ``vectors`` (unit rows of the trained-for model) the embedded
    variant, without them the text-only one."""
    variant = EMBEDDED if vectors is not None else TEXT
    sentences = [text[s:e] for s, e in spans]
    blocks = sentence_blocks(sentences, vectors, model.vocabs, model.needed(variant))
    pt = model.trigger[TEXT].proba(blocks)
    pr = model.response[TEXT].proba(blocks)
    if variant == EMBEDDED:
        pt = 0.5 * (pt + model.trigger[EMBEDDED].proba(blocks))
        pr = 0.5 * (pr + model.response[EMBEDDED].proba(blocks))
    docs = doc_blocks(text, model.vocabs)
    return Scores(
        variant=variant,
        trigger=pt,
        response=pr,
        can_respond=tuple(not is_other_subject(s) for s in sentences),
        doc=float(model.episode_doc.proba(docs)[0]),
        retro=model.retro[variant].proba(blocks),
        origin_doc=float(model.origin_doc.proba(docs)[0]),
        window=model.window,
    )


def pair_up(
    scores: Scores, thresholds: dict[str, float]
) -> list[tuple[tuple[int, ...], int, float]]:
    """Episodes as (trigger sentences, response sentence, score), best first.

    The entry's best pair decides whether there is any episode (its score, the pair and
    the entry's words averaged, must reach the entry threshold). Every other sentence at
    or above the trigger threshold takes its best response in the window after it, and
    is kept when that pair's score reaches the entry threshold too; triggers sharing a
    response are one episode (with an adjacent one, a two-sentence span).
    """
    best, bi, bj = scores.best_pair()
    if bi < 0 or scores.combined(best) < thresholds["entry"]:
        return []
    by_response: dict[int, list[int]] = {bj: [bi]}
    for i in range(len(scores.trigger)):
        if i == bi or scores.trigger[i] < thresholds["trigger"]:
            continue
        j = scores.best_response(i)
        if j is not None and scores.combined(scores.pair(i, j)) >= thresholds["entry"]:
            by_response.setdefault(j, []).append(i)
    out = []
    for j, triggers in by_response.items():
        top = max(triggers, key=lambda i: float(scores.trigger[i]))
        span = tuple(sorted(i for i in triggers if abs(i - top) <= 1))
        out.append((span, j, scores.combined(scores.pair(top, j))))
    out.sort(key=lambda x: (-x[2], x[1]))
    return out


# ---------------------------------------------------------------------------- who did it

_NAME = re.compile(r"[^\W\d_][^\W\d_'\u2019-]*(?:['\u2019-][^\W\d_]+)*")
_ROLE = re.compile(
    r"\b(?:(?:my|our) (?:best |old |new |big |little |older |younger )?)?(" + ROLES + r")\b",
    re.IGNORECASE,
)
_MALE = frozenset(
    "dad daddy father tata papa brother son grandad grandpa grandfather uncle husband "
    "boyfriend fiance".split()
)
_FEMALE = frozenset(
    "mum mom mam mummy mother mama sister daughter nan nana nani gran granny grandma "
    "grandmother aunt auntie wife girlfriend fiancee landlady".split()
)
_NOT_NAMES = frozenset(
    "i i'm i've i'd i'll im ive he she they we you it his her their them him me my our your "
    "this that then when the a an and but so if ok okay god christmas easter monday tuesday "
    "wednesday thursday "
    "friday saturday sunday january february march april may june july august september "
    "october november december english somebody someone nobody everyone everybody anyone "
    "anybody nothing everything something quarter half hasnt hadnt havent didnt dont doesnt "
    "cant couldnt wont wouldnt isnt wasnt werent shouldnt aint thats whats theres youre "
    "theyre hes shes its lol omg tbh idk apparently literally really actually basically "
    "finally only totally obviously probably usually suddenly honestly seriously clearly "
    "definitely simply lately exactly still also even he'd she'd they'd we'd you'd he'll "
    "she'll they'll we'll you'll it'll mr mrs ms dr".split()
)
_SUBJECT_VERBS = frozenset(
    "said says put texted messaged told asked replied answered hasnt hasn't didnt didn't "
    "never just cancelled canceled forgot promised swore lied posted rang called wrote left "
    "sent took borrowed owes owed is was has had".split()
)
_PRONOUN = re.compile(r"\b(he|she|his|her|him|hes|shes|he's|she's)\b")


@dataclass(frozen=True)
class _Mention:
    sentence: int
    at: int  # offset in the sentence
    surface: str  # as written ("my dad", "Len")
    key: str  # what repeated mentions share ("dad", "len")


def _blank_quotes(sentence: str) -> str:
    """Quoted speech blanked out (same length): names inside it are addressees."""
    return _QUOTED.sub(lambda m: " " * len(m.group()), sentence.translate(_QUOTES))


# Words before a capitalised word that make it a place or a thing ("in Rio Rancho", "the
# Elks lodge", "an old Lennox"), not a person; "at" and "to" are left out ("shouted at
# Ray", "said to Ray").
_PLACE_BEFORE = frozenset(
    "in from near into via the a an off outside inside across through past towards toward".split()
)
# Titles and kin words that open a person's two-word name ("Tía Rosa", "Aunty Ngozi").
_TITLES = frozenset(
    "mr mrs ms miss dr sr sra dona don tia tía tio tío aunt aunty auntie uncle nana nan "
    "gran granny grandma grandpa vó vo vovó pastor father sister brother coach".split()
)


def _placelike(s: str, words: Sequence[re.Match[str]], k: int) -> bool:
    """Whether capitalised word ``k`` names a place or a thing by where it stands: after
    a place word ("in", "the", "an old ..."), or in a run of capitalised words that no
    title opens ("Rio Rancho", "Casa Luna", but not "Tía Rosa")."""

    def adjacent(a: int, b: int) -> bool:
        return s[words[a].end() : words[b].start()].isspace()

    prev = words[k - 1].group().lower() if k and adjacent(k - 1, k) else ""
    if prev in _PLACE_BEFORE:
        return True
    if (
        k >= 2
        and adjacent(k - 2, k - 1)
        and adjacent(k - 1, k)
        and words[k - 2].group().lower() in ("a", "an", "the")
        and prev.islower()
    ):
        return True
    run = [j for j in (k - 1, k + 1) if 0 <= j < len(words) and adjacent(min(j, k), max(j, k))]
    for j in run:
        other = words[j].group()
        if not other[0].isupper() or other.isupper():
            continue
        opener = words[min(j, k)].group().lower()
        if opener not in _TITLES and opener not in _NOT_NAMES:
            return True
    return False


def _mentions(i: int, sentence: str, common: frozenset[str], lowercase: bool) -> list[_Mention]:
    s = _blank_quotes(sentence)
    out = [_Mention(i, m.start(), m.group(), m.group(1).lower()) for m in _ROLE.finditer(s)]
    words = list(_NAME.finditer(s))
    for k, m in enumerate(words):
        w = re.sub(r"['\u2019]s$", "", m.group())
        low = w.lower()
        if low in common or low in _NOT_NAMES or len(w) < 2 or _ROLE.fullmatch(w):
            continue
        if not lowercase and _placelike(s, words, k):
            continue
        nxt = words[k + 1].group().lower() if k + 1 < len(words) else ""
        if (w[0].isupper() and not w.isupper()) or (
            lowercase and w.islower() and nxt in _SUBJECT_VERBS
        ):
            out.append(_Mention(i, m.start(), w, low))
    return out


def _gender(sentence: str) -> str | None:
    m = _PRONOUN.search(normalise(_blank_quotes(sentence)))
    if not m:
        return None
    return "f" if m.group(1).startswith(("she", "her")) else "m"


def _closeness(m: _Mention, first: int, last: int, pronoun_subject: bool) -> float:
    """How much a mention's place says it is the trigger's person: the trigger's subject
    most, another name inside a trigger whose subject is "he"/"she" least."""
    if first <= m.sentence <= last:
        if m.sentence == first and m.at <= 3:
            return 4.0
        return 0.5 if pronoun_subject else 2.0
    return 2.0 / (1 + abs(m.sentence - first)) - 0.001 * m.at


def who(
    text: str,
    spans: Sequence[tuple[int, int]],
    trigger: Sequence[int],
    common: frozenset[str],
    look_back: int = 4,
) -> str | None:
    """Who let the writer down: the person named in or just before the trigger (a
    pronoun there points back), ranked by closeness to the trigger and how often the
    entry names them; a role that contradicts the trigger's he/she is passed over."""
    lowercase = sum(c.isupper() for c in text) < 0.01 * max(len(text), 1)
    first, last = min(trigger), max(trigger)
    lo, hi = max(first - look_back, 0), min(last + 1, len(spans) - 1)
    mentions = [
        m for i, (s, e) in enumerate(spans) for m in _mentions(i, text[s:e], common, lowercase)
    ]
    counts = Counter(m.key for m in mentions)
    said = " ".join(text[spans[i][0] : spans[i][1]] for i in trigger)
    gender = _gender(said)
    pronoun_subject = bool(re.match(_LEAD + r"(?:he|she|they|his|her|their)\b", normalise(said)))
    best: tuple[float, str] | None = None
    for m in mentions:
        if not lo <= m.sentence <= hi:
            continue
        if (gender == "m" and m.key in _FEMALE) or (gender == "f" and m.key in _MALE):
            continue
        score = min(counts[m.key], 6) + _closeness(m, first, last, pronoun_subject)
        if best is None or score > best[0]:
            best = (score, m.surface)
    return best[1] if best else None


# ------------------------------------------------------------------------------ detector


def calibrated(model: EpisodeModel, model_name: str) -> bool:
    """Whether ``model_name`` is the embedding model the vectors variant was trained for."""
    squash = re.compile(r"[^a-z0-9]")
    want = squash.sub("", model.embedding_model.lower())
    return bool(want) and want in squash.sub("", model_name.lower())


class EpisodeDetector:
    """Episodes and retrospective telling in one entry, from the shipped model.

    With embeddings of the model it was trained for, the vectors variant runs (sentence
    vectors are taken from the caller when given, else embedded here); with any other
    embeddings, the text-only variant, which never embeds and is deterministic.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        model_name: str,
        model: EpisodeModel | None = None,
    ) -> None:
        self.embeddings = embeddings
        self.model_name = model_name
        self.model = model or load_model()
        self.uses_vectors = calibrated(self.model, model_name)

    @property
    def variant(self) -> str:
        return EMBEDDED if self.uses_vectors else TEXT

    def _vectors(
        self, text: str, spans: Sequence[tuple[int, int]], vectors: np.ndarray | None
    ) -> np.ndarray | None:
        if not self.uses_vectors or not spans:
            return None
        if vectors is None:
            vectors = np.asarray(
                self.embeddings.embed_documents([text[s:e] for s, e in spans]), dtype=np.float32
            )
        rows = unit_rows(vectors)
        if rows.shape != (len(spans), self.model.dim):
            raise ValueError(
                f"expected {len(spans)} sentence vectors of {self.model.dim} dimensions, "
                f"got {rows.shape}"
            )
        return rows

    def scores(
        self,
        text: str,
        sentences: Sequence[Any] | None = None,
        vectors: np.ndarray | None = None,
    ) -> Scores:
        spans = _spans(sentences) if sentences is not None else _sentence_spans(text)
        return score_entry(self.model, text, spans, self._vectors(text, spans, vectors))

    def read(
        self,
        text: str,
        sentences: Sequence[Any] | None = None,
        vectors: np.ndarray | None = None,
    ) -> Reading:
        """The entry's episodes and its origin score from one scoring pass (ingest needs
        both; scoring twice would repeat the vector and model work per entry)."""
        if not text.strip():
            return Reading([], 0.0)
        spans = _spans(sentences) if sentences is not None else _sentence_spans(text)
        rows = self._vectors(text, spans, vectors)
        scores = score_entry(self.model, text, spans, rows)
        episodes = self._episodes(text, spans, rows, scores) if len(spans) >= 2 else []
        return Reading(episodes, round(scores.origin, 4))

    def detect(
        self,
        text: str,
        sentences: Sequence[Any] | None = None,
        vectors: np.ndarray | None = None,
    ) -> list[DetectedEpisode]:
        """Zero or more let-down episodes, best first; every span is whole sentences."""
        return self.read(text, sentences, vectors).episodes

    def _episodes(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        rows: np.ndarray | None,
        scores: Scores,
    ) -> list[DetectedEpisode]:
        pairs = pair_up(scores, self.model.thresholds[scores.variant])
        if not pairs:
            return []
        labels = self._labels(text, spans, rows, [j for _, j, _ in pairs])
        out = []
        for (triggers, j, score), label in zip(pairs, labels, strict=True):
            outcome = Span(*spans[j + 1]) if j + 1 < len(spans) else None
            out.append(
                DetectedEpisode(
                    trigger=Span(spans[min(triggers)][0], spans[max(triggers)][1]),
                    by=who(text, spans, triggers, self.model.common_words),
                    family=FAMILY,
                    response=Span(*spans[j]),
                    response_label=label,
                    outcome=outcome,
                    score=round(score, 4),
                )
            )
        return out

    def _labels(
        self,
        text: str,
        spans: Sequence[tuple[int, int]],
        rows: np.ndarray | None,
        responses: Sequence[int],
    ) -> list[str | None]:
        model = self.model.label[self.variant]
        sentences = [text[spans[j][0] : spans[j][1]] for j in responses]
        vecs = rows[list(responses)] if rows is not None else None
        blocks = sentence_blocks(sentences, vecs, self.model.vocabs, model.weights)
        best = model.proba(blocks).argmax(axis=1)
        return [None if model.classes[k] == NONE_LABEL else model.classes[k] for k in best]

    def origin_score(
        self,
        text: str,
        sentences: Sequence[Any] | None = None,
        vectors: np.ndarray | None = None,
    ) -> float:
        """Probability that the entry is mainly about the formative past."""
        return self.read(text, sentences, vectors).origin

    @property
    def origin_threshold(self) -> float:
        """The origin score from which an entry counts as told in retrospect."""
        return self.model.thresholds[self.variant]["origin"]

    def retrospect(
        self,
        text: str,
        sentences: Sequence[Any] | None = None,
        vectors: np.ndarray | None = None,
    ) -> list[float]:
        """Per sentence, how likely it is told in retrospect (a memory inside a present
        entry scores high even when the entry as a whole does not)."""
        if not text.strip():
            return []
        return [round(float(p), 4) for p in self.scores(text, sentences, vectors).retro]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    from ingest.chunking import sentence_spans

    return [(s.start, s.end) for s in sentence_spans(text)]
