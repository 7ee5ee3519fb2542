"""The answer chain: retrieve → select evidence → draft → check grounding.

Built as a LangChain runnable so each step is traceable and swappable; the grounding
check is the last step for every answerer, so nothing unbacked leaves this chain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import (
    Runnable,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from sqlalchemy.orm import Session, sessionmaker

from ingest.store import UserEntries
from service.answer.evidence import Evidence, select_evidence, topic_of
from service.answer.grounding import finalize
from service.answer.models import AskResponse, Draft


class Answerer(Protocol):
    mode: str

    def draft(self, question: str, evidence: list[Evidence]) -> Draft: ...


def build_answer_chain(
    retriever: BaseRetriever,
    answerer: Answerer,
    sessions: sessionmaker[Session],
    user_id: str,
    min_relevance: float,
) -> Runnable[str, AskResponse]:
    def draft(inp: dict[str, Any]) -> Draft:
        docs: list[Document] = inp["docs"]
        return answerer.draft(inp["question"], select_evidence(docs, min_relevance))

    def check(d: Draft) -> AskResponse:
        ids = {c.entry_id for claim in d.claims for c in claim.citations}
        with sessions() as session:
            entries = UserEntries(session, user_id).get_many(ids)
            texts = {eid: e.text for eid, e in entries.items()}
            dates = {eid: e.date.isoformat() for eid, e in entries.items()}
        return finalize(d, texts, dates, topic_of(d.question))

    return (
        RunnableParallel(question=RunnablePassthrough(), docs=retriever)
        | RunnableLambda(draft)
        | RunnableLambda(check)
    )


class AskService:
    def __init__(self, container: Any):
        self.c = container

    def ask(
        self,
        user_id: str,
        question: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> AskResponse:
        retriever = self.c.retriever(user_id, since=since, until=until)
        chain = build_answer_chain(
            retriever, self.c.answerer, self.c.sessions, user_id, self.c.settings.min_relevance
        )
        return chain.invoke(question)
