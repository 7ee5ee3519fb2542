"""``/v1/me``: the caller's account, key rotation and the hard delete of everything."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from ingest.store import UserEntries
from service.api_types import UtcDatetime
from service.deps import ContainerDep, CurrentUser, SessionDep
from service.me.me_service import active_keys, delete_user, issue_key

router = APIRouter(prefix="/v1/me", tags=["me"])


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


@router.get("", summary="Who you are, by your key")
def me(user: CurrentUser, session: SessionDep) -> Me:
    return Me(
        user_id=user.id,
        name=user.name,
        created_at=user.created_at,
        entries=UserEntries(session, user.id).count(),
        active_keys=len(active_keys(session, user.id)),
    )


@router.post("/keys/rotate", summary="Get a new key (and by default revoke the old ones)")
def rotate_key(user: CurrentUser, session: SessionDep, body: RotateRequest | None = None) -> NewKey:
    key, revoked = issue_key(session, user, (body or RotateRequest()).revoke_others)
    session.commit()
    return NewKey(api_key=key, revoked=revoked)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your account and everything in it (store and index); no undo",
)
def delete_me(user: CurrentUser, c: ContainerDep, session: SessionDep) -> Response:
    session.close()  # the request's session must not hold the rows being deleted
    delete_user(c, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
