"""Emotion questions ("a time I felt X") on a fixed subset of EmpatheticDialogues dev.

The query parsing is unit-tested; the fast subset runs through the real ingest path and
the real model, and fails below the floor in ``eval/thresholds.json``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from eval.datasets.empathetic import TRUST_EMOTIONS, Situation, load_split
from eval.emotions_eval import evaluate, ingest_situations
from service.container import Container
from service.query import plan_query
from service.settings import Settings
from service.taxonomy import load_emotions
from tests import ROOT

# A quality floor or benchmark: run by `make eval`, not `make test`.
pytestmark = pytest.mark.eval

THRESHOLDS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["emotions_dev_subset"]
PER_EMOTION = 12  # situations of each of the 12 trust emotions (the first, in file order)
PER_DISTRACTOR = 3  # situations of each of the other 20 emotions


def test_lexicon_covers_the_32_emotions_with_examples_and_cues() -> None:
    lex = load_emotions()
    assert len(lex.emotions) == 32
    assert set(TRUST_EMOTIONS) <= set(lex.emotions)
    for e in lex.emotions.values():
        assert e.definition and e.cues and len(e.examples) >= 8, e.name
    assert 0.0 <= lex.expansion_weight <= 1.0


@pytest.mark.parametrize(
    ("question", "emotion"),
    [
        ("a time I felt lonely", "lonely"),
        ("When did I feel really anxious?", "anxious"),
        ("times I was jealous", "jealous"),
        ("have I ever been so furious", "furious"),
        ("a time I felt scared", "afraid"),  # a cue stem names the emotion
        ("when was I nervous about work?", "anxious"),
    ],
)
def test_felt_questions_name_their_emotion(question: str, emotion: str) -> None:
    p = plan_query(question)
    lex = load_emotions().emotions[emotion]
    assert p.emotion == emotion and p.uses_emotion
    assert p.expansions[: len(lex.examples)] == list(lex.examples)
    assert p.expansion_weight == load_emotions().expansion_weight
    assert "felt" not in p.search_text.split() and lex.cues[0] in p.search_text


@pytest.mark.parametrize(
    "question",
    [
        "what do I usually do when I feel betrayed?",  # trust taxonomy, unchanged
        "when have I trusted my own judgment?",
        "am I getting any better at trusting people?",
        "What did my dentist say about my teeth?",
    ],
)
def test_other_questions_keep_their_plan(question: str) -> None:
    p = plan_query(question)
    assert not p.uses_emotion and p.search_text == p.question


def test_habit_questions_naming_a_trust_label_keep_the_taxonomy() -> None:
    p = plan_query("what do I usually do when I feel jealous?")
    assert p.emotion == "jealous" and p.labels == ("jealousy",) and not p.uses_emotion
    assert p.expansion_weight == 1.0 and p.expansions[0] == "I feel jealous"


def _subset() -> list[Situation]:
    by_emotion: dict[str, list[Situation]] = defaultdict(list)
    for s in load_split("dev"):
        by_emotion[s.emotion].append(s)
    out: list[Situation] = []
    for emotion, items in sorted(by_emotion.items()):
        out += items[: PER_EMOTION if emotion in TRUST_EMOTIONS else PER_DISTRACTOR]
    return sorted(out, key=lambda s: s.row)


@pytest.mark.model
def test_emotion_questions_on_the_dev_subset(tmp_path: Path, real_embeddings) -> None:
    situations = _subset()
    assert len(situations) == 12 * PER_EMOTION + 20 * PER_DISTRACTOR
    c = Container(Settings(data_dir=tmp_path / "data"), embeddings=real_embeddings)
    try:
        uid = ingest_situations(c, "dev", situations)
        result = evaluate(c, uid, "dev", situations, TRUST_EMOTIONS)
    finally:
        c.close()
    s = result["summary"]
    assert s["entries"] == len(situations) and s["emotions"] == 12
    assert s["system_p_at_10_mean"] >= THRESHOLDS["p_at_10_mean"], s
    assert (
        s["system_p_at_10_mean"] - s["baseline_p_at_10_mean"]
        >= THRESHOLDS["min_gain_over_dense_baseline"]
    ), s
