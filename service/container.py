"""The composition root: builds every component from settings, once per process, and
hands each feature service exactly the typed collaborators it needs.

Components (chosen by settings, each can be passed in instead, which is how tests swap
in fake embeddings or a Chroma server): the SQL engine and sessions, the Chroma client
and index, the embeddings, the tagger, the indexer and importer, the lexical cache, the
LLM (None in extractive mode), the answerer, the safety gate and the retriever factory.
Feature services (``entries``, ``ask``, ``search``, ``insight``, ``experiments``,
``patterns``, ``me``, ``users``, ``export``, ``health``, ``mcp``) are built from those; no
service ever sees this container, so a reader (and mypy) can follow every call from a
route to the component it reaches.
"""

from __future__ import annotations

import json
import os
from functools import cached_property

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from ingest.embedding import SentenceTransformerEmbeddings
from ingest.episodes import EpisodeDetector
from ingest.index_queue import IndexWorker
from ingest.indexing import Indexer
from ingest.pipeline import Importer
from ingest.store import EntryVersions, chunk_texts, make_engine, make_sessions
from ingest.tagging import Tagger
from ingest.vector_index import ChromaIndex, compact_embedded, make_chroma_client
from prompts import ENV_VERSIONS
from service.answer.evidence import EvidencePolicy
from service.answer.extractive import ExtractiveAnswerer
from service.answer.llm import LLMAnswerer, make_chat_model
from service.ask.people import JournalPeople
from service.ask.service import Answerer, AskService
from service.ask.situations import Situations
from service.db.migrate import ensure_schema
from service.entries.service import EntriesService
from service.experiments.service import ExperimentsService
from service.export.service import ExportService
from service.health.service import HealthService
from service.insight.journal import Journals
from service.insight.service import InsightService
from service.mcp.service import McpService
from service.me.service import MeService
from service.patterns.service import PatternsService
from service.retrieval.factory import Retrievers
from service.retrieval.lexical import LexicalIndex
from service.safety.gate import SafetyGate
from service.safety.llm_check import LLMCrisisCheck
from service.search.service import SearchService
from service.settings import Settings
from service.users.service import UsersService


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
        if settings.asset_versions:
            # The asset loader (prompts/) is shared with ingest, which cannot see settings:
            # it reads the same variable, so settings given in code reach it too.
            os.environ[ENV_VERSIONS] = json.dumps(settings.asset_versions)
        if settings.uses_data_dir:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(settings.resolved_database_url)
        self.keyring = settings.keyring()
        ensure_schema(self.engine, self.keyring)
        self.sessions = make_sessions(self.engine, self.keyring)
        self._chroma_client = chroma_client
        self._embeddings = embeddings
        self._chat_model = chat_model
        self.lexical = LexicalIndex()

    # ------------------------------------------------------------------ components
    @cached_property
    def chroma_client(self) -> ClientAPI:
        return self._chroma_client or make_chroma_client(
            self.settings.chroma_url, str(self.settings.chroma_path)
        )

    @cached_property
    def entry_versions(self) -> EntryVersions:
        """Per-entry version tokens, read once per revision for every reader."""
        return EntryVersions(self.sessions)

    @cached_property
    def index(self) -> ChromaIndex:
        index = ChromaIndex(
            self.chroma_client,
            self.settings.chroma_collection,
            chunk_texts(self.sessions),
            self.entry_versions,
        )
        # A collection written before encryption at rest keeps chunk text as documents:
        # rewrite it without (once; a no-op check afterwards).
        if index.strip_documents() and self.settings.chroma_url is None:
            compact_embedded(self.settings.chroma_path)
        return index

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
    def tagger(self) -> Tagger:
        """Labels chunks at ingest with the shipped model (``prompts/models/tagger``)."""
        return Tagger(self.embeddings, self.model_name)

    @cached_property
    def indexer(self) -> Indexer:
        return Indexer(
            self.sessions,
            self.index,
            self.embeddings,
            self.model_name,
            chunk_max_words=self.settings.chunk_max_words,
            tagger=self.tagger,
            detector=self.detector,
        )

    @cached_property
    def index_worker(self) -> IndexWorker:
        """Drains the durable index queue (a thread while serving, inline in the CLI)."""
        return IndexWorker(self.sessions, self.indexer, batch_size=self.settings.index_batch_size)

    @cached_property
    def detector(self) -> EpisodeDetector:
        """Episodes and retrospective telling at ingest (``prompts/models/episodes``)."""
        return EpisodeDetector(self.embeddings, self.model_name)

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
    def gate(self) -> SafetyGate:
        """Patterns, the learned stage on these embeddings, then (with an LLM) its second
        opinion on texts the offline gate is unsure about, the person's names hidden."""
        chat = self.chat_model
        if chat is None:
            return SafetyGate(self.embeddings)
        return SafetyGate(self.embeddings, LLMCrisisCheck(chat), self.journal_people.names)

    @cached_property
    def journal_people(self) -> JournalPeople:
        """Vocabularies and people lists, shared by the planner and every LLM request."""
        return JournalPeople(self.sessions)

    @cached_property
    def retrievers(self) -> Retrievers:
        return Retrievers(
            self.sessions, self.index, self.embeddings, self.lexical, self.settings.retrieval_k
        )

    # ------------------------------------------------------------ feature services
    @cached_property
    def journals(self) -> Journals:
        """Each person's journal as the insight features read it, kept per entry version."""
        return Journals(self.sessions, self.entry_versions)

    @cached_property
    def insight(self) -> InsightService:
        return InsightService(
            self.sessions,
            self.retrievers,
            self.gate,
            self.settings.max_situation_chars,
            self.journals,
        )

    @cached_property
    def ask(self) -> AskService:
        return AskService(
            self.sessions,
            self.retrievers,
            self.answerer,
            self.gate,
            self.insight,
            self.journal_people,
            EvidencePolicy(min_relevance=self.settings.min_relevance),
            self.settings.max_question_chars,
            Situations(self.embeddings),
        )

    @cached_property
    def entries(self) -> EntriesService:
        return EntriesService(
            self.settings,
            self.sessions,
            self.index,
            self.indexer,
            self.index_worker,
            self.importer,
            self.gate,
            self.insight,
        )

    @cached_property
    def search(self) -> SearchService:
        return SearchService(self.sessions, self.retrievers, self.settings.max_question_chars)

    @cached_property
    def mcp(self) -> McpService:
        """The MCP tools: the same services as the API, then the cap on verbatim text."""
        return McpService(
            self.ask,
            self.search,
            self.insight,
            self.patterns,
            self.entries,
            self.gate,
            self.settings.mcp_max_quotes,
        )

    @cached_property
    def experiments(self) -> ExperimentsService:
        return ExperimentsService(self.sessions)

    @cached_property
    def patterns(self) -> PatternsService:
        return PatternsService(self.sessions, self.indexer)

    @cached_property
    def me(self) -> MeService:
        return MeService(self.sessions, self.engine, self.index, self.journals)

    @cached_property
    def users(self) -> UsersService:
        return UsersService(self.sessions)

    @cached_property
    def export(self) -> ExportService:
        return ExportService(self.sessions)

    @cached_property
    def health(self) -> HealthService:
        s = self.settings
        return HealthService(
            self.engine,
            self.chroma_client,
            self.index,
            s.data_dir if s.uses_data_dir else None,
            s.min_free_bytes,
        )

    def close(self) -> None:
        if "index_worker" in self.__dict__:
            self.index_worker.stop()
        self.engine.dispose()
