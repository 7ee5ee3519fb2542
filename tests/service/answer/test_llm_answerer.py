"""The LLM answerer against a real OpenAI-compatible HTTP server (``tests.openai_stub``).

The container builds a real ``ChatOpenAI`` from settings; only the server is scripted.
Whatever the model replies, only verbatim quotes from the cited excerpt survive.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.store import create_user, issue_api_key
from prompts import load_prompt
from service.answer.llm import LLMAnswerer
from service.app import create_app
from service.container import Container
from service.settings import Settings
from tests.conftest import llm_settings
from tests.fakes import WordHashEmbeddings
from tests.openai_stub import OpenAIStub

ENTRIES = {
    "j1": (
        "2024-01-10",
        'Jonah said "okay" and went to bed. I didn\'t say anything. I went quiet\n'
        "and stayed quiet until morning.",
    ),
    "j2": (
        "2024-03-05",
        "Jonah forgot the cabin booking. I felt let down again and I went quiet "
        "for the whole evening.",
    ),
    "s1": ("2024-02-14", "Sam borrowed my bike and returned it broken. We laughed over pancakes."),
}
QUESTION = "what did I do when Jonah let me down and I went quiet?"
SOURCE = re.compile(r"\[(\d+)\] (\d{4}-\d{2}-\d{2}) \(entry ([^)\s]+)\)\n")


def sources_in(body: dict[str, Any]) -> dict[str, int]:
    """entry id -> source number, as the request numbered them."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return {eid: int(n) for n, _date, eid in SOURCE.findall(user)}


def reply_with(make: Callable[[dict[str, int]], Any]) -> Callable[[dict[str, Any]], str]:
    """A scripted reply built from the source numbers the request actually used."""

    def reply(body: dict[str, Any]) -> str:
        return json.dumps(make(sources_in(body)))

    return reply


def claim(statement: str, *cites: tuple[Any, str]) -> dict[str, Any]:
    return {"statement": statement, "citations": [{"source": s, "quote": q} for s, q in cites]}


@pytest.fixture
def llm(tmp_path: Path, stub: OpenAIStub) -> Iterator[Container]:
    """A container whose answerer talks to the stub server; nothing else is faked."""
    c = Container(llm_settings(tmp_path, stub), embeddings=WordHashEmbeddings())
    yield c
    c.close()


@pytest.fixture
def uid(llm: Container) -> str:
    with llm.sessions() as s:
        user_id = create_user(s, "maya").id
        s.commit()
    for eid, (date, text) in ENTRIES.items():
        assert llm.entries.save_entry(user_id, id=eid, date=date, text=text, tags=None).indexed
    return user_id


def ask(c: Container, user_id: str, question: str = QUESTION) -> dict[str, Any]:
    out = c.ask.ask(user_id, question).model_dump()
    # Fields added on top of the answer contract; neither applies to these questions.
    assert out.pop("safety") is None
    assert out.pop("behaviors") == []
    assert out.pop("sent_to_llm") is None  # only with the request's sent_to_llm flag
    assert out.pop("plan")["kind"] == "lookup"  # every question here asks about one event
    return out


# -------------------------------------------------------------------------- wiring


def test_container_builds_a_real_chat_openai_for_the_endpoint(
    llm: Container, stub: OpenAIStub
) -> None:
    from langchain_openai import ChatOpenAI

    answerer = llm.answerer
    assert isinstance(answerer, LLMAnswerer)
    chat = answerer.chain.steps[1]  # type: ignore[attr-defined]
    assert isinstance(chat, ChatOpenAI)
    assert chat.model_name == "stub"
    assert chat.openai_api_base == stub.base_url


