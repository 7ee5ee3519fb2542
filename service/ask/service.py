"""The answer chain: plan → retrieve → select evidence → draft → check grounding.

Built as a LangChain runnable so each step is traceable and swappable; the grounding
check is the last step for every answerer, so nothing unbacked leaves this chain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from langchain_core.documents import Document
from langchain_core.runnables import Runnable, RunnableLambda
from sqlalchemy.orm import Session, sessionmaker

from ingest.store import UserEntries
from service.answer.evidence import (
    Evidence,
    EvidencePolicy,
    quoted_list,
    select_evidence,
    topic_of,
    widen,
)
from service.answer.grounding import check_citations, finalize
from service.answer.models import Draft, abstention
from service.ask.answers import habit, origin, pattern, person, progress
from service.ask.answers.common import Drafted, Period
from service.ask.people import JournalPeople
from service.ask.periods import resolve_period, southern_hemisphere, strip_period
from service.ask.planner import LET_DOWN, Plan, asks_what_i_did, plan_question, tells_let_down
from service.ask.schemas import AskPlan, AskResponse, Mode
from service.ask.situations import Situations
from service.errors import check_free_text
from service.insight.habits import habit_answer, past_present_answer
from service.insight.reflect import is_past_present_question
from service.insight.service import InsightService, Journal
from service.query import QueryPlan, plan_query
from service.retrieval.factory import Retrievers
from service.retrieval.hybrid import HybridRetriever
from service.safety.gate import SafetyGate
from service.safety.schemas import Safety


class Answerer(Protocol):
    mode: Mode

    def draft(
        self, question: str, evidence: list[Evidence], names: Sequence[str] = ()
    ) -> Draft: ...


def build_answer_chain(
    retriever: HybridRetriever,
    answerer: Answerer,
    sessions: sessionmaker[Session],
    policy: EvidencePolicy,
    names: Sequence[str] = (),
    show_sent: bool = False,
) -> Runnable[str, AskResponse]:
    """question → AskResponse, for the user the retriever is bound to. ``names`` (the
    person's people list) never reach an LLM; ``show_sent`` adds what was sent to it."""
    user_id = retriever.user_id

    def retrieve(question: str) -> dict[str, Any]:
        plan = plan_query(question)
        r = retriever.model_copy(
            update={
                "expansions": plan.expansions,
                "expansion_weight": plan.expansion_weight,
                "k": max(retriever.k, 60) if plan.habit else retriever.k,
                "candidates": max(retriever.candidates, 60) if plan.habit else retriever.candidates,
            }
        )
        docs: list[Document] = r.invoke(plan.search_text)
        coverage = retriever.lexical.coverage(
            retriever.index, user_id, retriever.revision(), question
        )
        return {"plan": plan, "docs": docs, "coverage": coverage}

    def draft(inp: dict[str, Any]) -> Draft:
        plan: QueryPlan = inp["plan"]
        evidence = select_evidence(inp["docs"], plan, inp["coverage"], policy)
        with sessions() as session:
            entries = UserEntries(session, user_id).get_many(e.entry_id for e in evidence)
            evidence = [
                widen(e, entries[e.entry_id].text) for e in evidence if e.entry_id in entries
            ]
        return answerer.draft(plan.question, evidence, names)

    def check(d: Draft) -> AskResponse:
        ids = {c.entry_id for claim in d.claims for c in claim.citations}
        with sessions() as session:
            entries = UserEntries(session, user_id).get_many(ids)
            texts = {eid: e.text for eid, e in entries.items()}
            dates = {eid: e.date.isoformat() for eid, e in entries.items()}
        resp = finalize(d, texts, dates, topic_of(d.question))
        if show_sent:
            resp = resp.model_copy(update={"sent_to_llm": d.sent_to_llm or []})
        return resp

    return RunnableLambda(retrieve) | RunnableLambda(draft) | RunnableLambda(check)


class AskService:
    """Questions about one person's journal, answered from it alone (see the module doc)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        retrievers: Retrievers,
        answerer: Answerer,
        gate: SafetyGate,
        insight: InsightService,
        journal_people: JournalPeople,
        policy: EvidencePolicy,
        max_question_chars: int,
        situations: Situations | None = None,
    ):
        self.sessions = sessions
        self.retrievers = retrievers
        self.answerer = answerer
        self.gate = gate
        self.insight = insight
        self.journal_people = journal_people
        self.policy = policy
        self.max_question_chars = max_question_chars
        self.situations = situations

    def ask(
        self,
        user_id: str,
        question: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
        on_step: StepSink | None = None,
        show_sent: bool = False,
    ) -> AskResponse:
        """The safety gate first: crisis language gets resources, not an insight (nothing
        is retrieved or generated); gentler "concern" adds them to the answer.

        ``on_step`` (the stream) hears each step as it happens: the plan, then retrieve,
        draft and check with counts only, never text. ``show_sent`` puts every message
        sent to an LLM in ``sent_to_llm``: the gate's second opinion (when it asked one)
        first, then the answer's request; each request opens with its system message."""
        self.check_question(question)
        checked = self.gate.checked(question, "question", user_id)
        safety = checked.safety
        if safety is not None and safety.level == "crisis":
            resp = safety_response(question, self.answerer.mode, safety)
        else:
            resp = self._answer(user_id, question, since, until, on_step or _ignore, show_sent)
            resp = resp.model_copy(update={"safety": safety}) if safety else resp
        if show_sent:  # [] when nothing was sent: answered without an LLM
            sent = [*checked.sent_to_llm, *(resp.sent_to_llm or [])]
            resp = resp.model_copy(update={"sent_to_llm": sent})
        return resp

    def people(self, user_id: str) -> list[str]:
        """The people list (``service.ask.people``): what no LLM request carries."""
        return self.journal_people.names(user_id)

    def edit_people(self, user_id: str, add: list[str], remove: list[str]) -> list[str]:
        return self.journal_people.edit(user_id, add, remove)

    def check_question(self, question: str) -> None:
        """Not longer than ``TRUSTLENS_MAX_QUESTION_CHARS``, not blank (``Invalid``)."""
        check_free_text("question", question, self.max_question_chars)

    def _answer(
        self,
        user_id: str,
        question: str,
        since: dt.date | None,
        until: dt.date | None,
        on_step: StepSink,
        show_sent: bool = False,
    ) -> AskResponse:
        """Plan (kind, period, people, labels), then answer by kind from the person's own
        entries, labels and episodes; look-ups (and kinds with nothing to count) go
        through the retrieval chain. Every answer is checked by the grounding checker."""
        j = self.insight.journal(user_id)
        period, text = _period(question, j, since, until)
        vocab = self.journal_people.vocabulary(user_id, j.texts)
        plan = plan_question(text, vocab)
        public = AskPlan(
            kind=plan.kind,
            since=period.since,
            until=period.until,
            people=list(plan.people),
            labels=list(plan.labels),
        )
        on_step({"step": "plan", "plan": public.model_dump(mode="json")})
        if plan.subject_missing:
            resp = abstention(question, self.answerer.mode, _as_asked(question, plan))
        elif plan.kind == "past_present" and period.since is None and period.until is None:
            resp = self._past_present(user_id, question) or self._lookup(
                user_id, question, period, show_sent
            )
        else:
            readers = habit.Readers(self.situations, vocab.people)
            drafted = _draft(j, plan, period, readers) or _bounded_lookup(j, plan, period, text)
            if drafted is None:
                resp = self._lookup(user_id, question, period, show_sent)
                bounded = period.since is not None or period.until is not None
                if resp.abstained and bounded:
                    # "What happened with Gaz between February and April?": nothing close
                    # enough to the words, but the period and the person (or behaviour)
                    # the question names still select the entries it is about.
                    drafted = _within_period(j, plan, period)
                    if drafted is not None:
                        resp = _grounded(question, self.answerer.mode, drafted, j, period)
            else:
                on_step({"step": "retrieve", "chunks": len(drafted.citations)})
                on_step({"step": "draft", "claims": 1 + len(drafted.behaviors)})
                resp = _grounded(question, self.answerer.mode, drafted, j, period)
                on_step({"step": "check"})
        return resp.model_copy(update={"plan": public})

    def _lookup(
        self, user_id: str, question: str, period: Period, show_sent: bool = False
    ) -> AskResponse:
        """The retrieval chain (the question's own words, bounded by its period)."""
        plan = plan_query(question)
        retriever = self.retrievers.for_user(user_id, since=period.since, until=period.until)
        names = self.people(user_id) if self.answerer.mode == "llm" else []
        chain = build_answer_chain(
            retriever, self.answerer, self.sessions, self.policy, names, show_sent
        )
        resp: AskResponse = chain.invoke(question)
        if plan.habit and plan.labels and period.since is None and period.until is None:
            resp = self._with_behaviours(user_id, plan, resp)
        return resp

    def _with_behaviours(self, user_id: str, plan: QueryPlan, resp: AskResponse) -> AskResponse:
        """Add counted episodes to a habit answer ("in 5 of 8 episodes you ...")."""
        if resp.abstained:
            return resp
        # The episodes are the entries the answer found for the trigger (retrieval
        # matches it in the person's own words); the tagger says what they did in each.
        episodes = list(dict.fromkeys(c.entry_id for c in resp.citations))
        _, behaviours = self.insight.behaviours(user_id, plan.labels, among=episodes)
        text, public = habit_answer(plan.focus, behaviours)
        if not public:
            return resp
        # A behaviour's quote is usually inside the quote the answer already shows.
        merged = list(resp.citations)
        for c in (c for b in public for c in b.citations):
            if not any(m.entry_id == c.entry_id and c.quote in m.quote for m in merged):
                merged.append(c)
        return resp.model_copy(
            update={
                "answer": f"{text}\n\n{resp.answer}".strip(),
                "citations": merged,
                "behaviors": public,
            }
        )

    def _past_present(self, user_id: str, question: str) -> AskResponse | None:
        """'Is my fear about my partner, or about my past?': answered by reflecting."""
        r = self.insight.reflect(user_id, question)
        text, cites = past_present_answer(r)
        if not cites:
            return None
        return AskResponse(
            question=question,
            answer=text,
            abstained=False,
            mode=self.answerer.mode,
            citations=cites,
        )


def _is_past_present(question: str) -> bool:
    return is_past_present_question(question)


def safety_response(question: str, mode: Mode, safety: Safety) -> AskResponse:
    return AskResponse(
        question=question,
        answer=safety.message,
        abstained=True,
        mode=mode,
        citations=[],
        safety=safety,
    )


StepSink = Callable[[dict[str, Any]], None]


def _ignore(_: dict[str, Any]) -> None:
    return None


_SEASONS = re.compile(r"\b(?:spring|summer|autumn|fall|winter)\b", re.IGNORECASE)


def _southern(j: Journal) -> bool:
    """The journal's hemisphere, read only when a question names a season."""
    return southern_hemisphere(
        (dt.date.fromisoformat(j.dates[i]), text) for i, text in j.texts.items() if i in j.dates
    )


def _period(
    question: str, j: Journal, since: dt.date | None, until: dt.date | None
) -> tuple[Period, str]:
    """The period: the request's own since/until, else a time expression in the question
    resolved against the journal's last entry date (not today's). Returns it with the
    question's text without that expression, for planning and matching."""
    if since is not None or until is not None:
        return Period(since, until), question
    order = j.by_date()
    anchor = dt.date.fromisoformat(order[-1][0]) if order else None
    southern = _southern(j) if anchor is not None and _SEASONS.search(question) else False

    folded = j.folded()
    # An event of n words is tried as n, then fewer, words: each word's pass is done once.
    mentioning = functools.cache(lambda word: j.mentioning((word,)))

    def dated(words: tuple[str, ...]) -> Iterator[tuple[str, str]]:
        """(ISO date, folded text) of the entries that may mention every one of
        ``words``: one substring pass over the journal per word, not a test per entry."""
        may: set[str] | None = None
        for w in words:
            some = mentioning(w)
            if some is not None:
                may = some if may is None else may & some
        # None: no word could be looked for (outside ASCII), so every entry may hold them
        for i in j.texts if may is None else may:
            if i in j.dates:
                yield j.dates[i], folded[i]

    found = resolve_period(question, anchor, southern=southern, journal=dated)
    if found is None:
        return Period(), question
    return Period(found.since, found.until), strip_period(question, found)


def _draft(
    j: Journal, plan: Plan, period: Period, readers: habit.Readers = habit.Readers()
) -> Drafted | None:
    """The answer of a kind the journal's structure answers; None sends it to retrieval."""
    if plan.kind == "habit":
        return habit.answer(j, plan, period, readers)
    if plan.kind == "origin":
        return origin.answer(j, period)
    if plan.kind == "progress":
        return progress.answer(j, plan, period)
    if plan.kind == "person":
        return person.answer(j, plan.people, period)
    if plan.kind == "pattern" and plan.labels:
        return pattern.answer(j, plan, period)
    return None


def _bounded_lookup(j: Journal, plan: Plan, period: Period, text: str) -> Drafted | None:
    """A look-up bounded by a period is most often a small habit, person or pattern
    question over that period ("who let me down last winter and what did I do about
    it?", "what went on with Dario last summer?", "since January, who have I been
    checking up on?"): its answer is every entry of the period that the journal's
    structure selects, where retrieval would quote the one or two passages closest to
    the words. None when it names none of these (retrieval answers it)."""
    if plan.kind != "lookup" or (period.since is None and period.until is None):
        return None
    if tells_let_down(text):
        found = habit.answer(j, dataclasses.replace(plan, feeling=LET_DOWN), period)
        if found is not None:
            return found
    found = _within_period(j, plan, period)
    if found is None and asks_what_i_did(text):
        # "what did I do last autumn when things fell apart?": the writer's responses to
        # every episode of the period
        found = habit.answer(j, dataclasses.replace(plan, feeling=None), period)
    return found


def _within_period(j: Journal, plan: Plan, period: Period) -> Drafted | None:
    """A time-bounded look-up the retrieval chain could not answer: the entries of the
    period about the people it names, else those showing the behaviour it names."""
    if plan.people:
        return person.answer(j, plan.people, period)
    if plan.labels:
        return pattern.answer(j, plan, period)
    return None


def _grounded(question: str, mode: Mode, d: Drafted, j: Journal, period: Period) -> AskResponse:
    """Only citations backed verbatim by the person's own entries, inside the period; a
    count stays only while every counted episode keeps its citation."""
    inside = {e: t for e, t in j.texts.items() if period.holds(j.dates[e])}
    cites = check_citations(d.citations, inside, j.dates)
    if not cites:
        return abstention(question, mode, "this")
    behaviours = []
    for b in d.behaviors:
        checked = check_citations(b.citations, inside, j.dates)
        if len(checked) == len(b.citations):
            behaviours.append(b.model_copy(update={"citations": checked}))
    return AskResponse(
        question=question,
        answer=d.render(),
        abstained=False,
        mode=mode,
        citations=cites,
        behaviors=behaviours,
    )


def _as_asked(question: str, plan: Plan) -> str:
    """The missing subjects as the question spells them, quoted: '"Jonah"'."""
    words = []
    for term in plan.subject_missing:
        m = re.search(rf"\b{re.escape(term)}\b", question, re.IGNORECASE)
        words.append(m.group(0) if m else term)
    return quoted_list(words)
