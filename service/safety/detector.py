"""The safety gate: does a question or a new entry carry crisis language?

Deterministic and offline, so it runs before anything else and never depends on a model
being up. Phrase patterns (``prompts/safety/v1/crisis.yaml``) find first-person crisis
language; negation ("I'm not suicidal"), idioms ("this deadline is killing me"), the
distant past ("two years ago I ..."), jokes and other people's experiences are then told
apart, because a safety response to "I'd kill for a coffee" teaches people to ignore it.

Missing a crisis is the costly error, so the patterns lean towards recall: when in doubt
a sentence is ``concern`` (resources shown, the answer still given), not silence.

Nothing here logs or stores the text.
"""

from __future__ import annotations

import re
import threading
import weakref
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from service.safety.rules import ClassifierSpec, CrisisRules, Pattern, load_rules
from service.safety.schemas import About, Level, Resource, Safety

# Also score a text's unexplained sentences together (see ``_classify``).
JOIN_SENTENCES = True
_SENTENCES = re.compile(r"[.!?;\n]+")
_CLAUSE = re.compile(r"[,:;()\"]|—|–| - |\bbut\b|\bthough\b|\balthough\b")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Hit:
    rule: str  # pattern id, never the matched text
    kind: str
    level: Level
    why: str  # "" pattern match; "classifier" second stage; else the cue: past | joke | other


@dataclass(frozen=True)
class Scored:
    """One unit the classifier read (a sentence, or the sentences together): its
    probability and what the level would be from each threshold. Never its text."""

    p: float
    question: bool
    cue: Level  # "concern" when the past or joke cue lowers it, else "crisis"
    why: str
    kind: str  # the nearest prototype's kind
    pc: float = -1.0  # the crisis head's probability (v2 models); -1: none, ``p`` serves
    gives_concern: bool = True  # False: a sentence of a model that reads concern whole
    question_concern: bool = False  # v3: a question gets concern from the concern threshold

    @property
    def p_crisis(self) -> float:
        return self.p if self.pc < 0 else self.pc

    def level(self, threshold: float, crisis_threshold: float) -> Level | None:
        # Crisis replaces an answer, so the classifier gives it only when it is very sure
        # and the unit is a statement: everyday trust questions ("do I push people
        # away before they can leave me?") sit close to danger and loss in this space.
        # A question gets concern at most, and only from the crisis threshold (v3 models:
        # from the concern threshold too, the journals' questions bounding it in training).
        sure = self.p_crisis >= crisis_threshold
        if self.question:
            concern = self.question_concern and self.p >= threshold and self.gives_concern
            return "concern" if sure or concern else None
        if not sure:
            return "concern" if self.p >= threshold and self.gives_concern else None
        # v1 (one probability): crisis needs both; v2: the crisis head alone decides
        # the band, resources are then shown whatever the concern head says.
        return self.cue

    def hit(self, threshold: float, crisis_threshold: float) -> Hit | None:
        level = self.level(threshold, crisis_threshold)
        if level is None:
            return None
        return Hit(f"classifier:{self.kind}", self.kind, level, self.why or "classifier")


@dataclass
class Assessment:
    """Everything the gate decided about one text, for evaluation and tests."""

    level: Level | None
    hits: list[Hit] = field(default_factory=list)
    scored: list[Scored] = field(default_factory=list)  # empty unless the classifier ran

    @property
    def kinds(self) -> list[str]:
        out: list[str] = []
        for h in self.hits:
            if h.level == self.level and h.kind not in out:
                out.append(h.kind)
        return out

    @property
    def score(self) -> float:
        """The classifier's highest probability over the units it read (0 if none)."""
        return max((u.p for u in self.scored), default=0.0)

    def level_at(self, threshold: float, crisis_threshold: float) -> Level | None:
        """The level other classifier thresholds would have given (for choosing them)."""
        hits = [h for h in self.hits if not h.rule.startswith("classifier:")]
        hits += [h for u in self.scored if (h := u.hit(threshold, crisis_threshold))]
        return _level_of(hits)


def _level_of(hits: list[Hit]) -> Level | None:
    levels = {h.level for h in hits}
    return "crisis" if "crisis" in levels else "concern" if levels else None