def test_request_carries_prompt_numbered_sources_and_question(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    ask(llm, uid)
    assert len(stub.requests) == 1
    req = stub.requests[0]
    assert req.path == "/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer not-needed"
    assert req.body["model"] == "stub"
    assert req.body["temperature"] == 0
    assert [m["role"] for m in req.messages] == ["system", "user"]
    # The system prompt is prompts/answer/v1/system.md, rendered ({{ }} are literal braces).
    system_md = load_prompt("answer", "system", "v1")
    assert req.content_of("system") == system_md.replace("{{", "{").replace("}}", "}")
    assert "Reply with one JSON object and nothing else" in req.content_of("system")
    user = req.content_of("user")
    # Names on the person's people list (here Jonah, from the entries) leave as
    # placeholders (service/answer/pseudonyms.py); everything else is sent as written.
    assert llm.ask.people(uid) == ["Jonah"]
    assert "Jonah" not in user

    def hidden(text: str) -> str:
        return text.replace("Jonah", "Person A")

    assert user.startswith("Journal excerpts (each with its number, date and entry id):\n\n[1] ")
    assert user.endswith(f"\n\nQuestion: {hidden(QUESTION)}\n")
    numbers = sources_in(req.body)
    assert set(numbers) == {"j1", "j2"}  # s1 shares no words with the question
    assert sorted(numbers.values()) == [1, 2]
    for eid, n in numbers.items():
        date, text = ENTRIES[eid]
        assert f"[{n}] {date} (entry {eid})\n{hidden(text)}" in user
    human_md = load_prompt("answer", "human", "v1")
    sources = "\n\n".join(
        f"[{n}] {ENTRIES[e][0]} (entry {e})\n{hidden(ENTRIES[e][1])}"
        for e, n in sorted(numbers.items(), key=lambda kv: kv[1])
    )
    assert user == human_md.format(sources=sources, question=hidden(QUESTION))


def test_no_evidence_means_no_request_and_an_abstention(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    out = ask(llm, uid, "xylophone zeppelin quasar")
    assert stub.requests == []
    assert out == {
        "question": "xylophone zeppelin quasar",
        "answer": "I couldn't find anything in your journal about "
        '"xylophone", "zeppelin" or "quasar".',
        "abstained": True,
        "mode": "llm",
        "citations": [],
    }


# ------------------------------------------------------------------------ grounding


def test_fabricated_claim_is_dropped_and_the_real_one_kept(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    stub.reply = reply_with(
        lambda n: {
            "abstain": False,
            "claims": [
                claim(
                    "You went quiet for the evening.",
                    (n["j2"], "I went quiet for the whole evening"),
                ),
                claim("You threw his phone.", (n["j2"], "I threw his phone in the river")),
            ],
        }
    )
    out = ask(llm, uid)
    assert out == {
        "question": QUESTION,
        "answer": "From your journal:\n"
        '- You went quiet for the evening. (2024-03-05: "I went quiet for the whole evening")',
        "abstained": False,
        "mode": "llm",
        "citations": [
            {"entry_id": "j2", "date": "2024-03-05", "quote": "I went quiet for the whole evening"}
        ],
    }
    assert "phone" not in out["answer"]


def test_claim_keeps_only_its_verbatim_citations(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    stub.reply = reply_with(
        lambda n: {
            "claims": [
                claim(
                    "You went quiet.",
                    (n["j2"], "I went quiet for the whole evening"),
                    (n["j2"], "I sulked for the whole evening"),  # not in the entry
                    (n["j2"], "I went quiet for the whole evening"),  # repeated
                ),
            ]
        }
    )
    out = ask(llm, uid)
    assert out["citations"] == [
        {"entry_id": "j2", "date": "2024-03-05", "quote": "I went quiet for the whole evening"}
    ]
    assert "sulked" not in out["answer"]


def test_curly_quotes_and_whitespace_map_back_to_the_exact_entry_text(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    stub.reply = reply_with(
        lambda n: {
            "claims": [
                claim(
                    "You said nothing back.",
                    (n["j1"], "Jonah said \u201cokay\u201d and went to bed.  I didn\u2019t say"),
                ),
                claim("You stayed quiet.", (n["j1"], " I went quiet and stayed quiet ")),
            ]
        }
    )
    out = ask(llm, uid)
    text = ENTRIES["j1"][1]
    assert out["citations"] == [
        {
            "entry_id": "j1",
            "date": "2024-01-10",
            "quote": 'Jonah said "okay" and went to bed. I didn\'t say',
        },
        {"entry_id": "j1", "date": "2024-01-10", "quote": "I went quiet\nand stayed quiet"},
    ]
    for c in out["citations"]:
        assert c["quote"] in text
    assert out["answer"] == (
        "From your journal:\n"
        '- You said nothing back. (2024-01-10: "Jonah said "okay" and went to bed. '
        "I didn't say\")\n"
        '- You stayed quiet. (2024-01-10: "I went quiet\nand stayed quiet")'
    )


def test_citations_to_unknown_source_numbers_are_dropped(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    stub.reply = reply_with(
        lambda n: {
            "claims": [
                claim("Out of range.", (len(n) + 1, "I went quiet")),
                claim("Zero.", (0, "I went quiet")),
                claim("Negative.", (-1, "I went quiet")),
                claim("Not a number.", ("two", "I went quiet")),
                claim("Missing.", (None, "I went quiet")),
                claim("A number as text.", (str(n["j2"]), "I felt let down again")),
            ]
        }
    )
    out = ask(llm, uid)
    assert out["abstained"] is False
    assert out["citations"] == [
        {"entry_id": "j2", "date": "2024-03-05", "quote": "I felt let down again"}
    ]
    assert out["answer"] == (
        'From your journal:\n- A number as text. (2024-03-05: "I felt let down again")'
    )


def test_a_real_quote_cited_to_the_wrong_source_is_dropped(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    # "I felt let down again" is in j2, but the model says it is from j1's excerpt.
    stub.reply = reply_with(
        lambda n: {"claims": [claim("Misattributed.", (n["j1"], "I felt let down again"))]}
    )
    out = ask(llm, uid)
    assert (out["abstained"], out["citations"]) == (True, [])


def test_a_quote_from_an_entry_not_given_as_a_source_is_dropped(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    # s1 was not retrieved for this question; quoting it cannot be grounded.
    stub.reply = reply_with(
        lambda n: {"claims": [claim("Bikes.", (n["j1"], "Sam borrowed my bike"))]}
    )
    out = ask(llm, uid)
    assert (out["abstained"], out["citations"]) == (True, [])


def test_fenced_json_reply_is_parsed(llm: Container, uid: str, stub: OpenAIStub) -> None:
    def reply(body: dict[str, Any]) -> str:
        n = sources_in(body)
        payload = {"claims": [claim("You felt let down.", (n["j2"], "I felt let down again"))]}
        return "```json\n" + json.dumps(payload) + "\n```"

    stub.reply = reply
    out = ask(llm, uid)
    assert out["abstained"] is False
    assert [c["quote"] for c in out["citations"]] == ["I felt let down again"]


# ----------------------------------------------------------------------- abstaining


ABSTAIN_REPLIES = [
    "You usually go quiet and withdraw.",  # prose, not JSON
    '{"abstain": true, "claims": []}',
    '{"abstain": true}',
    # Abstain wins even when claims are present.
    '{"abstain": true, "claims": [{"statement": "x", '
    '"citations": [{"source": 1, "quote": "Jonah"}]}]}',
    '{"claims": []}',
    '{"claims": "none"}',
    '{"claims": [{"statement": "No citations."}]}',
    '{"claims": [{"statement": 5, "citations": [{"source": 1, "quote": "Jonah"}]}]}',
    '{"claims": [{"statement": "x", "citations": [{"source": 1, "quote": "   "}]}]}',
    '{"claims": [{"statement": "x", "citations": ["Jonah"]}]}',
    '["not", "an", "object"]',
    "",
    '{"claims": [',  # truncated
]


@pytest.mark.parametrize("reply", ABSTAIN_REPLIES)
def test_unusable_replies_abstain(llm: Container, uid: str, stub: OpenAIStub, reply: str) -> None:
    stub.reply = reply
    out = ask(llm, uid)
    assert len(stub.requests) == 1
    assert out == {
        "question": QUESTION,
        "answer": 'I couldn\'t find anything in your journal about "Jonah" or "quiet".',
        "abstained": True,
        "mode": "llm",
        "citations": [],
    }


def test_server_error_abstains_instead_of_crashing(
    llm: Container, uid: str, stub: OpenAIStub
) -> None:
    stub.status = 500
    out = ask(llm, uid)
    assert (out["abstained"], out["citations"], out["mode"]) == (True, [], "llm")
    # One try plus the one retry the client is configured for.
    assert len(stub.requests) == 2


def test_client_error_abstains_without_retrying(llm: Container, uid: str, stub: OpenAIStub) -> None:
    stub.status = 400
    out = ask(llm, uid)
    assert (out["abstained"], out["citations"]) == (True, [])
    assert len(stub.requests) == 1


def test_slow_server_times_out_and_abstains(tmp_path: Path, stub: OpenAIStub) -> None:
    c = Container(llm_settings(tmp_path, stub, llm_timeout_s=0.3), embeddings=WordHashEmbeddings())
    try:
        with c.sessions() as s:
            user_id = create_user(s, "maya").id
            s.commit()
        date, text = ENTRIES["j2"]
        c.entries.save_entry(user_id, id="j2", date=date, text=text, tags=None)
        stub.delay_s = 1.0
        stub.reply = reply_with(
            lambda n: {"claims": [claim("x", (n["j2"], "I felt let down again"))]}
        )
        out = ask(c, user_id)
        assert (out["abstained"], out["citations"]) == (True, [])
        assert len(stub.requests) >= 1
    finally:
        stub.delay_s = 0.0
        c.close()


def test_unreachable_endpoint_abstains(tmp_path: Path) -> None:
    from tests.conftest import free_port

    settings = Settings(
        data_dir=tmp_path / "data",
        llm="openai",
        llm_base_url=f"http://127.0.0.1:{free_port()}/v1",
        llm_model="stub",
        llm_timeout_s=2,
    )
    c = Container(settings, embeddings=WordHashEmbeddings())
    try:
        with c.sessions() as s:
            user_id = create_user(s, "maya").id
            s.commit()
        date, text = ENTRIES["j2"]
        c.entries.save_entry(user_id, id="j2", date=date, text=text, tags=None)
        out = ask(c, user_id)
        assert (out["abstained"], out["citations"], out["mode"]) == (True, [], "llm")
    finally:
        c.close()


# ------------------------------------------------------------------------------ API


def test_api_ask_in_llm_mode(llm: Container, uid: str, stub: OpenAIStub) -> None:
    with llm.sessions() as s:
        from ingest.store import User

        user = s.get(User, uid)
        assert user is not None
        key = issue_api_key(s, user)
        s.commit()
    stub.reply = reply_with(
        lambda n: {
            "abstain": False,
            "claims": [
                claim("You went quiet.", (n["j2"], "I went quiet for the whole evening")),
                claim("You kept it in.", (n["j1"], "I didn't say anything.")),
            ],
        }
    )
    with TestClient(create_app(container=llm)) as client:
        r = client.post(
            "/v1/ask", json={"question": QUESTION}, headers={"Authorization": f"Bearer {key}"}
        )
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"question", "answer", "abstained", "mode", "citations"}
    assert (body["mode"], body["abstained"]) == ("llm", False)
    assert body["citations"] == [
        {"entry_id": "j2", "date": "2024-03-05", "quote": "I went quiet for the whole evening"},
        {"entry_id": "j1", "date": "2024-01-10", "quote": "I didn't say anything."},
    ]
    for c in body["citations"]:
        assert c["quote"] in ENTRIES[c["entry_id"]][1]
