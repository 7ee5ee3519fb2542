"""Admin: create a person with a first key, and issue (rotate) keys. Keys are shown once."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from ingest.store import UserExists, create_user, get_user_by_name, issue_api_key
from service.errors import UserExistsError, UserNotFound
from service.me.service import issue_key
from service.users.schemas import KeyIssued, UserCreated


class UsersService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def create(self, name: str) -> UserCreated:
        with self.sessions() as session:
            try:
                user = create_user(session, name.strip())
            except UserExists:
                raise UserExistsError(f"A user named {name!r} exists.") from None
            key = issue_api_key(session, user)
            session.commit()
            return UserCreated(user_id=user.id, api_key=key)

    def new_key(self, name: str, revoke_existing: bool) -> KeyIssued:
        with self.sessions() as session:
            user = get_user_by_name(session, name.strip())
            if user is None:
                raise UserNotFound(f"No user named {name!r}.")
            key, revoked = issue_key(session, user, revoke_existing)
            session.commit()
            return KeyIssued(user_id=user.id, api_key=key, revoked=revoked)
