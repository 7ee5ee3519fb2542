"""Models of the admin routes ``/v1/users``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"\S", examples=["maya"])


class UserCreated(BaseModel):
    user_id: str
    api_key: str = Field(description="Shown once; only a hash is stored.")

    model_config = {
        "json_schema_extra": {
            "examples": [{"user_id": "3f0c9a7e5b2d4c1e8a6f0b9d7c5e3a1f", "api_key": "tl_Xq3..."}]
        }
    }


class KeyRequest(BaseModel):
    revoke_existing: bool = Field(
        default=False, description="Also revoke every key the person has now."
    )

    model_config = {"json_schema_extra": {"examples": [{"revoke_existing": True}]}}


class KeyIssued(BaseModel):
    user_id: str
    api_key: str = Field(description="Shown once; only a hash is stored.")
    revoked: int = Field(description="How many existing keys were revoked.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "user_id": "3f0c9a7e5b2d4c1e8a6f0b9d7c5e3a1f",
                    "api_key": "tl_Xq3...",
                    "revoked": 1,
                }
            ]
        }
    }
