"""One person's journal as every insight feature reads it, brought up to date per entry.

Every question starts from the person's whole journal: entries, the tagger's labels
with the person's corrections, and the episodes found at ingest. Read from the store
each time, that was most of the next question after a write (0.76 s of a 0.82 s ask at
20k chunks: every entry row loaded, every sealed text opened, every label row built
into spans), so it grew with the journal while the question's own work did not.

``Journals`` keeps each person's rows per entry, with the version token the store gives
that entry (``UserEntries.index_versions``: the content hash and the index state's hash
and time). Labels and episodes are written in the same transaction that moves the index
state, and any change of the text moves the content hash, so an entry whose token is
unchanged has the same text, date, labels and episodes as when it was read. Each read
therefore costs one query for the tokens and one for the person's corrections (a small
table, read whole every time: a verdict applies at once, whether or not the re-index it
asks for has run), and then reads only the entries that are new or whose token moved.

Nothing is shared between workers and nothing is trusted without the store's word: the
tokens are read on every call, so a write through another worker is seen by the next
read here. Like the lexical index and the keyring's opened texts, the plaintext kept is
bounded to the ``max_users`` most recent people of this process; a person whose entries
are all gone keeps nothing here (their tokens are empty).

Tokens are read before the rows, in the same session: a write that commits in between
leaves rows newer than the token recorded with them, and the next read sees the token
move and reads them again; never an old row kept under a new token.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from ingest.episodes_store import StoredEpisode, UserEpisodes
from ingest.labels_store import (
    ChunkLabel,
    EntryLabels,
    LabelSpan,
    UserLabels,
    entry_spans,
    labels_of,
)
from ingest.store import UserEntries
from service.lru import PerUserLRU


@dataclass
class Journal:
    """One user's entries as the insight features need them (read-only: one object is
    handed to every request until the journal changes)."""

    texts: dict[str, str]
    dates: dict[str, str]
    labels: dict[str, EntryLabels]
    spans: dict[str, list[LabelSpan]]
    episodes: list[StoredEpisode] = field(default_factory=list)
    _by_date: list[tuple[str, str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def by_date(self) -> list[tuple[str, str]]:
        """(date, entry id) of every entry, sorted: kept with the journal, which is one
        object until the journal changes (sorting 20k entries per question was 0.2 s)."""
        if self._by_date is None:
            self._by_date = sorted((d, e) for e, d in self.dates.items())
        return self._by_date

    def era_at(self, entry_id: str, offset: int) -> str | None:
        """The era of the sentence at ``offset`` (a memory told inside a present entry)."""
        for s in self.spans.get(entry_id, []):
            if s.group == "era" and s.start <= offset < s.end:
                return s.label
        return None


@dataclass
class _Entry:
    """What the store held for one entry at one version token."""

    pk: int
    date: dt.date
    text: str
    rows: list[ChunkLabel]
    episodes: list[StoredEpisode]
    # spans and labels with the verdicts they were built with (rebuilt when those move)
    verdict: Mapping[str, str] | None = None
    spans: list[LabelSpan] = field(default_factory=list)
    labels: EntryLabels | None = None

    def labelled(self, entry_id: str, verdict: Mapping[str, str]) -> EntryLabels:
        if self.labels is None or self.verdict != verdict:
            self.spans = entry_spans(self.text, self.rows, verdict)
            self.labels = labels_of(entry_id, self.date, self.rows, self.spans)
            self.verdict = dict(verdict)
        return self.labels


@dataclass
class _UserJournal:
    tokens: dict[str, str] = field(default_factory=dict)
    entries: dict[str, _Entry] = field(default_factory=dict)
    verdicts: dict[str, dict[str, str]] | None = None
    journal: Journal | None = None  # built from exactly these tokens and verdicts
    lock: threading.Lock = field(default_factory=threading.Lock)


class Journals:
    """Per-person journals, read through the user-bound accessors and kept per entry
    version for the ``max_users`` most recent people."""

    def __init__(self, sessions: sessionmaker[Session], max_users: int = 16):
        self.sessions = sessions
        self._cache: PerUserLRU[_UserJournal] = PerUserLRU(max_users, lambda _: _UserJournal())

    def forget(self, user_id: str) -> None:
        """Drop what is kept for this person (their data was deleted)."""
        self._cache.forget(user_id)

    def read(self, user_id: str) -> Journal:
        """The person's journal as the store holds it now."""
        if not user_id:
            raise ValueError("a journal is only ever read for one user")
        state = self._cache.get(user_id)
        with state.lock, self.sessions() as session:
            tokens = UserEntries(session, user_id).index_versions()
            labels = UserLabels(session, user_id)
            verdicts = labels.verdicts()
            if state.journal is not None and tokens == state.tokens and verdicts == state.verdicts:
                return state.journal
            moved = [eid for eid, tok in tokens.items() if state.tokens.get(eid) != tok]
            fresh = self._read_entries(session, user_id, labels, moved)
            for eid in [eid for eid in state.entries if eid not in tokens]:
                del state.entries[eid]
            state.entries.update(fresh)
            # An entry the tokens list but the rows did not show (deleted in between) is
            # not kept: with no token recorded, the next read asks for it again.
            for eid in moved:
                if eid not in fresh:
                    state.entries.pop(eid, None)
            state.tokens = {eid: tokens[eid] for eid in state.entries}
            state.verdicts = verdicts
            state.journal = self._build(state, verdicts)
            return state.journal

    @staticmethod
    def _read_entries(
        session: Session, user_id: str, labels: UserLabels, entry_ids: list[str]
    ) -> dict[str, _Entry]:
        if not entry_ids:
            return {}
        out: dict[str, _Entry] = {}
        for i in range(0, len(entry_ids), 500):
            entries = UserEntries(session, user_id).get_many(entry_ids[i : i + 500])
            pks = [e.pk for e in entries.values()]
            rows = labels.rows_of(pks)
            episodes: dict[str, list[StoredEpisode]] = {}
            for ep in UserEpisodes(session, user_id).of_entries(pks):
                episodes.setdefault(ep.entry_id, []).append(ep)
            for eid, e in entries.items():
                out[eid] = _Entry(
                    pk=e.pk,
                    date=e.date,
                    text=e.text,
                    rows=rows.get(e.pk, []),
                    episodes=episodes.get(eid, []),
                )
        return out

    @staticmethod
    def _build(state: _UserJournal, verdicts: dict[str, dict[str, str]]) -> Journal:
        """The journal in the store's order: entries by date then insertion (``pk``), and
        each entry's episodes in the order they were found."""
        order = sorted(state.entries.items(), key=lambda kv: (kv[1].date, kv[1].pk))
        labels = {eid: e.labelled(eid, verdicts.get(eid, {})) for eid, e in order}
        return Journal(
            texts={eid: e.text for eid, e in order},
            dates={eid: e.date.isoformat() for eid, e in order},
            labels=labels,
            spans={eid: e.spans for eid, e in order},
            episodes=[ep for _, e in order for ep in e.episodes],
        )
