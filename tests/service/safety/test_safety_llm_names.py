"""The safety gate's second opinion leaves the process without the person's names
(issue 14): the names on their people list reach the LLM as the answer's placeholders
("Person A"), the decision is the one the same reply gives the text as written, and
what was sent is shown in an ask's ``sent_to_llm``. Against the OpenAI-compatible stub
(``tests.openai_stub``), with the real classifier deciding which texts are unsure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.embedding import SentenceTransformerEmbeddings
from service.answer.llm import make_chat_model
from service.app import create_app
from service.container import Container
from service.safety.detector import Assessment, Hit
from service.safety.gate import SafetyGate
from service.safety.llm_check import LLMCrisisCheck
from tests.conftest import llm_settings
from tests.openai_stub import OpenAIStub
from tests.service.safety.test_safety_llm import NO, YES, _classifier_concern, _sev
from tests.service.test_api import new_user, post_entries

NAMES = ["Jonah", "Priya"]  # placeholders by sorted name: Jonah is A, Priya is B
NAMED = "I told Priya that nobody is going to have to put up with me much longer, not Jonah."
REPLIES = [(_sev(0), 200), (_sev(2), 200), (_sev(5), 200), (YES, 200), (NO, 200), (YES, 500)]


def names_in(r: Any) -> list[str]:
    sent = json.dumps(r.body).lower()
    return [n for n in NAMES if n.lower() in sent]


def as_received(r: Any) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in r.messages]


@pytest.fixture
def check(stub: OpenAIStub) -> LLMCrisisCheck:
    return LLMCrisisCheck(make_chat_model(stub.base_url, "stub", "key", timeout_s=10))


@pytest.mark.parametrize(("reply", "status"), REPLIES)
def test_the_model_gets_placeholders_and_the_decision_is_the_same(
    check: LLMCrisisCheck, stub: OpenAIStub, reply: str, status: int
) -> None:
    hid = NAMED.replace("Jonah", "Person A").replace("Priya", "Person B")
    stub.reset(reply=reply, status=status)
    plain = check.second_opinion(NAMED, _classifier_concern())
    # Without a people list (`trustlens safety check`), the names the text itself shows
    # are hidden the same way.
    assert names_in(stub.requests[0]) == []
    assert f'"""\n{hid}\n"""' in stub.requests[0].content_of("user")
    stub.reset(reply=reply, status=status)
    hidden = check.second_opinion(NAMED, _classifier_concern(), lambda: NAMES)
    assert stub.requests  # a 500 is retried once, with the same messages
    for req in stub.requests:
        assert names_in(req) == []
        assert f'"""\n{hid}\n"""' in req.content_of("user")
        assert hidden.sent_to_llm == as_received(req)  # what was sent, even when it failed
    assert hidden.assessment == plain.assessment  # what the model's rating decides


def test_the_people_list_is_read_only_when_the_model_is_asked(
    check: LLMCrisisCheck, stub: OpenAIStub
) -> None:
    read: list[int] = []

    def names() -> list[str]:
        read.append(1)
        return NAMES

    stub.reset(reply=_sev(5))
    sure = Assessment("crisis", [Hit("kill_myself", "suicidal", "crisis", "")])
    for a in (Assessment(None), sure):
        opinion = check.second_opinion(NAMED, a, names)
        assert opinion.assessment is a and opinion.sent_to_llm == []
    assert read == [] and stub.requests == []
    assert check.second_opinion(NAMED, _classifier_concern(), names).assessment.level == "crisis"
    assert read == [1]


# ------------------------------------------------- the gate in ask, reflect and write

JOURNAL = [
    {
        "id": "n1",
        "date": "2024-01-10",
        "text": "Dinner with Jonah and Priya. We talked about the move for hours.",
    },
    {
        "id": "n2",
        "date": "2024-02-02",
        "text": "I called Priya after work; Jonah had forgotten the cabin booking again.",
    },
]
# Each is unsure for the packaged classifier: a concern it alone raised.
QUESTION = (
    "I told Priya I keep thinking it will all be over soon and nobody will have to put up with me."
)
SITUATION = "Jonah left. It will all be over soon and nobody will have to put up with me."
ENTRY = (
    "After what Jonah did, I keep thinking it will all be over soon and nobody will have to "
    "put up with me."
)


def scripted(severity: int) -> Any:
    """The safety check gets ``severity``; the answer's request an abstention."""

    def reply(body: dict[str, Any]) -> str:
        system = next(m["content"] for m in body["messages"] if m["role"] == "system")
        return _sev(severity) if "safety reviewer" in system else '{"abstain": true}'

    return reply


