"""The safety object of every response that can carry one (ask, reflect, entries, write)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Level = Literal["crisis", "concern"]
# Which text the notice is about; named so a person knows what was read, never quoted.
About = Literal["question", "situation", "entry", "text"]


class Resource(BaseModel):
    name: str
    contact: str = Field(description="How to reach it: a number, or how to text or chat.")
    url: str | None = None


class Safety(BaseModel):
    """What the person sees instead of (``crisis``) or beside (``concern``) an insight."""

    level: Level
    message: str
    resources: list[Resource]
    about: About = Field(
        default="text",
        description="Which text raised it (question, situation or entry); never echoed.",
    )
