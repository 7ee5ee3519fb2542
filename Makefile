# Two entry points for a fresh machine: `make demo` and `make test` (see README).
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install demo test lint pytest eval

# CPU torch first (pinned): an unpinned torch would pull a multi-GB CUDA build.
$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/trustlens demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Unit, API, store and isolation tests on real SQLite, PostgreSQL and Chroma.
pytest: install
	$(BIN)/pytest -m "not eval"

test: lint pytest

# Quality floors and benchmarks (real model, labelled data): separate from `make test`.
eval: install
	$(BIN)/pytest -m eval
