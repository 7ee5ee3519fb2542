"""Request models of the pattern routes (responses are the report dictionaries)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class VerdictBody(BaseModel):
    verdict: Literal["confirm", "reject"] = Field(
        description="confirm: the label is right (kept even if the model drops it); "
        "reject: it is wrong (removed everywhere, including search filters)."
    )
