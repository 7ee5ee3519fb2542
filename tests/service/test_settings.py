"""Settings: defaults that need nothing, TRUSTLENS_* variables, and clear refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from service import settings as settings_module
from service.settings import Settings, packaged_model_path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TRUSTLENS_* variable from the outside, and a fresh home folder."""
    for name in list(os.environ):
        if name.startswith("TRUSTLENS_"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)  # no stray .env is read from the repository
    return home


def test_defaults_are_embedded_and_offline(clean_env: Path) -> None:
    s = Settings()
    assert s.data_dir == clean_env / ".trustlens"
    assert s.database_url is None
    assert s.resolved_database_url == f"sqlite:///{clean_env / '.trustlens' / 'trustlens.db'}"
    assert s.chroma_url is None
    assert s.chroma_path == clean_env / ".trustlens" / "chroma"
    assert s.chroma_collection == "trustlens_chunks"
    assert s.llm == "extractive"
    assert s.llm_base_url is None
    assert s.llm_model is None
    assert s.admin_key is None
    assert s.min_relevance == 0.3
    assert s.embedding_model == packaged_model_path()
    assert s.embedding_device == "cpu"


def test_the_packaged_model_folder_exists() -> None:
    path = Path(packaged_model_path())
    assert path.is_dir()
    assert (path / "config.json").is_file() or (path / "modules.json").is_file()


def test_data_dir_moves_the_sqlite_file_and_chroma_folder(clean_env: Path, tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d")
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'd' / 'trustlens.db'}"
    assert s.chroma_path == tmp_path / "d" / "chroma"


def test_every_setting_reads_a_trustlens_prefixed_variable(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRUSTLENS_DATA_DIR", str(tmp_path / "env-data"))
    monkeypatch.setenv("TRUSTLENS_RETRIEVAL_K", "7")
    monkeypatch.setenv("TRUSTLENS_MIN_RELEVANCE", "0.45")
    monkeypatch.setenv("TRUSTLENS_CHROMA_COLLECTION", "other")
    monkeypatch.setenv("TRUSTLENS_ADMIN_KEY", "s3cret")
    monkeypatch.setenv("TRUSTLENS_CHROMA_URL", "http://chroma.internal:8001")
    monkeypatch.setenv("RETRIEVAL_K", "99")  # unprefixed: ignored
    s = Settings()
    assert s.data_dir == tmp_path / "env-data"
    assert s.retrieval_k == 7
    assert s.min_relevance == 0.45
    assert s.chroma_collection == "other"
    assert s.admin_key is not None and s.admin_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s)
    assert s.chroma_url == "http://chroma.internal:8001"


def test_llm_settings_from_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTLENS_LLM", "openai")
    monkeypatch.setenv("TRUSTLENS_LLM_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("TRUSTLENS_LLM_MODEL", "llama3.1:8b")
    monkeypatch.setenv("TRUSTLENS_LLM_API_KEY", "sk-test")
    s = Settings()
    assert (s.llm, s.llm_base_url, s.llm_model) == (
        "openai",
        "http://localhost:11434/v1",
        "llama3.1:8b",
    )
    assert s.llm_api_key.get_secret_value() == "sk-test"


def test_get_settings_reads_the_environment_once(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_module.get_settings.cache_clear()
    try:
        monkeypatch.setenv("TRUSTLENS_RETRIEVAL_K", "5")
        first = settings_module.get_settings()
        monkeypatch.setenv("TRUSTLENS_RETRIEVAL_K", "6")
        assert settings_module.get_settings() is first
        assert first.retrieval_k == 5
    finally:
        settings_module.get_settings.cache_clear()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/j", "postgresql+psycopg://u:p@db:5432/j"),
        ("postgresql+psycopg://u@db/j", "postgresql+psycopg://u@db/j"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("", None),
    ],
)
def test_database_url_is_normalised(clean_env: Path, given: str, expected: str | None) -> None:
    s = Settings(database_url=given)
    assert s.database_url == expected
    if expected is not None:
        assert s.resolved_database_url == expected


def test_postgres_url_from_the_environment_is_normalised(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUSTLENS_DATABASE_URL", "postgresql://me@localhost/journal")
    assert Settings().resolved_database_url == "postgresql+psycopg://me@localhost/journal"


@pytest.mark.parametrize("url", ["mysql://x", "mongodb://h/db", "/tmp/plain/path.db"])
def test_unsupported_database_urls_are_refused(clean_env: Path, url: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(database_url=url)
    msg = str(exc.value)
    assert "TRUSTLENS_DATABASE_URL must be sqlite:///... or postgresql+psycopg://..." in msg


def test_database_url_error_names_the_scheme(clean_env: Path) -> None:
    with pytest.raises(ValidationError, match="got scheme 'mysql'"):
        Settings(database_url="mysql://x")


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://host:21", "http://", "chroma"])
def test_bad_chroma_urls_are_refused(clean_env: Path, url: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(chroma_url=url)
    assert f"TRUSTLENS_CHROMA_URL must look like http://host:port, got '{url}'" in str(exc.value)


def test_https_chroma_url_is_accepted_and_empty_means_embedded(clean_env: Path) -> None:
    assert Settings(chroma_url="https://vectors.example.org").chroma_url == (
        "https://vectors.example.org"
    )
    assert Settings(chroma_url="").chroma_url is None


def test_openai_llm_needs_base_url_and_model(clean_env: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(llm="openai")
    assert "TRUSTLENS_LLM=openai needs TRUSTLENS_LLM_BASE_URL and TRUSTLENS_LLM_MODEL" in str(
        exc.value
    )


def test_openai_llm_names_only_what_is_missing(clean_env: Path) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(llm="openai", llm_base_url="http://localhost:8080/v1")
    msg = str(exc.value)
    assert "TRUSTLENS_LLM=openai needs TRUSTLENS_LLM_MODEL" in msg
    assert "TRUSTLENS_LLM_BASE_URL" not in msg


def test_unknown_llm_kind_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTLENS_LLM", "gpt4")
    with pytest.raises(ValidationError) as exc:
        Settings()
    assert exc.value.errors()[0]["loc"] == ("llm",)
    assert "'extractive' or 'openai'" in str(exc.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("retrieval_k", 0),
        ("min_relevance", 1.5),
        ("chunk_max_words", 4),
        ("embedding_batch_size", 0),
        ("llm_timeout_s", 0),
    ],
)
def test_out_of_range_numbers_are_refused(clean_env: Path, field: str, value: float) -> None:
    with pytest.raises(ValidationError) as exc:
        Settings(**{field: value})
    assert exc.value.errors()[0]["loc"] == (field,)
