"""Prompt templates and guided-practice texts, kept as versioned files.

Files live at ``prompts/<name>/<version>/<part>.md`` so a change of wording is a new
version beside the old one, and an evaluation can name the version it ran.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

DEFAULT_VERSION = "v1"


@lru_cache
def load_prompt(name: str, part: str, version: str = DEFAULT_VERSION) -> str:
    """The text of ``prompts/<name>/<version>/<part>.md``."""
    path = resources.files(__package__).joinpath(name, version, f"{part}.md")
    if not path.is_file():
        raise FileNotFoundError(f"no prompt {name}/{version}/{part}.md")
    return path.read_text(encoding="utf-8")
