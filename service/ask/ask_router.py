"""``POST /v1/ask``: the same JSON as ``trustlens ask --json``."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from service.answer.models import AskResponse
from service.deps import ContainerDep, CurrentUser
from service.problems import check_free_text

router = APIRouter(prefix="/v1", tags=["ask"])

MAX_QUESTION_CHARS = 2000  # the schema's ceiling; TRUSTLENS_MAX_QUESTION_CHARS may be lower


class AskRequest(BaseModel):
    question: str = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        examples=["what do I usually do when I feel betrayed?"],
    )
    since: dt.date | None = Field(default=None, description="Only entries on/after this day.")
    until: dt.date | None = Field(default=None, description="Only entries on/before this day.")

    @field_validator("until")
    @classmethod
    def _range(cls, until: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # A field validator (not a model one) so the 422 names the field: "until: ...".
        since = info.data.get("since")
        if since and until and since > until:
            raise ValueError("since must not be after until")
        return until


@router.post("/ask")
def ask(body: AskRequest, user: CurrentUser, c: ContainerDep) -> AskResponse:
    check_free_text("question", body.question, c.settings.max_question_chars)
    return c.ask_service.ask(user.id, body.question, since=body.since, until=body.until)
