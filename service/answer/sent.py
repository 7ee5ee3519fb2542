"""What an LLM request carried, as the person may read it (``sent_to_llm``).

Every request that leaves the process is rendered here from the same prompt and inputs
the chain sends, so what a response says was sent is what the endpoint received, with
the names already replaced by placeholders (``service.answer.pseudonyms``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.prompts import ChatPromptTemplate

Sent = list[dict[str, str]]  # {role, content} per message, in the order sent

_ROLES = {"human": "user", "ai": "assistant"}


def as_sent(prompt: ChatPromptTemplate, inputs: dict[str, Any]) -> Sent:
    """The messages ``prompt`` makes of ``inputs``, with the roles the API uses."""
    return [
        {"role": _ROLES.get(m.type, m.type), "content": str(m.content)}
        for m in prompt.format_messages(**inputs)
    ]