def normalize(text: str, rules: CrisisRules) -> str:
    t = text.lower()
    for pattern, repl in rules.normalize:
        t = pattern.sub(repl, t)
    return " ".join(t.split())


def sentences(text: str, rules: CrisisRules | None = None) -> list[str]:
    """The normalised sentences the gate reads, one by one."""
    rules = rules or load_rules()
    return [s.strip() for s in _SENTENCES.split(normalize(text, rules)) if s.strip()]


def _negated(sentence: str, start: int, rules: CrisisRules) -> bool:
    clause = _CLAUSE.split(sentence[:start])[-1]
    window = " ".join(_WORD.findall(clause)[-rules.negation_window_words :])
    if not rules.negation.search(window):
        return False
    return not any(e.search(window) for e in rules.negation_exceptions)


def _idiom(sentence: str, span: tuple[int, int], rules: CrisisRules) -> bool:
    for idiom in rules.idioms:
        for m in idiom.finditer(sentence):
            if m.start() < span[1] and span[0] < m.end():
                return True
    return False


def _clause(sentence: str, m: re.Match[str]) -> str:
    """The clause the match sits in: from the last boundary before it to the next after."""
    before = _CLAUSE.split(sentence[: m.start()])[-1]
    after = _CLAUSE.split(sentence[m.start() :])[0]
    return before + after


def _past(sentence: str, m: re.Match[str], rules: CrisisRules) -> bool:
    """Told as the distant past ("two years ago I ...", "I used to ...") and not recurring."""
    clause = _clause(sentence, m)
    return bool(
        rules.past.search(clause)
        and not rules.recent.search(clause)
        and not rules.recurring.search(sentence)
    )


def _hit(sentence: str, m: re.Match[str], p: Pattern, rules: CrisisRules) -> Hit | None:
    if _negated(sentence, m.start(), rules) or _idiom(sentence, m.span(), rules):
        return None
    if rules.joke.search(sentence):
        return Hit(p.id, p.kind, "concern", "joke")
    if _past(sentence, m, rules):
        return Hit(p.id, p.kind, "concern", "past")
    if not p.self_only and rules.third_party.search(sentence[: m.start()]):
        return Hit(p.id, p.kind, "concern", "other")
    return Hit(p.id, p.kind, "crisis", "")


def _cue_level(sentence: str, rules: CrisisRules) -> tuple[Level, str]:
    """The past and joke cues for a whole sentence (the classifier stage has no span)."""
    if rules.joke.search(sentence):
        return "concern", "joke"
    if rules.past.search(sentence) and not (
        rules.recent.search(sentence) or rules.recurring.search(sentence)
    ):
        return "concern", "past"
    return "crisis", ""


def calibrated(embeddings: Embeddings, spec: ClassifierSpec) -> bool:
    """Whether ``embeddings`` is the model the classifier was trained for."""
    name = str(getattr(embeddings, "model_name", ""))
    squash = re.compile(r"[^a-z0-9]")
    return bool(name) and squash.sub("", spec.model.lower()) in squash.sub("", name.lower())


