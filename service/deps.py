"""Request-scoped dependencies: the caller, and the feature service each route calls.

Routes never see the container: each declares the one service it needs
(``EntriesDep``, ``AskDep``, ...), typed, so a reader (and mypy) can follow a route to
the components behind it.

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
from service.ask.service import AskService
from service.container import Container
from service.entries.service import EntriesService
from service.experiments.service import ExperimentsService
from service.export.service import ExportService
from service.health.service import HealthService
from service.insight.service import InsightService
from service.me.service import MeService
from service.middleware import USER_SCOPE_KEY, user_hash
from service.patterns.service import PatternsService
from service.search.service import SearchService
from service.users.service import UsersService

bearer = HTTPBearer(auto_error=False, description="A user's API key, or the admin key.")


def get_session(request: Request) -> Iterator[Session]:
    with _container(request).sessions() as session:
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


def require_admin(request: Request, creds: Credentials) -> None:
    admin = _container(request).settings.admin_key
    if admin is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="Admin routes are off: set TRUSTLENS_ADMIN_KEY."
        )
    if creds is None:
        raise _unauthorized("Missing bearer admin key.")
    if not secrets.compare_digest(creds.credentials, admin.get_secret_value()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Not the admin key.")


AdminDep = Depends(require_admin)


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _entries(request: Request) -> EntriesService:
    return _container(request).entries


def _ask(request: Request) -> AskService:
    return _container(request).ask


def _search(request: Request) -> SearchService:
    return _container(request).search


def _insight(request: Request) -> InsightService:
    return _container(request).insight


def _experiments(request: Request) -> ExperimentsService:
    return _container(request).experiments


def _patterns(request: Request) -> PatternsService:
    return _container(request).patterns


def _me(request: Request) -> MeService:
    return _container(request).me


def _users(request: Request) -> UsersService:
    return _container(request).users


def _export(request: Request) -> ExportService:
    return _container(request).export


def _health(request: Request) -> HealthService:
    return _container(request).health


EntriesDep = Annotated[EntriesService, Depends(_entries)]
AskDep = Annotated[AskService, Depends(_ask)]
SearchDep = Annotated[SearchService, Depends(_search)]
InsightDep = Annotated[InsightService, Depends(_insight)]
ExperimentsDep = Annotated[ExperimentsService, Depends(_experiments)]
PatternsDep = Annotated[PatternsService, Depends(_patterns)]
MeDep = Annotated[MeService, Depends(_me)]
UsersDep = Annotated[UsersService, Depends(_users)]
ExportDep = Annotated[ExportService, Depends(_export)]
HealthDep = Annotated[HealthService, Depends(_health)]
