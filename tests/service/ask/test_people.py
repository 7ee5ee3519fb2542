"""``JournalPeople``: the planner's vocabulary and the people list, derived once per
revision, and after a write by counting only the new entries (``service.ask.people``)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ingest.crypto import Keyring
from ingest.store import UserEntries, create_user, make_engine, make_sessions
from service.answer.pseudonyms import capitalised_names
from service.ask import people as people_module
from service.ask.people import JournalPeople
from service.ask.planner import JournalVocabulary, VocabularyBuilder
from service.db.migrate import ensure_schema


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A fresh, migrated SQLite store (the derivation reads revisions and entries only)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    ensure_schema(engine)
    yield make_sessions(engine, Keyring([secrets.token_bytes(32)]))
    engine.dispose()


TEXTS = [
    "Mum rang on Sunday and cancelled lunch again. I went quiet for the rest of the day.",
    "Rosa forgot my birthday. I checked her Instagram three times.",
    "My sister Kate came round with her dog, Biscuit. We walked to the park in Hobart.",
    "Rosa said sorry at work. I told her it hurt, and she listened.",
    "Dr Patel moved the appointment. Kate drove me to the clinic in Hobart anyway.",
]


def _write(sessions: sessionmaker[Session], uid: str, i: int, text: str) -> None:
    with sessions() as s:
        store = UserEntries(s, uid)
        store.upsert(f"e{i}", dt.date(2024, 1, 1) + dt.timedelta(days=i), text, [], "test")
        store.bump_revision()
        s.commit()


def _same(a: JournalVocabulary, b: JournalVocabulary) -> None:
    for field in ("words", "people", "proper", "owned", "lowered", "lowercase", "articled"):
        assert getattr(a, field) == getattr(b, field), field
    assert a.spellings == b.spellings
    assert a.mentions("kate biscuit") == b.mentions("kate biscuit")


def test_a_write_counts_only_the_new_entry_and_matches_a_full_count(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sessions() as s:
        uid = create_user(s, "ana").id
        s.commit()
    jp = JournalPeople(sessions)
    for i, t in enumerate(TEXTS[:3]):
        _write(sessions, uid, i, t)
    jp.vocabulary(uid)
    expected = {i: JournalVocabulary.from_texts(TEXTS[: i + 1]) for i in (3, 4)}
    added: list[str] = []
    real = VocabularyBuilder.add

    def spy(self: VocabularyBuilder, text: str) -> None:
        added.append(text)
        real(self, text)

    monkeypatch.setattr(VocabularyBuilder, "add", spy)
    for i in (3, 4):
        _write(sessions, uid, i, TEXTS[i])
        got = jp.vocabulary(uid)
        _same(got, expected[i])
    assert added == TEXTS[3:5]  # each write counted its own entry, nothing else
    monkeypatch.setattr(VocabularyBuilder, "add", real)
    assert set(jp.names(uid)) >= {"Rosa", "Kate"}
    assert set(jp.names(uid)) == set(
        {n[:1].upper() + n[1:] for n in got.people & got.proper} | capitalised_names(TEXTS)
    )


def test_a_changed_entry_counts_everything_again(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        uid = create_user(s, "bo").id
        s.commit()
    jp = JournalPeople(sessions)
    for i, t in enumerate(TEXTS):
        _write(sessions, uid, i, t)
    before = jp.vocabulary(uid)
    assert "biscuit" in before.words
    _write(sessions, uid, 2, "My sister Kate came round. We walked to the park.")
    after = jp.vocabulary(uid)
    texts = [*TEXTS[:2], "My sister Kate came round. We walked to the park.", *TEXTS[3:]]
    _same(after, JournalVocabulary.from_texts(texts))
    assert "biscuit" not in after.words and "biscuit" in before.words  # the old one kept


def test_counts_are_kept_for_a_bounded_number_of_people(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_module, "MAX_COUNTED", 2)
    jp = JournalPeople(sessions)
    with sessions() as s:
        uids = [create_user(s, n).id for n in ("a1", "a2", "a3")]
        s.commit()
    for uid in uids:
        _write(sessions, uid, 0, TEXTS[0])
        jp.vocabulary(uid)
    assert list(jp._counted) == uids[1:]