@pytest.fixture
def llm(
    tmp_path: Path, stub: OpenAIStub, real_embeddings: SentenceTransformerEmbeddings
) -> Iterator[Container]:
    c = Container(llm_settings(tmp_path, stub), embeddings=real_embeddings)
    yield c
    c.close()


@pytest.mark.model
@pytest.mark.parametrize("severity", [5, 0])
def test_no_name_from_a_question_situation_or_entry_reaches_the_model(
    llm: Container, stub: OpenAIStub, severity: int
) -> None:
    unnamed = SafetyGate(llm.embeddings, llm.gate.reviewer)  # the same model, no names
    with TestClient(create_app(container=llm)) as client:
        maya = new_user(client, "maya")
        post_entries(client, maya, JOURNAL)
        uid = client.get("/v1/me", headers=maya).json()["user_id"]
        assert set(NAMES) <= set(llm.ask.people(uid))
        decided = {}
        for text, about in ((QUESTION, "question"), (SITUATION, "situation"), (ENTRY, "entry")):
            stub.reset(reply=scripted(severity))
            safety = unnamed.check(text, about)  # type: ignore[arg-type]
            # Without a people list only the names the text itself shows as names are
            # hidden ("I told Priya"), not "Jonah left." opening a sentence once.
            assert len(stub.requests) == 1
            decided[about] = None if safety is None else safety.level
        assert decided == dict.fromkeys(decided, "crisis" if severity else None)

        received = []
        entry = {"id": "n3", "date": "2024-03-01", "text": ENTRY}
        got = {}
        for about, path, body in (
            ("question", "/v1/ask", {"question": QUESTION}),
            ("situation", "/v1/reflect", {"situation": SITUATION}),
            ("entry", "/v1/entries", entry),
        ):
            stub.reset(reply=scripted(severity))
            r = client.post(path, json=body, headers=maya)
            assert r.status_code in (200, 201), r.text
            got[about] = r.json()["safety"]
            assert "safety reviewer" in stub.requests[0].content_of("system")
            received += stub.requests

    assert received and all(names_in(r) == [] for r in received)
    assert {k: v and v["level"] for k, v in got.items()} == decided
    for about, safety in got.items():
        assert safety is None or safety["about"] == about


@pytest.mark.model
def test_the_gates_request_comes_first_in_an_asks_sent_to_llm(
    llm: Container, stub: OpenAIStub
) -> None:
    with TestClient(create_app(container=llm)) as client:
        maya = new_user(client, "maya")
        post_entries(client, maya, JOURNAL)
        stub.reset(reply=scripted(2))  # concern: the question is still answered
        without = client.post("/v1/ask", json={"question": QUESTION}, headers=maya).json()
        stub.reset(reply=scripted(2))
        body = client.post(
            "/v1/ask", json={"question": QUESTION, "sent_to_llm": True}, headers=maya
        ).json()
    assert body["safety"]["level"] == "concern" and without["sent_to_llm"] is None
    first = stub.requests[0]
    assert all(names_in(r) == [] for r in stub.requests)
    assert "safety reviewer" in first.content_of("system")
    assert "Person B" in first.content_of("user")
    # Every message of every request, in the order sent: the gate's, then the answer's.
    assert body["sent_to_llm"] == [m for r in stub.requests for m in as_received(r)]
    assert body["sent_to_llm"][:2] == as_received(first)


def test_a_name_only_in_the_checked_text_is_hidden_after_the_list(
    check: LLMCrisisCheck, stub: OpenAIStub
) -> None:
    """A new entry can name someone the people list does not hold yet: that name is
    hidden too, with the letters after the list's, so the list's placeholders stay
    the ones every other request uses."""
    stub.reset(reply=_sev(2))
    check.second_opinion(NAMED, _classifier_concern(), lambda: ["Priya", "Zanele"])
    sent = stub.requests[0].content_of("user")
    assert names_in(stub.requests[0]) == []
    assert "I told Person A that" in sent and "not Person C." in sent  # Jonah: after B
