"""``POST /v1/ask`` (the same JSON as ``trustlens ask --json``) and ``POST /v1/ask/stream``:
the answer chain's steps as server-sent events, then the answer.

Events, in order: ``step`` (``plan`` with the plan of the answer: kind, period, people,
labels; ``retrieve`` with the chunk count, ``draft`` with the claim count, ``check``), then
one ``answer`` whose data is exactly the JSON of ``POST /v1/ask``. A failure ends the
stream with an ``error`` event holding a problem document. Steps carry the plan and
counts, never journal text: a frontend shows progress while the answer is built, and the
answer when it is checked.

The chain is observed, not changed: ``AskService.ask`` is called as it is, with a
LangChain callback handler made ambient through the runnable-config context variable
(the chain's runnables read it when invoked without a config). Paths of ``ask`` that do
not run the chain (e.g. a safety response) simply send no steps before the answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.runnables.config import var_child_runnable_config

from service.ask.schemas import AskRequest, AskResponse
from service.deps import AskDep, CurrentUser

router = APIRouter(prefix="/v1", tags=["ask"])
log = logging.getLogger("trustlens.ask")

STEPS = ("retrieve", "draft", "check")
EXAMPLE = (
    'event: step\ndata: {"step": "plan", "plan": {"kind": "habit", "since": null, '
    '"until": null, "people": [], "labels": []}}\n\n'
    'event: step\ndata: {"step": "retrieve", "chunks": 12}\n\n'
    'event: step\ndata: {"step": "draft", "claims": 3}\n\n'
    'event: step\ndata: {"step": "check"}\n\n'
    'event: answer\ndata: {"question": "...", "answer": "...", "abstained": false, '
    '"mode": "extractive", "citations": []}\n\n'
)

# One server-sent event; ``data`` is a JSON document (a step, the answer, or a problem).
EVENT_SCHEMA = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["step", "answer", "error"]},
        "data": {"type": "string", "description": "JSON"},
    },
    "required": ["event", "data"],
}


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


class StepEvents(BaseCallbackHandler):
    """Turns the chain's step starts/ends into step events (counts only)."""

    def __init__(self, emit: Callable[[str | None], None]):
        self.emit = emit
        self.names: dict[UUID, str] = {}
        self.sent: set[str] = set()

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        name = kwargs.get("name") or ""
        if name in STEPS:
            self.names[run_id] = name

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        name = self.names.pop(run_id, None)
        if name is None or name in self.sent:
            return
        data: dict[str, Any] = {"step": name}
        if name == "retrieve" and isinstance(outputs, dict):
            data["chunks"] = len(outputs.get("docs") or [])
        elif name == "draft":
            data["claims"] = len(getattr(outputs, "claims", []) or [])
        self.send(data)

    def send(self, data: dict[str, Any]) -> None:
        if data["step"] in self.sent:
            return
        self.sent.add(data["step"])
        self.emit(sse("step", data))


@router.post("/ask")
def ask(body: AskRequest, user: CurrentUser, asker: AskDep) -> AskResponse:
    return asker.ask(
        user.id, body.question, since=body.since, until=body.until, show_sent=body.sent_to_llm
    )


@router.post(
    "/ask/stream",
    response_class=EventStreamResponse,
    responses={
        200: {
            "description": "Server-sent events: step events, then one answer event "
            "(the POST /v1/ask JSON).",
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA, "example": EXAMPLE}},
        }
    },
    summary="Ask, with progress as server-sent events",
)
async def ask_stream(body: AskRequest, user: CurrentUser, asker: AskDep) -> EventStreamResponse:
    asker.check_question(body.question)  # a 422 before the stream starts, not in-band
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def emit(chunk: str | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, chunk)

    def work() -> None:
        steps = StepEvents(emit)
        token = var_child_runnable_config.set({"callbacks": [steps]})
        try:
            resp = asker.ask(
                user.id,
                body.question,
                since=body.since,
                until=body.until,
                on_step=steps.send,
                show_sent=body.sent_to_llm,
            )
            emit(sse("answer", resp.model_dump(mode="json")))
        except Exception as exc:  # the stream has started: report in-band
            log.error("ask stream failed: %s", type(exc).__name__)
            emit(
                sse(
                    "error",
                    {
                        "type": "about:blank",
                        "title": "Internal Server Error",
                        "status": 500,
                        "detail": "The answer could not be completed.",
                    },
                )
            )
        finally:
            var_child_runnable_config.reset(token)
            emit(None)

    async def events() -> AsyncIterator[str]:
        task = asyncio.create_task(asyncio.to_thread(work))
        try:
            while (chunk := await queue.get()) is not None:
                yield chunk
        finally:
            await task

    return EventStreamResponse(events(), headers={"Cache-Control": "no-cache"})
