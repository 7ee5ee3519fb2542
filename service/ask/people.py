"""Who a person's journal is about: the planner's vocabulary and the people list.

The people list is every name no request to an LLM may carry: names the vocabulary
knows as people, and words the journal only ever writes with a capital
(``service.answer.pseudonyms.capitalised_names``), then the person's own additions and
removals (``ingest.people_store``). It lives here, apart from ``AskService``, because
the answer's request and the safety gate's second opinion must hide the same names
behind the same placeholders, and the gate runs in features that never ask.

Both are derived once per revision of the person's store (a new or changed entry bumps
it), so no process plans or pseudonymises with a stale list, and a gate check that
reaches the LLM does not reread the whole journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from ingest.people_store import UserPeople
from ingest.store import UserEntries
from service.answer.pseudonyms import capitalised_names
from service.ask.planner import JournalVocabulary


@dataclass(frozen=True)
class _Derived:
    vocabulary: JournalVocabulary
    names: frozenset[str]  # the people list before the person's own edits


class JournalPeople:
    """Each person's vocabulary and people list, bound to the user id of every call."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self._derived: dict[tuple[str, int], _Derived] = {}

    def vocabulary(self, user_id: str, texts: Iterable[str] | None = None) -> JournalVocabulary:
        """The journal's words and people. ``texts`` (the person's entries, when the
        caller has read them already) spare reading them again."""
        return self._derive(user_id, texts).vocabulary

    def names(self, user_id: str) -> list[str]:
        """The people list: derived names, plus the person's additions, less removals."""
        derived = self._derive(user_id)
        with self.sessions() as session:
            return UserPeople(session, user_id).apply(sorted(derived.names))

    def edit(self, user_id: str, add: list[str], remove: list[str]) -> list[str]:
        with self.sessions() as session:
            UserPeople(session, user_id).edit(add, remove)
            session.commit()
        return self.names(user_id)

    def _derive(self, user_id: str, texts: Iterable[str] | None = None) -> _Derived:
        with self.sessions() as session:
            store = UserEntries(session, user_id)
            key = (user_id, store.revision())
            found = self._derived.get(key)
            if found is not None:
                return found
            read = list(texts) if texts is not None else [e.text for e in store.all()]
        vocab = JournalVocabulary.from_texts(read)
        names = {n[:1].upper() + n[1:] for n in vocab.people & vocab.proper}
        found = _Derived(vocab, frozenset(names | capitalised_names(read)))
        # One revision per person is kept: an older one is never asked for again.
        self._derived = {k: v for k, v in self._derived.items() if k[0] != user_id}
        self._derived[key] = found
        return found
