"""The LLM's second opinion on texts the offline gate is unsure about, against a real
OpenAI-compatible HTTP server (``tests.openai_stub``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.embedding import SentenceTransformerEmbeddings
from ingest.store import create_user
from service.answer.llm import make_chat_model
from service.container import Container
from service.safety.detector import Assessment, Hit
from service.safety.llm_check import LLMCrisisCheck, unsure
from service.settings import Settings
from tests.conftest import ADMIN_KEY, llm_settings
from tests.openai_stub import OpenAIStub

YES = json.dumps({"crisis": True, "kind": "suicidal"})
NO = json.dumps({"crisis": False, "kind": "none"})
UNSURE_TEXT = "Nobody is going to have to put up with me much longer."


def _classifier_concern() -> Assessment:
    return Assessment("concern", [Hit("classifier:suicidal", "suicidal", "concern", "classifier")])


@pytest.fixture
def check(stub: OpenAIStub) -> LLMCrisisCheck:
    return LLMCrisisCheck(make_chat_model(stub.base_url, "stub", "key", timeout_s=10))


def test_only_a_concern_the_classifier_alone_raised_is_unsure() -> None:
    assert unsure(_classifier_concern())
    past = Hit("classifier:self_harm", "self_harm", "concern", "past")
    assert not unsure(Assessment("concern", [past]))  # a cue explained it: the past
    pattern = Hit("want_to_die", "suicidal", "concern", "joke")
    assert not unsure(Assessment("concern", [pattern]))
    assert not unsure(Assessment("crisis", [Hit("kill_myself", "suicidal", "crisis", "")]))
    assert not unsure(Assessment(None))


def test_a_yes_raises_concern_to_crisis(check: LLMCrisisCheck, stub: OpenAIStub) -> None:
    stub.reset(reply=YES)
    a = check.review(UNSURE_TEXT, _classifier_concern())
    assert a.level == "crisis" and a.hits[-1].rule == "llm:suicidal"
    assert len(stub.requests) == 1
    req = stub.requests[0]
    assert UNSURE_TEXT in req.content_of("user")
    assert "safety reviewer" in req.content_of("system")


@pytest.mark.parametrize(
    ("reply", "status"),
    [(NO, 200), ("not json at all", 200), (YES, 500), ('{"crisis": "maybe"}', 200)],
)
def test_no_error_or_nonsense_leaves_the_offline_decision(
    check: LLMCrisisCheck, stub: OpenAIStub, reply: str, status: int
) -> None:
    stub.reset(reply=reply, status=status)
    before = _classifier_concern()
    assert check.review(UNSURE_TEXT, before) is before


def test_sure_texts_never_reach_the_model(check: LLMCrisisCheck, stub: OpenAIStub) -> None:
    stub.reset(reply=YES)
    for a in (Assessment(None), Assessment("crisis", [Hit("x", "suicidal", "crisis", "")])):
        assert check.review("anything", a) is a
    assert stub.requests == []


def _container(tmp_path: Path, stub: OpenAIStub, emb: SentenceTransformerEmbeddings) -> Container:
    return Container(llm_settings(tmp_path, stub), embeddings=emb)


@pytest.mark.model
def test_ask_with_an_llm_escalates_an_unsure_question(
    tmp_path: Path, stub: OpenAIStub, real_embeddings: SentenceTransformerEmbeddings
) -> None:
    c = _container(tmp_path, stub, real_embeddings)
    try:
        with c.sessions() as s:
            uid = create_user(s, "sam").id
            s.commit()
        stub.reset(reply=YES)
        out = c.ask.ask(uid, UNSURE_TEXT)
        assert out.safety is not None and out.safety.level == "crisis"
        assert out.abstained and out.citations == []
        assert len(stub.requests) == 1  # the safety check; no answer was drafted
        stub.reset(reply=NO)
        out = c.ask.ask(uid, UNSURE_TEXT)
        assert out.safety is not None and out.safety.level == "concern"
        stub.reset(reply=YES)
        assert c.ask.ask(uid, "what do I do when someone is late?").safety is None
        assert all("safety reviewer" not in r.content_of("system") for r in stub.requests)
    finally:
        c.close()


def test_extractive_mode_has_no_reviewer(tmp_path: Path) -> None:
    c = Container(Settings(data_dir=tmp_path / "d", admin_key=ADMIN_KEY))  # type: ignore[arg-type]
    try:
        assert c.chat_model is None and c.gate.reviewer is None
    finally:
        c.close()


def _sev(n: int) -> str:
    return json.dumps({"severity": n, "kind": "suicidal" if n else "none"})


def test_a_c_ssrs_rating_of_zero_lowers_a_concern_the_classifier_alone_raised(
    check: LLMCrisisCheck, stub: OpenAIStub
) -> None:
    stub.reset(reply=_sev(0))
    assert check.review(UNSURE_TEXT, _classifier_concern()).level is None
    stub.reset(reply=_sev(2))  # agrees: unchanged
    assert check.review(UNSURE_TEXT, _classifier_concern()).level == "concern"
    stub.reset(reply=_sev(5))
    raised = check.review(UNSURE_TEXT, _classifier_concern())
    assert raised.level == "crisis" and raised.hits[-1].rule == "llm:suicidal"
    assert "C-SSRS" in stub.requests[-1].content_of("system")


def test_a_near_miss_may_be_raised_and_a_far_miss_never_asks(
    check: LLMCrisisCheck, stub: OpenAIStub
) -> None:
    from service.safety.detector import Scored

    near = Assessment(None, [], [Scored(check.threshold - 0.05, False, "crisis", "", "suicidal")])
    stub.reset(reply=_sev(3))
    assert check.review(UNSURE_TEXT, near).level == "concern"
    far = Assessment(None, [], [Scored(0.01, False, "crisis", "", "suicidal", 0.01)])
    stub.reset(reply=_sev(6))
    assert check.review("we had tea", far) is far and stub.requests == []


def test_it_never_lowers_a_crisis_and_a_timeout_changes_nothing(
    stub: OpenAIStub,
) -> None:
    fast = LLMCrisisCheck(make_chat_model(stub.base_url, "stub", "key", timeout_s=10))
    rules_crisis = Assessment("crisis", [Hit("kill_myself", "suicidal", "crisis", "")])
    stub.reset(reply=_sev(0))
    assert fast.review("anything", rules_crisis) is rules_crisis
    slow = LLMCrisisCheck(make_chat_model(stub.base_url, "stub", "key", timeout_s=0.3))
    stub.reset(reply=_sev(0), delay_s=2.0)
    before = _classifier_concern()
    assert slow.review(UNSURE_TEXT, before) is before
