"""Models of ``/v1/me``: who you are, key rotation."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from service.schemas import UtcDatetime


class Me(BaseModel):
    user_id: str
    name: str
    created_at: UtcDatetime
    entries: int = Field(description="How many entries you have stored.")
    active_keys: int

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": "3f0c9a7e5b2d4c1e8a6f0b9d7c5e3a1f",
                    "name": "maya",
                    "created_at": "2024-01-01T09:00:00Z",
                    "entries": 50,
                    "active_keys": 1,
                }
            ]
        }
    }


class RotateRequest(BaseModel):
    revoke_others: bool = Field(
        default=True, description="Revoke every other key of yours, including this one."
    )

    model_config = {"json_schema_extra": {"examples": [{"revoke_others": True}]}}


class NewKey(BaseModel):
    api_key: str = Field(description="Shown once; only a hash is stored.")
    revoked: int = Field(description="How many older keys were revoked.")

    model_config = {"json_schema_extra": {"examples": [{"api_key": "tl_Xq3...", "revoked": 1}]}}


class People(BaseModel):
    """Who the journal is about: derived from the person's own entries, with their edits.
    With an LLM configured, each is replaced by a placeholder ("Person A") before a
    request leaves the process."""

    people: list[str]


class PeopleEdit(BaseModel):
    add: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=200, description="Names to add."
    )
    remove: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        default_factory=list, max_length=200, description="Words that are not people."
    )
