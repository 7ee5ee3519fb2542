"""The LLM answerer: any OpenAI-compatible endpoint through ``langchain-openai``.

The model sees the evidence as numbered sources and must reply with claims that cite
source numbers and quote them. We parse that reply and turn each citation into an
(entry id, date, quote) using the source it names; the grounding checker then drops
every quote that is not verbatim in that entry, and every claim left without one.
A reply that cannot be parsed becomes an abstention, never free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from prompts import load_prompt
from service.answer.evidence import Evidence
from service.answer.models import Claim, Draft
from service.answer.pseudonyms import Pseudonyms
from service.answer.sent import as_sent
from service.ask.schemas import Mode
from service.schemas import Citation


def make_chat_model(
    base_url: str, model: str, api_key: str, timeout_s: float = 60.0
) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=0,
        timeout=timeout_s,
        max_retries=1,
    )


def format_sources(evidence: list[Evidence]) -> str:
    return "\n\n".join(
        f"[{i}] {e.date} (entry {e.entry_id})\n{e.text}" for i, e in enumerate(evidence, 1)
    )


class LLMAnswerer:
    mode: Mode = "llm"

    def __init__(self, chat_model: BaseChatModel, prompt_version: str | None = None):
        self.prompt = prompt = ChatPromptTemplate.from_messages(
            [
                ("system", load_prompt("answer", "system", prompt_version)),
                ("human", load_prompt("answer", "human", prompt_version)),
            ]
        )
        self.chain: Runnable[dict[str, Any], Any] = prompt | chat_model | JsonOutputParser()

    def draft(self, question: str, evidence: list[Evidence], names: Sequence[str] = ()) -> Draft:
        """Ask the model. ``names`` (the person's people list) are replaced by stable
        placeholders in the question and the sources and put back in the reply; the
        messages as sent are kept on the draft (``sent_to_llm``)."""
        draft = Draft(question=question, mode="llm", intro="From your journal:")
        if not evidence:
            return draft
        sources = format_sources(evidence)
        ps = Pseudonyms(names, outgoing=[question, sources])
        inputs = {"question": ps.hide(question), "sources": ps.hide(sources)}
        draft.sent_to_llm = as_sent(self.prompt, inputs)
        try:
            reply = self.chain.invoke(inputs)
        except Exception:  # unparseable or failed reply: abstain rather than guess
            return draft
        draft.claims = parse_claims(_restored(reply, ps), evidence)
        return draft


def _restored(reply: Any, ps: Pseudonyms) -> Any:
    """The reply with every placeholder mapped back to the name it stands for."""
    if isinstance(reply, str):
        return ps.restore(reply)
    if isinstance(reply, list):
        return [_restored(v, ps) for v in reply]
    if isinstance(reply, dict):
        return {k: _restored(v, ps) for k, v in reply.items()}
    return reply


def parse_claims(reply: Any, evidence: list[Evidence]) -> list[Claim]:
    """Claims from the model's JSON; citations naming unknown sources are dropped."""
    if not isinstance(reply, dict) or reply.get("abstain") is True:
        return []
    claims = []
    for raw in reply.get("claims") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("statement"), str):
            continue
        cites = []
        for c in raw.get("citations") or []:
            if not isinstance(c, dict):
                continue
            try:
                n = int(c["source"])
            except (KeyError, TypeError, ValueError):
                continue
            quote = c.get("quote")
            if 1 <= n <= len(evidence) and isinstance(quote, str):
                ev = evidence[n - 1]
                # Quotes must come from the cited excerpt, not merely somewhere in the entry.
                if quote.strip() and _in_excerpt(quote, ev.text):
                    cites.append(Citation(entry_id=ev.entry_id, date=ev.date, quote=quote))
        if cites:
            statement = "- " + raw["statement"].strip()
            claims.append(Claim(statement=statement, citations=cites, show_quotes=True))
    return claims


def _in_excerpt(quote: str, excerpt: str) -> bool:
    from service.answer.grounding import locate_quote

    return locate_quote(quote, excerpt) is not None
