"""``POST /v1/users``: the admin creates a person and receives their key, shown once."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from ingest.store import UserExists, create_user, issue_api_key
from service.deps import AdminDep, SessionDep

router = APIRouter(prefix="/v1/users", tags=["users"])


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"\S", examples=["maya"])


class UserCreated(BaseModel):
    user_id: str
    api_key: str = Field(description="Shown once; only a hash is stored.")


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[AdminDep])
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
