"""Request-scoped dependencies: the container, a DB session, the caller.

``CurrentUser`` is the only way a route learns who is asking: it comes from the bearer
key, never from the request body or path, so a route cannot be pointed at someone
else's journal.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ingest.store import User, user_for_api_key
from service.container import Container
from service.middleware import USER_SCOPE_KEY, user_hash

bearer = HTTPBearer(auto_error=False, description="A user's API key, or the admin key.")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_session(container: ContainerDep) -> Iterator[Session]:
    with container.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def get_current_user(request: Request, session: SessionDep, creds: Credentials) -> User:
    if creds is None:
        raise _unauthorized("Missing bearer API key (Authorization: Bearer <key>).")
    user = user_for_api_key(session, creds.credentials)
    if user is None:
        raise _unauthorized("Unknown or revoked API key.")
    # For the access log: a pseudonym of the user, never the id or the name.
    request.scope[USER_SCOPE_KEY] = user_hash(user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(container: ContainerDep, creds: Credentials) -> None:
    admin = container.settings.admin_key
    if admin is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="Admin routes are off: set TRUSTLENS_ADMIN_KEY."
        )
    if creds is None:
        raise _unauthorized("Missing bearer admin key.")
    if not secrets.compare_digest(creds.credentials, admin.get_secret_value()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not the admin key.")


AdminDep = Depends(require_admin)
