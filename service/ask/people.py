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

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from ingest.people_store import UserPeople
from ingest.store import UserEntries
from service.answer.pseudonyms import CapitalisedWords
from service.ask.planner import JournalVocabulary, VocabularyBuilder, lexicon

# People whose counts are kept for counting only what is new (the rest count all again).
MAX_COUNTED = 32


@dataclass(frozen=True)
class _Derived:
    vocabulary: JournalVocabulary
    names: frozenset[str]  # the people list before the person's own edits


@dataclass(frozen=True)
class _Counted:
    """What a person's derivation was counted from, to count only what is new next time:
    each entry's text fingerprint (``hash``, this process only), and the counts."""

    texts: dict[str, int]
    words: VocabularyBuilder
    capitalised: CapitalisedWords


class JournalPeople:
    """Each person's vocabulary and people list, bound to the user id of every call."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self._derived: dict[tuple[str, int], _Derived] = {}
        self._counted: dict[str, _Counted] = {}
        self._lock = threading.Lock()

    def vocabulary(self, user_id: str, texts: Mapping[str, str] | None = None) -> JournalVocabulary:
        """The journal's words and people. ``texts`` (entry id -> text, when the caller
        has read the person's entries already) spare reading them again."""
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

    def _derive(self, user_id: str, texts: Mapping[str, str] | None = None) -> _Derived:
        """Derived once per revision. A new revision that only added entries (the common
        case: a write) counts just those, on a copy of the last counts: at 20k chunks a
        full count took ~8 s of the next question's ~12 s. An entry changed or deleted
        since counts everything again."""
        with self.sessions() as session:
            store = UserEntries(session, user_id)
            key = (user_id, store.revision())
            found = self._derived.get(key)
            if found is not None:
                return found
            read = dict(texts) if texts is not None else {e.entry_id: e.text for e in store.all()}
        with self._lock:
            before = self._counted.get(user_id)
        prints = {eid: hash(text) for eid, text in read.items()}
        if before is not None and all(prints.get(e) == h for e, h in before.texts.items()):
            words, capitalised = before.words.copy(), before.capitalised.copy()
            new = [eid for eid in read if eid not in before.texts]
        else:
            words, capitalised = VocabularyBuilder(lexicon()), CapitalisedWords()
            new = list(read)
        for eid in new:
            words.add(read[eid])
            capitalised.add(read[eid])
        vocab = words.build()
        names = {n[:1].upper() + n[1:] for n in vocab.people & vocab.proper}
        found = _Derived(vocab, frozenset(names | capitalised.names()))
        with self._lock:
            # One revision per person is kept: an older one is never asked for again.
            self._derived = {k: v for k, v in self._derived.items() if k[0] != user_id}
            self._derived[key] = found
            self._counted.pop(user_id, None)
            self._counted[user_id] = _Counted(prints, words, capitalised)
            while len(self._counted) > MAX_COUNTED:  # the least recently derived go
                del self._counted[next(iter(self._counted))]
        return found
