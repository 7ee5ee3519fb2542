"""Store one entry and index it before returning, so the next question can use it."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.readers.validate import Invalid, check_date, check_id, check_tags, check_text
from ingest.store import Entry, UserEntries, derived_entry_id
from service.container import Container


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
    values = {}
    for field, check, value in (
        ("text", check_text, text),
        ("date", check_date, date),
        ("id", check_id, id),
        ("tags", check_tags, tags),
    ):
        try:
            values[field] = check(value)  # type: ignore[operator]
        except Invalid as e:
            raise EntryInvalid(field, e.reason) from None
    eid = values["id"] or derived_entry_id(values["text"], values["date"])
    with c.sessions() as session:
        entry, status = UserEntries(session, user_id).upsert(
            eid, values["date"], values["text"], values["tags"], "api"
        )
        session.commit()
    if status != "unchanged":
        c.indexer.index_entries(user_id, [entry.pk])
    return SavedEntry(entry=entry, status=status, indexed=is_indexed(c, user_id, eid))


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
