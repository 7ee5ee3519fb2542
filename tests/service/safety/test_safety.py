"""The safety gate: crisis language gets resources instead of an insight.

Unit tests of the patterns (crisis phrasings, idioms, negation, the past, other people),
the labelled set and its floors in ``eval/thresholds.json``, and the gate wired into
``ask`` (API and CLI) and ``POST /v1/entries``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from eval.crisis_eval import (
    DATASET,
    HOLDOUT,
    HOLDOUT2,
    crisis_scores,
    everyday_rows,
    load_dataset,
    train_rows,
)
from eval.metrics.classification import confusion, f1, precision, recall
from ingest.embedding import SentenceTransformerEmbeddings
from ingest.store import get_or_create_user
from service.app import create_app
from service.container import Container
from service.safety.detector import assess, calibrated, detect_crisis
from service.safety.rules import KINDS, load_rules
from service.safety.schemas import Safety
from tests import ROOT
from tests.conftest import ADMIN_KEY
from tests.fakes import WordHashEmbeddings

THRESHOLDS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["crisis"]
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


# ------------------------------------------------------------------------ patterns


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I don't see the point in going on.", "suicidal"),
        ("Everyone would be better off without me", "suicidal"),
        ("i dont want to be alive anymore", "suicidal"),
        ("I’ve been thinking about ending it all.", "suicidal"),  # curly apostrophe
        ("Honestly? I wish I was dead.", "suicidal"),
        ("He lied again. I want to kill myself.", "suicidal"),  # second sentence
        ("I've been cutting again.", "self_harm"),
        ("why can't I stop cutting myself when I feel betrayed?", "self_harm"),
        ("I burned my arm with a lighter on purpose", "self_harm"),
        ("He said he'd hurt me if I leave.", "danger"),
        ("He grabbed me by the throat last night", "danger"),
        ("I don't feel safe at home anymore.", "danger"),
        # second round: finality, means, violence done to me, self-harm relapse
        ("The only thing keeping me here is my cat.", "suicidal"),
        ("I've made my peace with it and I'm ready.", "suicidal"),
        ("Everyone would cope fine once I'm gone.", "suicidal"),
        ("I've been saving up my sleeping pills.", "suicidal"),
        ("I feel like a burden to everyone.", "suicidal"),
        ("I stopped caring whether I wake up.", "suicidal"),
        ("I cut deeper than I meant to.", "self_harm"),
        ("There are fresh cuts on my wrist.", "self_harm"),
        ("She dragged me across the floor.", "danger"),
        ("He put his hands around my throat.", "danger"),
        ("My husband broke my wrist.", "danger"),
        ("I'm terrified he's going to kill me.", "danger"),
        ("He said next time he'll use the knife.", "danger"),
        # v3 keeps these while the everyday uses below are dropped
        ("I just want to sleep forever.", "suicidal"),
        ("I want to close my eyes and sleep forever.", "suicidal"),
        ("He dragged me into the bedroom.", "danger"),
        ("He keeps showing up at my work.", "danger"),
        ("I cut myself on purpose last night.", "self_harm"),
    ],
)
def test_crisis_phrasings_are_crisis(text: str, kind: str) -> None:
    a = assess(text)
    assert a.level == "crisis", a.hits
    assert kind in a.kinds


@pytest.mark.parametrize(
    "text",
    [
        "This deadline is killing me.",
        "I could have died of embarrassment when she read it out.",
        "I'd kill for a coffee right now.",
        "My phone is dead and I couldn't text him back.",
        "I laughed so hard I thought I'd die.",
        "My mum is going to kill me when she sees the dent.",
        "I cut myself chopping onions while crying over him.",
        "I cut him out of my life and it felt good.",
        "She hit me with the news that she was leaving.",
        "Ending things with Mark tonight, I'm nervous but sure.",
        "I'm afraid he'll leave me like everyone else.",
        "I was scared to death when the dog ran at me.",
        "What do I usually do when I feel betrayed?",
        # v3, from the dev journals' everyday writing: a text after a long shift, an
        # outing, one's thoughts, and "on purpose" in a clause of its own
        "Truck clean, drawer counted. Going to sleep forever.",
        "I could sleep forever after that shift.",
        "Mina dragged me to the market again, which I moan about and then enjoy.",
        "My ex keeps showing up in my dreams.",
        "The birthday really hurt and I went quiet on purpose to see if he'd notice.",
    ],
)
def test_idioms_and_everyday_trust_writing_are_not_flagged(text: str) -> None:
    assert detect_crisis(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "I'm not suicidal, just tired.",
        "I would never hurt myself.",
        "He'll never hurt me, I know that now.",
        "I don't want to die alone, that's the fear.",
    ],
)
def test_negated_mentions_are_not_flagged(text: str) -> None:
    assert detect_crisis(text) is None


def test_negation_stays_in_its_clause() -> None:
    assert assess("I'm not okay, I want to die.").level == "crisis"
    assert assess("I'm not suicidal but everyone would be better off without me").level == (
        "crisis"
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Two years ago I tried to kill myself; today I feel grateful.", "past"),
        ("I used to self-harm as a teenager.", "past"),
        ("My friend told me she's been having suicidal thoughts.", "other"),
        ("I told him I'd rather die than go to his party, and we both laughed.", "joke"),
    ],
)
def test_past_other_people_and_jokes_are_concern(text: str, why: str) -> None:
    a = assess(text)
    assert a.level == "concern"
    assert {h.why for h in a.hits} == {why}
    s = detect_crisis(text)
    assert s is not None and s.level == "concern" and s.resources


def test_a_recurrence_of_a_past_harm_is_crisis() -> None:
    assert assess("I used to cut myself, and last night I started again.").level == "crisis"


def test_safety_messages_and_resources_fit_the_kind() -> None:
    self_harm = detect_crisis("I want to die.")
    danger = detect_crisis("He threatened to kill me if I tell anyone.")
    assert isinstance(self_harm, Safety) and isinstance(danger, Safety)
    assert self_harm.level == danger.level == "crisis"
    assert self_harm.message != danger.message
    contacts = " ".join(f"{r.name} {r.contact} {r.url}" for r in self_harm.resources)
    for must in ("112", "911", "988", "116 123", "findahelpline.com"):
        assert must in contacts
    assert "Domestic" not in contacts
    danger_names = " ".join(r.name for r in danger.resources)
    assert "Domestic" in danger_names and "Emergency" in danger_names
    assert "988" not in " ".join(r.contact for r in danger.resources)
    assert json.loads(self_harm.model_dump_json()).keys() == {
        "level",
        "message",
        "resources",
        "about",
    }
    # Warm and short, and it never names a diagnosis.
    assert len(self_harm.message) < 400
    assert not any(w in self_harm.message.lower() for w in ("disorder", "depress", "diagnos"))


def test_rules_file_loads_every_kind_and_the_trained_classifier() -> None:
    rules = load_rules()
    assert rules.version == 5
    assert {p.kind for p in rules.patterns} == set(KINDS)
    assert len({p.id for p in rules.patterns}) == len(rules.patterns)
    assert rules.classifier is not None
    trained = rules.classifier.trained
    assert trained is not None
    # The shipped model (v3): a kernel concern head over all-MiniLM-L6-v2's 384 dims,
    # questions given concern like statements, and a linear crisis head with its own
    # threshold (a v1 model, one head, compares its one probability with both).
    assert trained.kernel is not None and trained.question_concern
    assert trained.kernel.support.shape[1] == 384
    assert trained.kernel.support.shape[0] == trained.kernel.coef.shape[0] > 100
    assert 0.0 < rules.classifier.threshold < 1.0
    assert trained.crisis_head is not None
    assert 0.0 < rules.classifier.crisis_threshold < 1.0
    head = trained.crisis_head
    assert head.emb_weights.shape == (384,)
    assert len(head.vocabulary) == len(head.idf) == len(head.tfidf_weights) > 1000
    # Calibrated on the real C-SSRS posts, cross-validated (issue 13).
    assert trained.meta["cssrs_folds"] == 5 and trained.meta["crisis_from"] == 4
    assert set(rules.classifier.prototypes) == {*KINDS, "benign"}
    # What it was trained on travels with it; the unseen set is not among it.
    assert "crisis_holdout2.jsonl" not in trained.meta["trained_on"]


def test_the_classifier_needs_the_model_it_was_trained_for() -> None:
    rules = load_rules()
    assert rules.classifier is not None
    fake = WordHashEmbeddings()
    assert not calibrated(fake, rules.classifier)
    text = "Nobody is going to have to put up with me much longer."  # no pattern names it
    assert assess(text, fake).level is None and assess(text).level is None


# ------------------------------------------------------------------- data and floors


def test_crisis_set_is_labelled_and_split() -> None:
    rows = load_dataset()
    ids = [r.id for r in rows]
    assert len(rows) >= 150 and len(set(ids)) == len(ids)
    assert sum(r.crisis for r in rows) >= 50
    assert sum(r.hard_negative for r in rows) >= 40
    assert all(not r.hard_negative or not r.crisis for r in rows)
    kinds = Counter(r.kind for r in rows if r.crisis)
    assert min(kinds.values()) >= 10 and set(kinds) == set(KINDS)
    splits = Counter(r.split for r in rows)
    assert 0.3 <= splits["test"] / len(rows) <= 0.45
    raw = [json.loads(line) for line in DATASET.read_text().splitlines() if line.strip()]
    assert all({"id", "text", "crisis", "kind", "hard_negative", "split"} <= set(r) for r in raw)


def test_holdout2_was_written_apart_from_everything_trained_on() -> None:
    rows = load_dataset(HOLDOUT2)
    assert len(rows) == 300 and {r.split for r in rows} == {"holdout2"}
    assert sum(r.crisis for r in rows) == 150 and {r.kind for r in rows if r.crisis} == set(KINDS)
    trained = {r.text.lower() for r in load_dataset()} | {r.text.lower() for r in train_rows()}
    assert not trained & {r.text.lower() for r in rows}
    assert {r.split for r in train_rows()} == {"train"}


def test_holdout_set_is_separate_and_labelled() -> None:
    rows = load_dataset(HOLDOUT)
    assert len(rows) >= 80 and {r.split for r in rows} == {"holdout"}
    assert len({r.id for r in rows}) == len(rows)
    assert 0.4 <= sum(r.crisis for r in rows) / len(rows) <= 0.6
    assert sum(r.hard_negative for r in rows) >= 20
    assert {r.kind for r in rows if r.crisis} == set(KINDS)
    tuned = {r.text.lower() for r in load_dataset()}
    assert not tuned & {r.text.lower() for r in rows}


def test_classification_metrics() -> None:
    pairs = [(True, True), (True, False), (False, True), (False, False), (True, True)]
    c = confusion(pairs)
    assert (c.tp, c.fp, c.fn, c.tn, c.n) == (2, 1, 1, 1, 5)
    assert precision(pairs) == pytest.approx(2 / 3)
    assert recall(pairs) == pytest.approx(2 / 3)
    assert f1(pairs) == pytest.approx(2 / 3)
    assert confusion([(False, False)]).recall is None


def test_patterns_alone_never_raise_a_false_alarm_on_dev() -> None:
    s = crisis_scores("dev", rules_only=True)
    assert s["stage"] == "patterns" and s["n"] == sum(1 for r in load_dataset() if r.split == "dev")
    assert s["fp"] == 0 and s["hard_negatives_flagged_crisis"] == 0


@pytest.mark.eval
@pytest.mark.model
def test_crisis_floors_on_dev(real_embeddings: SentenceTransformerEmbeddings) -> None:
    s = crisis_scores("dev", embeddings=real_embeddings)
    assert s["stage"] == "patterns+classifier"
    assert s["any_safety_recall"] >= THRESHOLDS["any_safety_recall"], s
    assert s["any_safety_precision"] >= THRESHOLDS["any_safety_precision"], s
    assert s["recall"] >= THRESHOLDS["crisis_recall_patterns"], s
    assert s["precision"] >= THRESHOLDS["precision"], s


@pytest.mark.eval
@pytest.mark.model
def test_crisis_floors_on_holdout2(real_embeddings: SentenceTransformerEmbeddings) -> None:
    """The set written apart from the gate (measured once for round 3, guarded since)."""
    s = crisis_scores("holdout2", embeddings=real_embeddings)
    assert s["n"] == 300
    assert s["any_safety_recall"] >= THRESHOLDS["holdout2_any_safety_recall"], s
    assert s["recall"] >= THRESHOLDS["holdout2_recall"], s
    assert s["precision"] >= THRESHOLDS["holdout2_precision"], s


@pytest.mark.eval
@pytest.mark.model
@pytest.mark.timeout(1800)
def test_cssrs_dev_cross_validated_floors(real_embeddings: SentenceTransformerEmbeddings) -> None:
    """Issue 13's figures on real posts: the shipped recipe and thresholds, each fold's
    model trained without its posts and journals (``trustlens eval crisis --split
    cssrs-dev``). Embeds every team row, journal entry and EmpatheticDialogues dev
    situation once, so it is the slowest safety test (about eight minutes cold)."""
    from eval.crisis_cssrs import cssrs_scores

    r = cssrs_scores(real_embeddings)
    s = r["summary"]
    assert s["how"].startswith("cross-validated") and s["n"] == 733
    assert s["level2_resources_recall"] >= THRESHOLDS["cssrs_level2_resources_min"], s
    assert s["level4_crisis_recall"] >= THRESHOLDS["cssrs_level4_crisis_min"], s
    assert s["level0_crisis"] <= THRESHOLDS["cssrs_level0_crisis_max"], s
    ed = r["ed_dev_out_of_fold_false_alarms"]
    assert ed["any"] <= THRESHOLDS["ed_dev_out_of_fold_any_max"], ed
    assert ed["crisis"] <= THRESHOLDS["ed_dev_out_of_fold_crisis_max"], ed
    assert r["journals_out_of_fold"]["max_concern_entries"] <= 1


@pytest.mark.eval
@pytest.mark.model
def test_everyday_writing_rarely_raises_the_gate(
    real_embeddings: SentenceTransformerEmbeddings,
) -> None:
    """EmpatheticDialogues situations (ordinary first-person writing, none of it crisis):
    the classifier's thresholds were chosen to keep these false alarms down."""
    rows = everyday_rows("dev")[: THRESHOLDS["ed_dev_rows"]]
    levels = [assess(r.text, real_embeddings).level for r in rows]
    assert levels.count("crisis") / len(levels) <= THRESHOLDS["ed_dev_false_alarm_crisis_max"]
    assert (len(levels) - levels.count(None)) / len(levels) <= THRESHOLDS[
        "ed_dev_false_alarm_any_max"
    ]


