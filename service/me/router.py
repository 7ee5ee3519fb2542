"""``/v1/me``: the caller's account, key rotation and the hard delete of everything."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.deps import AskDep, CurrentUser, MeDep
from service.me.schemas import Me, NewKey, People, PeopleEdit, RotateRequest

router = APIRouter(prefix="/v1/me", tags=["me"])


@router.get("", summary="Who you are, by your key")
def me(user: CurrentUser, account: MeDep) -> Me:
    return account.me(user)


@router.post("/keys/rotate", summary="Get a new key (and by default revoke the old ones)")
def rotate_key(user: CurrentUser, account: MeDep, body: RotateRequest | None = None) -> NewKey:
    return account.rotate_key(user, (body or RotateRequest()).revoke_others)


@router.get("/people", summary="The people list: names replaced before an LLM sees them")
def people(user: CurrentUser, asker: AskDep) -> People:
    return People(people=asker.people(user.id))


@router.patch("/people", summary="Add names to the people list, or remove words from it")
def edit_people(body: PeopleEdit, user: CurrentUser, asker: AskDep) -> People:
    return People(people=asker.edit_people(user.id, body.add, body.remove))


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete your account and everything in it (store and index); no undo",
)
def delete_me(user: CurrentUser, account: MeDep) -> Response:
    account.delete(user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
