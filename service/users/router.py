"""Admin routes: create a person, and issue (rotate) their keys. Keys are shown once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status

from service.deps import AdminDep, UsersDep
from service.users.schemas import KeyIssued, KeyRequest, UserCreate, UserCreated

router = APIRouter(prefix="/v1/users", tags=["users"])

ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing bearer admin key"},
    403: {"description": "Not the admin key, or admin routes are off"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    responses={**ADMIN_ERRORS, 409: {"description": "A user with that name exists"}},
    summary="Create a person and their first key (admin)",
)
def create(body: UserCreate, users: UsersDep) -> UserCreated:
    return users.create(body.name)


@router.post(
    "/{name}/keys",
    status_code=status.HTTP_201_CREATED,
    dependencies=[AdminDep],
    responses={**ADMIN_ERRORS, 404: {"description": "No user with that name"}},
    summary="Issue a new key for a person, optionally revoking the old ones (admin)",
)
def new_key(
    name: Annotated[str, Path(examples=["maya"])],
    users: UsersDep,
    body: KeyRequest | None = None,
) -> KeyIssued:
    return users.new_key(name, (body or KeyRequest()).revoke_existing)
