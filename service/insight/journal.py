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
therefore costs one query for the person's revision (the tokens are read again only when
it moved, ``ingest.store.EntryVersions``) and one for the person's corrections (a small
table, read whole every time: a verdict applies at once, whether or not the re-index it
asks for has run), and then reads only the entries that are new or whose token moved.

Nothing is shared between workers and nothing is trusted without the store's word: the
revision is read on every call, so a write through another worker is seen by the next
read here. Like the lexical index and the keyring's opened texts, the plaintext kept is
bounded to the ``max_users`` most recent people of this process; a person whose entries
are all gone keeps nothing here (their tokens are empty).

Tokens are read before the rows (``ingest.store.EntryVersions``, which keeps them per
revision for the lexical index too): a write that commits in between
leaves rows newer than the token recorded with them, and the next read sees the token
move and reads them again; never an old row kept under a new token.
"""

from __future__ import annotations

import bisect
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
from ingest.store import EntryVersions, UserEntries
from service.insight.folding import FoldedTexts, fold
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
    _folded: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    _mentions: FoldedTexts | None = field(default=None, init=False, repr=False, compare=False)

    def by_date(self) -> list[tuple[str, str]]:
        """(date, entry id) of every entry, sorted: kept with the journal, which is one
        object until the journal changes (sorting 20k entries per question was 0.2 s).
        ``Journals`` hands it over kept up to date per entry, not sorted again."""
        if self._by_date is None:
            self._by_date = sorted((d, e) for e, d in self.dates.items())
        return self._by_date

    def mentioning(self, words: tuple[str, ...]) -> set[str] | None:
        """The entry ids whose text may contain any of ``words`` (any case): a superset
        of those a case-blind pattern for them matches; None when it cannot be told
        (``service.insight.folding.FoldedTexts``), and every entry must be tried."""
        if self._mentions is None:
            self._mentions = FoldedTexts(self.folded())
        return self._mentions.mentioning(words)

    def folded(self) -> dict[str, str]:
        """Entry id -> its text through ``fold``: a cheap, exact pre-filter before a
        case-blind pattern (``may_contain``). ``Journals`` keeps each one per entry
        version, so a question after a write folds only the new entry."""
        if self._folded is None:
            self._folded = {eid: fold(t) for eid, t in self.texts.items()}
        return self._folded

    def era_at(self, entry_id: str, offset: int) -> str | None:
        """The era of the sentence at ``offset`` (a memory told inside a present entry)."""
        for s in self.spans.get(entry_id, []):
            if s.group == "era" and s.start <= offset < s.end:
                return s.label
        return None


# More new or changed entries than this re-sort the kept orders instead of inserting.
_INSERT_AT_MOST = 64


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
    iso: str = field(default="", init=False)
    folded: str = field(default="", init=False)

    def __post_init__(self) -> None:
        self.iso = self.date.isoformat()
        self.folded = fold(self.text)

    def labelled(self, entry_id: str, verdict: Mapping[str, str]) -> EntryLabels:
        if self.labels is None or self.verdict != verdict:
            self.spans = entry_spans(self.text, self.rows, verdict)
            self.labels = labels_of(entry_id, self.date, self.rows, self.spans)
            self.verdict = dict(verdict)
        return self.labels


@dataclass
class _Maps:
    """The journal's per-entry maps in the store's order, kept between reads so that a
    new entry dated last (the common write) is appended to them, and each read hands out
    copies (one memory copy per map) instead of building every map again entry by entry
    (at 20k entries that was about 0.1 s of the next question)."""

    texts: dict[str, str] = field(default_factory=dict)
    dates: dict[str, str] = field(default_factory=dict)
    labels: dict[str, EntryLabels] = field(default_factory=dict)
    spans: dict[str, list[LabelSpan]] = field(default_factory=dict)
    folded: dict[str, str] = field(default_factory=dict)
    episodes: list[StoredEpisode] = field(default_factory=list)

    def add(self, eid: str, e: _Entry, verdict: Mapping[str, str]) -> None:
        self.labels[eid] = e.labelled(eid, verdict)
        self.texts[eid] = e.text
        self.dates[eid] = e.iso
        self.spans[eid] = e.spans
        self.folded[eid] = e.folded
        self.episodes.extend(e.episodes)


@dataclass
class _UserJournal:
    tokens: dict[str, str] = field(default_factory=dict)
    entries: dict[str, _Entry] = field(default_factory=dict)
    verdicts: dict[str, dict[str, str]] | None = None
    journal: Journal | None = None  # built from exactly these tokens and verdicts
    # (date, pk, entry id) and (date, entry id) of ``entries``, sorted, kept per change
    order: list[tuple[str, int, str]] = field(default_factory=list)
    by_date: list[tuple[str, str]] = field(default_factory=list)
    # ``order``'s maps, or None when they must be built again (an entry changed, left or
    # came in before the last one, or the verdicts moved)
    maps: _Maps | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Journals:
    """Per-person journals, read through the user-bound accessors and kept per entry
    version for the ``max_users`` most recent people."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        versions: EntryVersions | None = None,
        max_users: int = 16,
    ):
        self.sessions = sessions
        # Shared with the lexical index in a service: one read of the tokens per revision.
        self.versions = versions or EntryVersions(sessions, max_users)
        self._cache: PerUserLRU[_UserJournal] = PerUserLRU(max_users, lambda _: _UserJournal())

    def forget(self, user_id: str) -> None:
        """Drop what is kept for this person (their data was deleted)."""
        self._cache.forget(user_id)
        self.versions.forget(user_id)

    def read(self, user_id: str) -> Journal:
        """The person's journal as the store holds it now."""
        if not user_id:
            raise ValueError("a journal is only ever read for one user")
        state = self._cache.get(user_id)
        _, tokens = self.versions.read(user_id)  # before the rows: see the module's note
        with state.lock, self.sessions() as session:
            labels = UserLabels(session, user_id)
            verdicts = labels.verdicts()
            if state.journal is not None and tokens == state.tokens and verdicts == state.verdicts:
                return state.journal
            moved = [eid for eid, tok in tokens.items() if state.tokens.get(eid) != tok]
            fresh = self._read_entries(session, user_id, labels, moved)
            gone = [eid for eid in state.entries if eid not in tokens]
            # Every moved entry kept so far goes: a changed one comes back from ``fresh``,
            # and one the tokens list but the rows did not show (deleted in between) is not
            # kept: with no token recorded, the next read asks for it again.
            gone += [eid for eid in moved if eid in state.entries]
            last = state.order[-1] if state.order else None
            if gone or verdicts != state.verdicts or state.maps is None:
                state.maps = None
            elif any(last is not None and (e.iso, e.pk, eid) < last for eid, e in fresh.items()):
                state.maps = None  # an entry dated before the last one: its place moves
            appended = sorted((e.iso, e.pk, eid) for eid, e in fresh.items())
            for eid in gone:
                self._drop(state, eid)
            if len(fresh) > _INSERT_AT_MOST:  # a first read, or many changes: sort once
                state.entries.update(fresh)
                state.order = sorted((e.iso, e.pk, eid) for eid, e in state.entries.items())
                state.by_date = sorted((e.iso, eid) for eid, e in state.entries.items())
            else:
                for eid, e in fresh.items():
                    self._keep(state, eid, e)
            state.tokens = {eid: tokens[eid] for eid in state.entries}
            state.verdicts = verdicts
            maps, state.maps = state.maps, None  # kept again only once all is added
            if maps is not None:
                for _, _, eid in appended:
                    maps.add(eid, state.entries[eid], verdicts.get(eid, {}))
                state.maps = maps
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
    def _drop(state: _UserJournal, eid: str) -> None:
        """Forget one entry, and its places in the kept orders (found by bisection)."""
        e = state.entries.pop(eid, None)
        if e is None:
            return
        for seq, key in ((state.order, (e.iso, e.pk, eid)), (state.by_date, (e.iso, eid))):
            i = bisect.bisect_left(seq, key)
            if i < len(seq) and seq[i] == key:
                del seq[i]

    @staticmethod
    def _keep(state: _UserJournal, eid: str, e: _Entry) -> None:
        state.entries[eid] = e
        bisect.insort(state.order, (e.iso, e.pk, eid))
        bisect.insort(state.by_date, (e.iso, eid))

    @staticmethod
    def _build(state: _UserJournal, verdicts: dict[str, dict[str, str]]) -> Journal:
        """The journal in the store's order: entries by date then insertion (``pk``), and
        each entry's episodes in the order they were found. The orders are kept sorted
        per change (``_keep``/``_drop``), not sorted again per read: with 20k entries
        that sort, and the dates' formatting, were a fifth of the next question."""
        maps = state.maps
        if maps is None:
            maps = _Maps()
            for _, _, eid in state.order:
                maps.add(eid, state.entries[eid], verdicts.get(eid, {}))
            state.maps = maps
        # Copies: the kept maps change with the next write, a handed-out journal never.
        journal = Journal(
            texts=dict(maps.texts),
            dates=dict(maps.dates),
            labels=dict(maps.labels),
            spans=dict(maps.spans),
            episodes=list(maps.episodes),
        )
        journal._by_date = list(state.by_date)
        journal._folded = dict(maps.folded)
        return journal
