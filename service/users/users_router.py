"""Admin routes: create a person, and issue (rotate) their keys. Keys are shown once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from ingest.store import UserExists, create_user, get_user_by_name, issue_api_key
from service.deps import AdminDep, SessionDep
from service.me.me_service import issue_key

router = APIRouter(prefix="/v1/users", tags=["users"])

ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing bearer admin key"},
    403: {"description": "Not the admin key, or admin routes are off"},
}


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


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    responses={**ADMIN_ERRORS, 409: {"description": "A user with that name exists"}},
    summary="Create a person and their first key (admin)",
)
def create(body: UserCreate, session: SessionDep) -> UserCreated:
    try:
        user = create_user(session, body.name.strip())
    except UserExists:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"A user named {body.name!r} exists."
        ) from None
    key = issue_api_key(session, user)
    session.commit()
    return UserCreated(user_id=user.id, api_key=key)


@router.post(
    "/{name}/keys",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    responses={**ADMIN_ERRORS, 404: {"description": "No user with that name"}},
    summary="Issue a new key for a person, optionally revoking the old ones (admin)",
)
def new_key(
    name: Annotated[str, Path(examples=["maya"])],
    session: SessionDep,
    body: KeyRequest | None = None,
) -> KeyIssued:
    user = get_user_by_name(session, name.strip())
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No user named {name!r}.")
    key, revoked = issue_key(session, user, (body or KeyRequest()).revoke_existing)
    session.commit()
    return KeyIssued(user_id=user.id, api_key=key, revoked=revoked)
