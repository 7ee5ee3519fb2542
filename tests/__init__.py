"""trustlens tests; the folders mirror the source folders (``ingest/``, ``service/<feature>/``,
``eval/``). Shared fixtures live in ``conftest.py``, fakes in ``fakes.py`` and
``openai_stub.py``, data in ``fixtures/``."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project root
