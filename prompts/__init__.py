"""Versioned assets: prompt templates, taxonomies, guided practices, rules and trained models.

Every asset lives at ``prompts/<name>/<version>/<file>`` (trained models under
``prompts/models/<name>/<version>/``, each beside a ``training.json`` that names the data
and settings it was trained from), so a change is a new version beside the old one and
an evaluation can name the version it ran. This module is the one loader: nothing else
opens these files. The version of each asset is chosen by settings
(``TRUSTLENS_ASSET_VERSIONS``, e.g. ``{"taxonomy": "v1"}``; read from the environment
here because ``ingest`` loads assets too) and defaults to the latest one present.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

ENV_VERSIONS = "TRUSTLENS_ASSET_VERSIONS"
_VERSION = re.compile(r"^v(\d+)$")


def _root(name: str) -> Traversable:
    root = resources.files(__package__)
    for part in name.split("/"):
        root = root.joinpath(part)
    return root


@lru_cache
def versions(name: str) -> tuple[str, ...]:
    """The versions of an asset present in the package, oldest first."""
    root = _root(name)
    found = [p.name for p in root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return tuple(sorted(found, key=lambda v: int(v[1:])))


def chosen_version(name: str) -> str:
    """The version settings ask for, else the latest present."""
    wanted = json.loads(os.environ.get(ENV_VERSIONS) or "{}").get(name)
    have = versions(name)
    if wanted is not None:
        if wanted not in have:
            raise FileNotFoundError(
                f"{ENV_VERSIONS} asks for {name} {wanted}; present: {', '.join(have)}"
            )
        return str(wanted)
    if not have:
        raise FileNotFoundError(f"no versions of asset {name!r}")
    return have[-1]


def asset_files(name: str, suffix: str, version: str | None = None) -> list[str]:
    """The file names of one version of an asset that end with ``suffix``, sorted."""
    folder = _root(name).joinpath(version or chosen_version(name))
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(suffix))


def asset_path(name: str, filename: str, version: str | None = None) -> Traversable:
    path = _root(name).joinpath(version or chosen_version(name), filename)
    if not path.is_file():
        raise FileNotFoundError(f"no asset {name}/{version or chosen_version(name)}/{filename}")
    return path


@lru_cache
def load_text(name: str, filename: str, version: str | None = None) -> str:
    return asset_path(name, filename, version).read_text(encoding="utf-8")


def load_yaml(name: str, filename: str, version: str | None = None) -> Any:
    return yaml.safe_load(load_text(name, filename, version))


def load_json(name: str, filename: str, version: str | None = None) -> Any:
    return json.loads(load_text(name, filename, version))


def load_prompt(name: str, part: str, version: str | None = None) -> str:
    """The text of ``prompts/<name>/<version>/<part>.md``."""
    return load_text(name, f"{part}.md", version)
