"""What the MCP tools do: each one is one call into the service the API route calls, then
the privacy cap on verbatim text. Nothing here answers, retrieves or decides safety on its
own: ask, reflect and write_entry are gated inside their services exactly as the API is,
and search (whose API route has no gate) runs the same ``SafetyGate`` first, so every
tool input is checked.

The cap (``max_quotes``): one call returns at most that many distinct verbatim passages
(citations, echoes, examples, search hits). Passages over the cap are dropped from their
lists and blanked out of any text that repeats them (an answer's quoted lines), and the
result says how many were withheld (``withheld_quotes``). A result under the cap is the
API's JSON unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from service.ask.schemas import AskRequest
from service.ask.service import AskService
from service.entries.schemas import entry_public, written_public
from service.entries.service import EntriesService
from service.insight.practices import load_practice, practice_names
from service.insight.service import InsightService
from service.patterns.service import PatternsService
from service.safety.gate import SafetyGate
from service.search.schemas import SearchRequest
from service.search.service import SearchService

WITHHELD = "[…]"


@dataclass
class _Budget:
    """Distinct verbatim passages kept so far, and those over the cap."""

    limit: int
    kept: set[tuple[str, str]] = field(default_factory=set)
    kept_texts: list[str] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)

    def admit(self, item: dict[str, Any]) -> bool:
        text = _verbatim(item)
        if text is None:
            return True
        key = (str(item.get("entry_id", "")), text)
        if key in self.kept:
            return True
        if len(self.kept) < self.limit:
            self.kept.add(key)
            self.kept_texts.append(text)
            return True
        self.withheld.append(text)
        return False


def _verbatim(item: dict[str, Any]) -> str | None:
    """The journal text an item carries: a quote, or a search hit's chunk."""
    if isinstance(item.get("quote"), str):
        return str(item["quote"])
    if isinstance(item.get("text"), str) and "start" in item and "entry_id" in item:
        return str(item["text"])
    return None


def _drop(data: Any, budget: _Budget) -> Any:
    if isinstance(data, list):
        return [_drop(x, budget) for x in data if not isinstance(x, dict) or budget.admit(x)]
    if isinstance(data, dict):
        return {k: _drop(v, budget) for k, v in data.items()}
    return data


def _blank(data: Any, gone: list[str], keep: frozenset[str]) -> Any:
    if isinstance(data, list):
        return [_blank(x, gone, keep) for x in data]
    if isinstance(data, dict):
        return {k: _blank(v, gone, keep) for k, v in data.items()}
    if isinstance(data, str) and data not in keep:
        for text in gone:
            data = data.replace(text, WITHHELD)
    return data


def cap_quotes(data: dict[str, Any], limit: int) -> dict[str, Any]:
    """``data`` with at most ``limit`` distinct verbatim passages (see the module doc)."""
    budget = _Budget(limit)
    out = _drop(data, budget)
    # A passage inside a kept one is shown anyway; only the rest are withheld.
    gone = [t for t in dict.fromkeys(budget.withheld) if not any(t in k for k in budget.kept_texts)]
    if not budget.withheld:
        return out
    out = _blank(out, sorted(gone, key=len, reverse=True), frozenset(budget.kept_texts))
    out["withheld_quotes"] = len(dict.fromkeys(budget.withheld))
    return out


class McpService:
    """The MCP tools for one person per call (the caller passes the user id)."""

    def __init__(
        self,
        ask: AskService,
        search: SearchService,
        insight: InsightService,
        patterns: PatternsService,
        entries: EntriesService,
        gate: SafetyGate,
        max_quotes: int,
    ):
        self.asker = ask
        self.searcher = search
        self.insight = insight
        self.patterns_service = patterns
        self.entries = entries
        self.gate = gate
        self.max_quotes = max_quotes

    def _capped(self, data: dict[str, Any]) -> dict[str, Any]:
        return cap_quotes(data, self.max_quotes)

    def ask(
        self, user_id: str, question: str, since: dt.date | None, until: dt.date | None
    ) -> dict[str, Any]:
        body = AskRequest(question=question, since=since, until=until)
        resp = self.asker.ask(user_id, body.question, since=body.since, until=body.until)
        return self._capped(resp.model_dump(mode="json"))

    def search(
        self, user_id: str, query: str, k: int, since: dt.date | None, until: dt.date | None
    ) -> dict[str, Any]:
        body = SearchRequest(query=query, k=k, since=since, until=until)
        self.searcher.check_query(body.query)
        safety = self.gate.check(query, user_id=user_id)
        if safety is not None and safety.level == "crisis":
            return {"query": query, "hits": [], "safety": safety.model_dump(mode="json")}
        out = self.searcher.search(user_id, body).model_dump(mode="json")
        if safety is not None:
            out["safety"] = safety.model_dump(mode="json")
        return self._capped(out)

    def patterns(self, user_id: str) -> dict[str, Any]:
        return self._capped(self.patterns_service.patterns_report(user_id))

    def reflect(self, user_id: str, situation: str) -> dict[str, Any]:
        return self._capped(self.insight.reflect(user_id, situation).model_dump(mode="json"))

    def practice(self, user_id: str, name: str) -> dict[str, Any]:
        return self._capped(self.insight.practice(user_id, name).model_dump(mode="json"))

    def progress(self, user_id: str) -> dict[str, Any]:
        return self._capped(self.insight.progress(user_id).model_dump(mode="json"))

    def write_entry(self, user_id: str, date: dt.date, text: str) -> dict[str, Any]:
        w = self.entries.create(user_id, id=None, date=date.isoformat(), text=text, tags=[])
        return self._capped(written_public(w).model_dump(mode="json", exclude_none=False))

    def entry(self, user_id: str, entry_id: str) -> str:
        """One of the person's entries, as JSON (``EntryNotFound`` when it is not theirs)."""
        e, indexed = self.entries.require(user_id, entry_id)
        return json.dumps(entry_public(e, indexed).model_dump(mode="json"), ensure_ascii=False)

    @staticmethod
    def practice_names() -> list[str]:
        return practice_names()

    def practice_prompt(self, user_id: str, name: str) -> str:
        """A guided practice as a message for the assistant: its purpose and its questions,
        personalised with the person's own (capped) quotes, asked one at a time."""
        p = self.practice(user_id, name)
        lines = [
            f'Guide me through the trustlens practice "{p["title"]}": {p["purpose"]}',
            "Ask me these questions one at a time and wait for my answer before the next. "
            "Quote my journal only as given here (each quote is verbatim, with its date); "
            "do not guess about me beyond what I write.",
            "",
        ]
        for i, q in enumerate(p["questions"], 1):
            lines.append(f"{i}. {q['question']}")
            for c in q["citations"]:
                lines.append(f'   - {c["date"]} ({c["entry_id"]}): "{c["quote"]}"')
        return "\n".join(lines)

    @staticmethod
    def practice_info(name: str) -> tuple[str, str]:
        p = load_practice(name)
        return p.title, p.purpose