class _Prototypes:
    """Prototype vectors per embeddings object, embedded once (they are fixed text)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: weakref.WeakKeyDictionary[Embeddings, dict[str, np.ndarray]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, embeddings: Embeddings, spec: ClassifierSpec) -> dict[str, np.ndarray]:
        with self._lock:
            found = self._cache.get(embeddings)
        if found is None:
            found = {
                kind: unit_rows(embeddings.embed_documents(list(texts)))
                for kind, texts in spec.prototypes.items()
            }
            with self._lock:
                self._cache[embeddings] = found
        return found


_PROTOTYPES = _Prototypes()


def unit_rows(vectors: list[list[float]]) -> np.ndarray:
    """Embeddings as float32 rows of length one (what the classifier was trained on)."""
    a = np.asarray(vectors, dtype=np.float32)
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def _classify(
    sentences: list[str], embeddings: Embeddings, spec: ClassifierSpec, rules: CrisisRules
) -> list[Scored]:
    """Score each sentence, and the sentences together when there are several (a hint
    can be spread over two: "I gave my plants away. Closing doors for the last time")."""
    trained = spec.trained
    if trained is None:
        return []
    joined = JOIN_SENTENCES and len(sentences) > 1
    units = list(sentences) + ([" ".join(sentences)] if joined else [])
    vecs = unit_rows(embeddings.embed_documents(units))
    probs = trained.proba(units, vecs)
    pcs = trained.proba_crisis(units, vecs) if trained.crisis_head else None
    protos = {k: v for k, v in _PROTOTYPES.get(embeddings, spec).items() if k != "benign"}
    out = []
    for i, unit in enumerate(units):
        whole = i == len(sentences)
        kind = max(protos, key=lambda k: float((vecs[i] @ protos[k].T).max()))
        cue, why = _cue_level(unit, rules)
        # The joined unit is not one sentence, so it cannot "open like a question".
        question = not whole and bool(rules.question.search(unit))
        pc = float(pcs[i]) if pcs is not None else -1.0
        # The whole text is the joined unit, or the one sentence there is.
        concern = not trained.concern_whole or whole or len(units) == 1
        out.append(
            Scored(float(probs[i]), question, cue, why, kind, pc, concern, trained.question_concern)
        )
    return out


def assess(
    text: str, embeddings: Embeddings | None = None, rules: CrisisRules | None = None
) -> Assessment:
    """Every crisis pattern in every sentence, each kept, lowered or dropped by the cues;
    then, with ``embeddings`` of the model it was trained for, the classifier on the
    sentences the patterns left alone."""
    rules = rules or load_rules()
    hits: list[Hit] = []
    untouched: list[str] = []
    for sentence in _SENTENCES.split(normalize(text, rules)):
        if not sentence.strip():
            continue
        matched = False
        for p in rules.patterns:
            for m in p.regex.finditer(sentence):
                matched = True
                h = _hit(sentence, m, p, rules)
                if h is not None:
                    hits.append(h)
        explained = rules.negated_topic.search(sentence) or any(
            i.search(sentence) for i in rules.idioms
        )
        if not matched and not explained:
            untouched.append(sentence.strip())
    spec = rules.classifier
    scored: list[Scored] = []
    if (
        embeddings is not None
        and spec is not None
        and spec.trained is not None
        and untouched
        and not hits
        and calibrated(embeddings, spec)
    ):
        scored = _classify(untouched, embeddings, spec, rules)
        hits.extend(h for u in scored if (h := u.hit(spec.threshold, spec.crisis_threshold)))
    return Assessment(level=_level_of(hits), hits=hits, scored=scored)


def safety_for(
    a: Assessment, rules: CrisisRules | None = None, about: About = "text"
) -> Safety | None:
    """The message and resources that fit what was found (self-harm vs danger). The
    message names ``about`` (your question, situation or entry) and never the words."""
    rules = rules or load_rules()
    if a.level is None:
        return None
    kinds = a.kinds
    if a.level == "concern":
        message = rules.messages["concern"]
    elif kinds and all(k == "danger" for k in kinds):
        message = rules.messages["danger"]
    else:
        message = rules.messages["self"]
    resources = [
        Resource(name=r.name, contact=r.contact, url=r.url)
        for r in rules.resources
        if any(k in r.kinds for k in kinds)
    ]
    return Safety(
        level=a.level,
        message=message.replace("{about}", about),
        resources=resources,
        about=about,
    )


class Reviewer(Protocol):
    """A second opinion that may raise an assessment (``service/safety/llm_check.py``)."""

    def review(self, text: str, a: Assessment) -> Assessment: ...


def detect_crisis(
    text: str,
    embeddings: Embeddings | None = None,
    reviewer: Reviewer | None = None,
    about: About = "text",
) -> Safety | None:
    """``Safety`` when ``text`` carries crisis (or, more gently, concerning) language.

    ``embeddings`` (optional) adds the classifier stage when it is the model the
    classifier was trained for; without it the patterns alone decide. ``reviewer``
    (optional, the configured LLM) may raise an unsure ``concern`` to ``crisis``."""
    a = assess(text, embeddings)
    if reviewer is not None:
        a = reviewer.review(text, a)
    return safety_for(a, about=about)