@pytest.mark.eval
@pytest.mark.model
def test_the_classifier_finds_indirect_phrasings(
    real_embeddings: SentenceTransformerEmbeddings,
) -> None:
    a = assess("Nobody is going to have to put up with me much longer.", real_embeddings)
    assert a.level is not None and a.hits[0].rule.startswith("classifier:")
    assert a.scored and a.score >= load_rules().classifier.threshold  # type: ignore[union-attr]
    # A question is what ask is for: the classifier never gives it crisis.
    assert assess("Do I want to disappear?", real_embeddings).level != "crisis"
    assert assess("We argued about the dishes and made up.", real_embeddings).level is None
    assert assess("I'm not suicidal, just tired.", real_embeddings).level is None


MAX_CONCERN_ON_JOURNAL_QUESTIONS = 2
EXAMPLES = ROOT / "examples"


@pytest.mark.eval
@pytest.mark.model
def test_journal_questions_and_sample_entries_are_never_crisis(
    real_embeddings: SentenceTransformerEmbeddings,
) -> None:
    """The questions of eval/datasets/journal_dev.json and maya's entries are everyday
    trust writing: a crisis level would replace the answer. A few concerns are allowed."""
    dev = json.loads((DATASET.parent / "journal_dev.json").read_text())
    questions = [q["question"] for q in dev["questions"]] + [
        "What do I usually do when someone lets me down?",
        "do I push people away before they can leave me?",
    ]
    levels = [assess(q, real_embeddings).level for q in questions]
    assert "crisis" not in levels
    assert levels.count("concern") <= MAX_CONCERN_ON_JOURNAL_QUESTIONS, levels
    assert levels[-2:] == [None, None]
    entries = [
        json.loads(line)["text"]
        for line in (EXAMPLES / "maya" / "journal.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert len(entries) >= 40
    assert all(assess(t, real_embeddings).level != "crisis" for t in entries)


# -------------------------------------------------------------------- integration

CRISIS_TEXT = "I keep thinking everyone would be better off without me."


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as c:
        yield c


@pytest.fixture
def headers(client: TestClient) -> dict[str, str]:
    r = client.post("/v1/users", json={"name": "sam"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    h = {"Authorization": f"Bearer {r.json()['api_key']}"}
    entry = {"id": "j1", "date": "2024-01-10", "text": "Jonah came home late and I went quiet."}
    assert client.post("/v1/entries", json=entry, headers=h).status_code == 201
    return h


def _no_retrieval(*_: Any, **__: Any) -> Any:
    raise AssertionError("a crisis question must not reach retrieval")


def test_ask_with_crisis_language_answers_with_safety_only(
    client: TestClient,
    headers: dict[str, str],
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(container.retrievers, "for_user", _no_retrieval)
    with caplog.at_level(logging.DEBUG):
        r = client.post("/v1/ask", json={"question": CRISIS_TEXT}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["safety"]["level"] == "crisis"
    assert body["abstained"] is True and body["citations"] == []
    assert body["answer"] == body["safety"]["message"]
    assert {"name", "contact", "url"} <= set(body["safety"]["resources"][0])
    assert "better off without me" not in caplog.text


def test_ask_without_crisis_language_has_no_safety(
    client: TestClient, headers: dict[str, str]
) -> None:
    q = {"question": "what do I do when Jonah is late?"}
    r = client.post("/v1/ask", json=q, headers=headers)
    assert r.status_code == 200 and r.json()["safety"] is None


def test_a_past_mention_adds_resources_and_still_answers(
    client: TestClient, headers: dict[str, str]
) -> None:
    q = "Years ago I used to self-harm; what do I do when Jonah is late?"
    body = client.post("/v1/ask", json={"question": q}, headers=headers).json()
    assert body["safety"]["level"] == "concern"
    assert body["answer"] != body["safety"]["message"]


def test_new_entry_with_crisis_language_is_saved_and_carries_safety(
    client: TestClient, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    entry = {"id": "c1", "date": "2024-02-01", "text": f"Another fight. {CRISIS_TEXT}"}
    with caplog.at_level(logging.DEBUG):
        r = client.post("/v1/entries", json=entry, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["safety"]["level"] == "crisis"
    assert "better off without me" not in caplog.text
    saved = client.get("/v1/entries/c1", headers=headers)
    assert saved.status_code == 200 and saved.json()["text"] == entry["text"]
    calm = {"id": "c2", "date": "2024-02-02", "text": "We talked it through and I felt calm."}
    assert client.post("/v1/entries", json=calm, headers=headers).json()["safety"] is None


def test_cli_ask_prints_the_safety_message_and_resources(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.cli import common, main

    with container.sessions() as session:
        get_or_create_user(session, "sam")
        session.commit()
    monkeypatch.setattr(common, "container", lambda: container)
    monkeypatch.setattr(container.retrievers, "for_user", _no_retrieval)
    runner = CliRunner()
    plain = runner.invoke(main.app, ["ask", CRISIS_TEXT, "--user", "sam"], env={"COLUMNS": "200"})
    assert plain.exit_code == 0, plain.output
    message = load_rules().messages["self"].replace("{about}", "question")
    assert " ".join(message.split()[:6]) in " ".join(plain.output.split())
    assert "988" in plain.output and "116 123" in plain.output
    as_json = runner.invoke(main.app, ["ask", CRISIS_TEXT, "--user", "sam", "--json"])
    body = json.loads(as_json.output)
    assert body["safety"]["level"] == "crisis" and body["abstained"] is True


# ------------------------------------------------------------- the learned stage


def test_trained_classifier_round_trips_through_its_file() -> None:
    """What training writes is what run time reads: same probabilities after JSON."""
    from eval.crisis_train import fit, training_texts
    from service.safety.classifier import TrainedClassifier

    rules = load_rules()
    rows = [r for r in load_dataset() if r.split == "dev"][:80]
    emb = WordHashEmbeddings()
    trained = fit(*training_texts(rows, ["we had tea"], rules), emb, "fake")
    again = TrainedClassifier.from_json(json.loads(json.dumps(trained.to_json())))
    texts = ["i want to die", "we had tea and talked about the weekend"]
    vecs = np.asarray(emb.embed_documents(texts), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    assert np.allclose(trained.proba(texts, vecs), again.proba(texts, vecs), atol=1e-4)
    assert again.vocabulary == trained.vocabulary


def test_level_at_replays_other_thresholds() -> None:
    from service.safety.detector import Assessment, Scored

    a = Assessment(level=None, scored=[Scored(0.5, False, "crisis", "", "suicidal")])
    assert a.level_at(0.6, 0.9) is None
    assert a.level_at(0.4, 0.9) == "concern"
    assert a.level_at(0.4, 0.45) == "crisis"
    q = Assessment(level=None, scored=[Scored(0.95, True, "crisis", "", "suicidal")])
    assert q.level_at(0.4, 0.9) == "concern"  # a question never gets crisis from the model
    past = Assessment(level=None, scored=[Scored(0.95, False, "concern", "past", "self_harm")])
    assert past.level_at(0.4, 0.9) == "concern"


def test_a_crisis_head_decides_the_crisis_band() -> None:
    """v2 models: the concern head gives resources, the crisis head alone the crisis."""
    from service.safety.detector import Assessment, Scored

    both = Assessment(level=None, scored=[Scored(0.2, False, "crisis", "", "suicidal", 0.9)])
    assert both.level_at(0.5, 0.8) == "crisis"  # sure of crisis, whatever concern says
    assert both.level_at(0.5, 0.95) is None
    concern = Assessment(level=None, scored=[Scored(0.6, False, "crisis", "", "suicidal", 0.1)])
    assert concern.level_at(0.5, 0.8) == "concern"
    q = Assessment(level=None, scored=[Scored(0.9, True, "crisis", "", "suicidal", 0.9)])
    assert q.level_at(0.5, 0.8) == "concern"  # a question: never crisis from the model
    past = Assessment(level=None, scored=[Scored(0.9, False, "concern", "past", "suicidal", 0.9)])
    assert past.level_at(0.5, 0.8) == "concern"


# ------------------------------------------------------------- reading the whole text


@pytest.mark.parametrize(
    "text",
    [
        "I have had no thoughts of hurting myself this week.",  # negation
        "There is no way I would ever hurt myself.",
        "I'm not suicidal, just tired of Jonah lying.",
        "kms if this bus doesn't come",  # hyperbole about a small everyday thing
        "I will die if this meeting runs over again.",
    ],
)
def test_negation_and_hyperbole_are_not_flagged(text: str) -> None:
    assert assess(text).level is None


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # being hit by words, news or a realisation: a figure of speech
        ("Lina saying 'not yet' about moving in hit me so hard. Is it her or the past?", None),
        ("Hearing that hit me really hard.", None),
        ("It hit me that he was gone.", None),
        # "hit me up": slang for getting in touch (v4)
        ("what do i do when my daughter only hits me up for money", None),
        ("he hit me up last night about the job", None),
        ("My dad hits me when he drinks.", "crisis"),
        # being hit by a person stays violence, whatever comes before
        ("He hit me so hard I fell.", "crisis"),
        ("He started shouting and hit me so hard I fell.", "crisis"),
        ("She hit me.", "crisis"),
    ],
)
def test_hit_me_is_violence_only_when_a_person_hits(text: str, level: str | None) -> None:
    assert assess(text).level == level


@pytest.mark.parametrize(
    "text",
    [
        # reported speech: someone else's words
        "A patient told the nurse she wanted to kill herself, and I keep thinking about it.",
        "My friend texted me that she wants to die and I did not know what to say.",
        # the past told as past: resources at most, never the answer replaced
        "Years ago I tried to kill myself, but that is long behind me now.",
        "When I was fifteen I cut myself. I am thirty now and doing well.",
    ],
)
def test_reported_speech_and_the_past_are_never_crisis(text: str) -> None:
    assert assess(text).level != "crisis"


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # v5: everyday sentences rules v4 put into crisis (EmpatheticDialogues dev, the dev
        # journals), each beside the crisis it must not lose
        ("I felt guilty my cell phone was going to die while working.", None),
        ("On the ferris wheel it felt like I was going to die.", None),
        ("An old lady ran a stop sign and almost hit me in the crosswalk.", None),
        ("A gush of throw up hit me in the face.", None),
        ("The wind hit me in the face when I opened the door.", None),
        ("My brother did a back flip off the roof and landed in the pool.", None),
        ("The boys dragged me to the mess for a birthday beer.", None),
        ("Kevin pulled me into the dispatch office this morning.", None),
        ("I don't want to live with strangers forever.", None),
        ("She said 'I'll pay you back by Christmas, promise'.", None),
        ("My grandmother says 'ta'aburnee', I want to die before you.", None),
        ("I want to die.", "crisis"),
        ("I'm planning to kill myself tonight.", "crisis"),
        ("I'm going to end my life.", "crisis"),
        ("I don't want to live anymore.", "crisis"),
        ("I don't want to live in this world.", "crisis"),
        ("He hit me again last night.", "crisis"),
        ("He pulled me into the bedroom and slammed me against the wall.", "crisis"),
        ("I'm going to jump off the bridge tonight.", "crisis"),
        ("He said I'll pay for this.", "crisis"),
    ],
)
def test_rules_v5_everyday_false_alarms_and_the_crises_beside_them(
    text: str, level: str | None
) -> None:
    assert assess(text).level == level


def test_one_crisis_sentence_in_a_long_entry_is_found() -> None:
    ordinary = (
        "We went to the market and bought apples. Jonah cooked and we watched a film. "
        "The neighbours had a party and the music went on until late. "
    )
    text = ordinary * 8 + "I have decided to kill myself this weekend. " + ordinary * 4
    assert len(text.split()) > 300
    a = assess(text)
    assert a.level == "crisis" and a.kinds == ["suicidal"]
    assert assess(ordinary * 12).level is None


def test_notices_name_the_text_they_are_about_and_never_echo_it() -> None:
    text = "Another fight. I keep thinking everyone would be better off without me."
    for about in ("question", "situation", "entry"):
        s = detect_crisis(text, about=about)  # type: ignore[arg-type]
        assert s is not None and s.about == about
        assert f"your {about}" in s.message
        assert "better off" not in s.message and "{about}" not in s.message
    concern = detect_crisis("Years ago I used to self-harm.", about="entry")
    assert concern is not None and concern.level == "concern"
    assert "your entry" in concern.message
    # Gentle: short, no alarm words, no diagnosis.
    for msg in load_rules().messages.values():
        assert len(msg) < 450
        assert not any(w in msg.lower() for w in ("urgent", "warning", "alert", "diagnos", "!"))


# ------------------------------------------------------------ real posts (C-SSRS)


def test_cssrs_dev_loads_with_its_levels_and_stable_folds() -> None:
    from eval.datasets.cssrs import fold_of
    from eval.datasets.cssrs import load_split as load_cssrs

    posts = load_cssrs("dev")
    counts = Counter(p.severity for p in posts)
    assert counts == {0: 231, 1: 118, 2: 191, 3: 44, 4: 18, 5: 31, 6: 100}  # SOURCE.md
    assert all(p.crisis == (p.severity >= 4) and p.concern == (p.severity >= 1) for p in posts)
    folds = Counter(fold_of(p.id, 5) for p in posts)
    assert set(folds) == set(range(5)) and min(folds.values()) > 100
    assert fold_of(posts[0].id, 5) == fold_of(posts[0].id, 5)


def test_cssrs_report_counts_recall_by_level_and_false_alarms() -> None:
    from eval.crisis_eval import cssrs_report

    levels: list[tuple[int, str | None]] = [
        (0, None),
        (0, "concern"),
        (0, "crisis"),
        (0, None),
        (1, "concern"),
        (2, None),
        (2, "concern"),
        (4, "crisis"),
        (6, "concern"),
    ]
    r = cssrs_report(levels)
    assert r["n"] == 9 and r["level0_crisis"] == 0.25 and r["level0_any"] == 0.5
    assert r["level2_resources_recall"] == 0.75  # 3 of the 4 posts at level 2 or more
    assert r["level4_crisis_recall"] == 0.5 and r["level4_crisis_precision"] == 0.5
    assert r["by_level"]["2"] == {"n": 2, "resources_shown": 0.5, "crisis": 0.0}
    assert "text" not in json.dumps(r)


def test_journals_fall_whole_into_one_fold() -> None:
    """A journal's entries are read out of fold by a model that saw none of its entries."""
    from eval.crisis_cssrs import journal_fold, journal_groups

    groups = journal_groups()
    assert {"maya", "theo", "ha", "mt"} <= set(groups) and len(groups) >= 18
    folds = journal_fold(list(groups), 5)
    assert set(folds.values()) == set(range(5))
    assert all(
        e.id.startswith(f"{name}:") and not e.crisis for name in groups for e in groups[name]
    )


def test_v2_thresholds_keep_every_journal_under_its_concern_bound() -> None:
    """The policy: the crisis threshold is the lowest that spares level 0, ED and the
    journals; the concern threshold the lowest that leaves each journal one concern."""
    from eval.crisis_cssrs import OutOfFold, choose_thresholds_v2, figures
    from eval.crisis_eval import Example
    from eval.datasets.cssrs import Post
    from service.safety.detector import Assessment, Scored

    def unit(p: float, pc: float = -1.0) -> Assessment:
        return Assessment(level=None, scored=[Scored(p, False, "crisis", "", "suicidal", pc)])

    posts = [(Post(f"p-{i:x}", "", 0), unit(0.3, 0.2)) for i in range(20)]
    posts += [(Post(f"q-{i:x}", "", 5), unit(0.9, 0.8)) for i in range(10)]
    ed = [("ed-dev", Example("e1", "", False, "none", False, "ed-dev", 0), unit(0.1, 0.1))]
    journals = [("j1", f"a{i}", unit(0.5 if i < 2 else 0.2, 0.3)) for i in range(10)]
    journals += [("j2", f"b{i}", unit(0.6 if i < 1 else 0.2, 0.1)) for i in range(10)]
    t, ct = choose_thresholds_v2(OutOfFold(posts, ed, journals))
    assert ct == 0.31  # above every level-0 post and journal entry's crisis probability
    assert t == 0.51  # j1's two entries at 0.5 would be two concerns; j2's one is allowed
    f = figures(OutOfFold(posts, ed, journals), t, ct)
    assert f["journals"]["per_journal"]["j1"] == {"entries": 10, "concern": 0, "crisis": 0}
    assert f["journals"]["max_concern_entries"] == 1
    assert f["cssrs_dev"]["level4_crisis_recall"] == 1.0


def test_a_whole_text_model_gives_concern_from_the_whole_only() -> None:
    """v2 recipe: one odd sentence of a long entry no longer raises concern alone; the
    whole text still may, and any sentence may still reach crisis."""
    from service.safety.detector import Assessment, Scored

    sentence = Scored(0.8, False, "crisis", "", "suicidal", 0.2, gives_concern=False)
    whole = Scored(0.3, False, "crisis", "", "suicidal", 0.2)
    assert Assessment(level=None, scored=[sentence, whole]).level_at(0.5, 0.9) is None
    assert Assessment(level=None, scored=[sentence, whole]).level_at(0.25, 0.9) == "concern"
    sure = Scored(0.8, False, "crisis", "", "suicidal", 0.95, gives_concern=False)
    assert Assessment(level=None, scored=[sure, whole]).level_at(0.5, 0.9) == "crisis"


def test_concern_units_round_trip_through_the_model_file() -> None:
    import dataclasses

    from eval.crisis_train import fit, training_texts
    from service.safety.classifier import TrainedClassifier

    rows = [r for r in load_dataset() if r.split == "dev"][:40]
    trained = fit(*training_texts(rows, ["we had tea"], load_rules()), WordHashEmbeddings(), "x")
    whole = dataclasses.replace(trained, concern_whole=True)
    assert TrainedClassifier.from_json(json.loads(json.dumps(whole.to_json()))).concern_whole
    assert not TrainedClassifier.from_json(trained.to_json()).concern_whole


def test_a_kernel_concern_head_round_trips_through_its_files(tmp_path: Any) -> None:
    """v3: the SVM's support vectors go to an .npz beside the readable file; run time
    (numpy only) reproduces scikit-learn's decision values and reads them back."""
    from eval.crisis_cssrs import fit_kernel
    from service.safety.classifier import TrainedClassifier

    rules = load_rules()
    rows = [r for r in load_dataset() if r.split == "dev"][:120]
    assert {r.crisis for r in rows} == {True, False}
    emb = WordHashEmbeddings()
    trained = fit_kernel(rows, emb, rules, "fake")
    assert trained.kernel is not None and trained.kernel.gamma > 0
    np.savez_compressed(tmp_path / "k.npz", **trained.kernel.arrays())
    doc = json.loads(json.dumps(trained.to_json("k.npz")))
    assert doc["kernel"]["support_vectors"] == trained.kernel.support.shape[0]
    assert "tfidf" not in doc and "embedding" not in doc

    def arrays(name: str) -> dict[str, np.ndarray]:
        with np.load(tmp_path / name) as npz:
            return {k: npz[k] for k in npz.files}

    again = TrainedClassifier.from_json(doc, arrays)
    texts = [r.text for r in rows[:20]]
    vecs = np.asarray(emb.embed_documents(texts), dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    assert np.allclose(trained.proba(texts, vecs), again.proba(texts, vecs), atol=1e-6)
    # in-sample, the head puts its own training rows on the right side of 0.5
    right = (again.proba(texts, vecs) > 0.5) == np.asarray([r.crisis for r in rows[:20]])
    assert right.sum() >= 18, right
    with pytest.raises(ValueError, match="arrays"):
        TrainedClassifier.from_json(doc)


def test_a_v3_question_gets_concern_from_the_concern_threshold() -> None:
    """v3: "why do I even try anymore" gets resources like a statement would; still
    never crisis from the model. v2 models keep the old rule (crisis threshold only)."""
    from service.safety.detector import Assessment, Scored

    v2 = Scored(0.8, True, "crisis", "", "suicidal", 0.2)
    v3 = Scored(0.8, True, "crisis", "", "suicidal", 0.2, question_concern=True)
    assert Assessment(level=None, scored=[v2]).level_at(0.5, 0.9) is None
    assert Assessment(level=None, scored=[v3]).level_at(0.5, 0.9) == "concern"
    assert Assessment(level=None, scored=[v3]).level_at(0.85, 0.9) is None
    sure = Scored(0.99, True, "crisis", "", "suicidal", 0.99, question_concern=True)
    assert Assessment(level=None, scored=[sure]).level_at(0.5, 0.9) == "concern"


def test_the_question_bound_holds_when_thresholds_are_chosen() -> None:
    """The journals' own questions to trustlens bound the concern threshold (v3)."""
    from eval.crisis_cssrs import QUESTION_CONCERN_MAX, OutOfFold, choose_thresholds_v2
    from eval.crisis_eval import Example
    from eval.datasets.cssrs import Post
    from service.safety.detector import Assessment, Scored

    def unit(p: float, question: bool = False) -> Assessment:
        s = Scored(p, question, "crisis", "", "suicidal", 0.1, question_concern=True)
        return Assessment(level=None, scored=[s])

    posts = [(Post(f"q-{i:x}", "", 5), unit(0.9)) for i in range(10)]
    ed = [("ed-dev", Example("e1", "", False, "none", False, "ed-dev", 0), unit(0.1))]
    journals = [("j1", "a1", unit(0.2))]
    n = 300
    over = int(QUESTION_CONCERN_MAX * n) + 1  # one more than the bound allows at 0.6
    questions = [("j1", unit(0.6 if i < over else 0.2, True)) for i in range(n)]
    t, _ = choose_thresholds_v2(OutOfFold(posts, ed, journals, questions))
    assert t == 0.61
    t_free, _ = choose_thresholds_v2(OutOfFold(posts, ed, journals, questions[over:]))
    assert t_free == 0.21
