"""Builds every component from settings, once per process.

Each provider (entry store, vector index, embeddings, LLM) is chosen by settings and
can be passed in instead, which is how tests swap in fake embeddings or a Chroma
server without touching the code that uses them.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import TYPE_CHECKING

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.embedding import SentenceTransformerEmbeddings
from ingest.indexing import Indexer
from ingest.pipeline import Importer
from ingest.store import UserEntries, init_db, make_engine
from ingest.tagging import Tagger
from ingest.vector_index import ChromaIndex, make_chroma_client
from service.answer.extractive import ExtractiveAnswerer
from service.answer.llm import LLMAnswerer, make_chat_model
from service.ask.ask_service import Answerer, AskService
from service.insight import experiments as _experiments  # noqa: F401  (its table, before create_all)
from service.retrieval.hybrid import HybridRetriever
from service.retrieval.lexical import LexicalIndex
from service.safety.detector import Safety, detect_crisis
from service.safety.llm_check import LLMCrisisCheck
from service.settings import Settings

if TYPE_CHECKING:
    from service.insight.insight_service import InsightService


class Container:
    def __init__(
        self,
        settings: Settings,
        *,
        embeddings: Embeddings | None = None,
        chroma_client: ClientAPI | None = None,
        chat_model: BaseChatModel | None = None,
    ):
        self.settings = settings
        if settings.database_url is None or settings.chroma_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings.resolved_database_url)
        self.sessions = init_db(self.engine)
        self._chroma_client = chroma_client
        self._embeddings = embeddings
        self._chat_model = chat_model
        self.lexical = LexicalIndex()

    @cached_property
    def chroma_client(self) -> ClientAPI:
        return self._chroma_client or make_chroma_client(
            self.settings.chroma_url, str(self.settings.chroma_path)
        )

    @cached_property
    def index(self) -> ChromaIndex:
        return ChromaIndex(self.chroma_client, self.settings.chroma_collection)

    @cached_property
    def embeddings(self) -> Embeddings:
        return self._embeddings or SentenceTransformerEmbeddings(
            self.settings.embedding_model,
            batch_size=self.settings.embedding_batch_size,
            device=self.settings.embedding_device,
        )

    @property
    def model_name(self) -> str:
        return getattr(self.embeddings, "model_name", type(self.embeddings).__name__)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(
            self.sessions,
            self.index,
            self.embeddings,
            self.model_name,
            chunk_max_words=self.settings.chunk_max_words,
            tagger=self.tagger,
        )

    @cached_property
    def tagger(self) -> Tagger:
        """Labels chunks at ingest; trained once per (model, training set), cached on disk."""
        return Tagger(self.embeddings, self.model_name, cache_dir=self.settings.data_dir / "models")

    @cached_property
    def importer(self) -> Importer:
        return Importer(self.sessions, self.indexer)

    @cached_property
    def chat_model(self) -> BaseChatModel | None:
        """The configured OpenAI-compatible model; None in the default extractive mode."""
        if self.settings.llm == "extractive":
            return None
        return self._chat_model or make_chat_model(
            self.settings.llm_base_url or "",
            self.settings.llm_model or "",
            self.settings.llm_api_key.get_secret_value(),
            self.settings.llm_timeout_s,
        )

    @cached_property
    def answerer(self) -> Answerer:
        chat = self.chat_model
        if chat is None:
            return ExtractiveAnswerer(self.embeddings)
        return LLMAnswerer(chat)

    @cached_property
    def safety_reviewer(self) -> LLMCrisisCheck | None:
        """With an LLM configured, a second opinion on texts the gate is unsure about."""
        chat = self.chat_model
        return None if chat is None else LLMCrisisCheck(chat)

    def detect_crisis(self, text: str) -> Safety | None:
        """The safety gate as the service runs it: patterns, the learned stage on this
        container's embeddings, then the LLM's second opinion when one is configured."""
        return detect_crisis(text, self.embeddings, self.safety_reviewer)

    @cached_property
    def ask_service(self) -> AskService:
        return AskService(self)

    @cached_property
    def insight_service(self) -> InsightService:
        from service.insight.insight_service import InsightService

        return InsightService(self)

    def revision(self, user_id: str) -> int:
        with self.sessions() as session:
            return UserEntries(session, user_id).revision()

    def retriever(
        self,
        user_id: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
        mode: str = "hybrid",
    ) -> HybridRetriever:
        return HybridRetriever(
            user_id=user_id,
            index=self.index,
            embeddings=self.embeddings,
            lexical=self.lexical,
            revision=lambda: self.revision(user_id),
            k=self.settings.retrieval_k,
            since=since,
            until=until,
            mode=mode,  # type: ignore[arg-type]
        )

    def close(self) -> None:
        self.engine.dispose()
