"""Store one entry and index it before returning, so the next question can use it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ingest.readers.validate import Invalid, check_date, check_id, check_tags, check_text
from ingest.store import Entry, UserEntries, derived_entry_id
from service.container import Container

T = TypeVar("T")


class EntryInvalid(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass
class SavedEntry:
    entry: Entry
    status: str  # imported | updated | unchanged
    indexed: bool


def save_entry(
    c: Container, user_id: str, *, id: object, date: object, text: object, tags: object
) -> SavedEntry:
    """Validate with the same rules as file import, commit, then index."""
    clean_text = _checked("text", check_text, text)
    clean_date = _checked("date", check_date, date)
    clean_id = _checked("id", check_id, id)
    clean_tags = _checked("tags", check_tags, tags)
    eid = clean_id or derived_entry_id(clean_text, clean_date)
    with c.sessions() as session:
        entry, status = UserEntries(session, user_id).upsert(
            eid, clean_date, clean_text, clean_tags, "api"
        )
        session.commit()
    if status != "unchanged":
        c.indexer.index_entries(user_id, [entry.pk])
    return SavedEntry(entry=entry, status=status, indexed=is_indexed(c, user_id, eid))


def _checked(field: str, check: Callable[[object], T], value: object) -> T:
    try:
        return check(value)
    except Invalid as e:
        raise EntryInvalid(field, e.reason) from None


def is_indexed(c: Container, user_id: str, entry_id: str) -> bool:
    with c.sessions() as session:
        e = UserEntries(session, user_id).get(entry_id)
        return bool(e and e.index_state and e.index_state.indexed_hash == e.content_hash)


def get_entry(c: Container, user_id: str, entry_id: str) -> tuple[Entry, bool] | None:
    with c.sessions() as session:
        e = UserEntries(session, user_id).get(entry_id)
        if e is None:
            return None
        indexed = bool(e.index_state and e.index_state.indexed_hash == e.content_hash)
        return e, indexed
