"""LangChain's standard retriever tests (``langchain-tests``) for ``HybridRetriever``.

The retriever is built on a temporary container (SQLite + embedded Chroma) holding a
small journal, with the fake word-hash embeddings; every standard test runs unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from ingest.readers import read_path
from ingest.store import get_or_create_user
from service.container import Container
from service.retrieval.hybrid import HybridRetriever
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

ENTRIES = [
    '{"id": "e1", "date": "2024-01-03", "text": "Sam promised to call on Friday. The phone '
    'stayed quiet, and I felt let down again."}',
    '{"id": "e2", "date": "2024-01-09", "text": "I told Priya about the promotion before anyone '
    'else. She kept it to herself, which surprised me."}',
    '{"id": "e3", "date": "2024-02-14", "text": "Sam forgot our plans for Saturday. I said it was '
    'fine, but I was hurt."}',
    '{"id": "e4", "date": "2024-03-01", "text": "Mum read my messages without asking. I did not '
    'speak to her for two days."}',
    '{"id": "e5", "date": "2024-03-20", "text": "We talked honestly about the rent money. Sam '
    'apologised and paid me back the next week."}',
    '{"id": "e6", "date": "2024-04-11", "text": "Made soup and watched the rain. A quiet, calm '
    'evening on my own."}',
]


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _journal(self, tmp_path: Path) -> Iterator[None]:
        settings = Settings(data_dir=tmp_path / "data")
        container = Container(settings, embeddings=WordHashEmbeddings())
        journal = tmp_path / "journal.jsonl"
        journal.write_text("\n".join(ENTRIES) + "\n", encoding="utf-8")
        with container.sessions() as session:
            uid = get_or_create_user(session, "standard").id
            session.commit()
        container.importer.import_reads(uid, read_path(journal))
        self._params = {
            "user_id": uid,
            "index": container.index,
            "embeddings": container.embeddings,
            "lexical": container.lexical,
            "revision": lambda: container.retrievers.revision(uid),
            "k": 4,
        }
        yield
        container.close()

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self._params

    @property
    def retriever_query_example(self) -> str:
        return "Did Sam keep his promise?"
