"""Answers the journal's structure selects, on a small journal built here: a habit
question about one person counts the episodes of entries that name them (whoever the
detector took for the doer), and a look-up bounded by a period is answered from every
entry of that period that its let-down, person or behaviour selects.

The journal and its episodes are written for these tests (no model: the episodes are
given as stored rows), so the expected citations are exact.
"""

from __future__ import annotations

import datetime as dt

from ingest.episodes_store import StoredEpisode
from service.ask.answers import habit
from service.ask.answers.common import Period
from service.ask.planner import JournalVocabulary, plan_question
from service.ask.service import _bounded_lookup, _draft
from service.insight.journal import Journal

TEXTS = {
    "e1": "Sipho said he would pay me back on Friday. He did not. I said nothing and "
    "changed the subject when Mum asked.",
    "e2": "My brother asked for more money tonight. I checked his messages to Palesa "
    "twice to see what he told her.",
    "e3": "Lindiwe cancelled our lunch again. I went quiet on her for the whole week.",
    "e4": "Nice walk in the park with the dog next door. The weather was lovely today.",
    "e5": "Lindiwe forgot my birthday this year. I told her straight that it hurt me.",
    "e6": "Thabo lied to me about the car, and Lindiwe saw it all. I checked his phone "
    "that night while he slept.",
}
DATES = {
    "e1": "2024-01-10",
    "e2": "2024-02-03",
    "e3": "2024-07-01",
    "e4": "2024-07-20",
    "e5": "2024-12-02",
    "e6": "2024-11-01",
}


def _span(entry: str, sentence: str) -> tuple[int, int]:
    start = TEXTS[entry].index(sentence)
    return start, start + len(sentence)


def _episode(entry: str, by: str | None, trigger: str, response: str, label: str) -> StoredEpisode:
    return StoredEpisode(
        entry_id=entry,
        date=dt.date.fromisoformat(DATES[entry]),
        family="let_down",
        by=by,
        trigger=_span(entry, trigger),
        response=_span(entry, response),
        response_label=label,
        outcome=None,
        score=0.9,
    )


EPISODES = [
    _episode(
        "e1",
        "Sipho",
        "He did not.",
        "I said nothing and changed the subject when Mum asked.",
        "avoidance",
    ),
    # the doer read as the friend he wrote to; the entry says "my brother", never
    # "Sipho", so a question about Sipho does not count it
    _episode(
        "e2",
        "Palesa",
        "My brother asked for more money tonight.",
        "I checked his messages to Palesa twice to see what he told her.",
        "hypervigilance",
    ),
    _episode(
        "e3",
        None,
        "Lindiwe cancelled our lunch again.",
        "I went quiet on her for the whole week.",
        "avoidance",
    ),
    _episode(
        "e5",
        "her",
        "Lindiwe forgot my birthday this year.",
        "I told her straight that it hurt me.",
        "self_trust",
    ),
]
EPISODES.append(
    # another person by name: not Lindiwe's episode, though the entry names her
    _episode(
        "e6",
        "Thabo",
        "Thabo lied to me about the car, and Lindiwe saw it all.",
        "I checked his phone that night while he slept.",
        "hypervigilance",
    )
)
JOURNAL = Journal(texts=TEXTS, dates=DATES, labels={}, spans={}, episodes=EPISODES)
VOCAB = JournalVocabulary.from_texts(TEXTS.values())


def _cited(drafted: object) -> list[str]:
    assert drafted is not None
    return [c.entry_id for c in drafted.citations]  # type: ignore[attr-defined]


def test_a_person_habit_counts_episodes_of_entries_naming_them_whoever_the_doer_was() -> None:
    plan = plan_question("What do I usually do when Lindiwe lets me down?", VOCAB)
    assert plan.kind == "habit" and plan.people == ("lindiwe",)
    drafted = habit.answer(JOURNAL, plan, Period())
    # doers None and "her": the entries name her; e6's doer is Thabo by name
    assert _cited(drafted) == ["e3", "e5"]
    plan = plan_question("What do I usually do when Sipho lets me down?", VOCAB)
    assert _cited(habit.answer(JOURNAL, plan, Period())) == ["e1"]


def test_a_let_down_habit_over_a_period_counts_the_periods_episodes() -> None:
    """ "who let me down ... and what did I do about it?" is a habit over the period."""
    text = "who let me down in the first half of 2024 and what did I do about it?"
    plan = plan_question(text, VOCAB)
    assert plan.kind == "habit" and plan.feeling == "let_down"
    period = Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    drafted = _draft(JOURNAL, plan, period)
    assert _cited(drafted) == ["e1", "e2"]
    assert drafted is not None and drafted.behaviors[0].pattern in ("avoidance", "hypervigilance")


def test_a_bounded_let_down_lookup_counts_the_periods_episodes() -> None:
    text = "who let me down in the first half of 2024?"
    plan = plan_question(text, VOCAB)
    assert plan.kind == "lookup"
    period = Period(dt.date(2024, 1, 1), dt.date(2024, 6, 30))
    drafted = _bounded_lookup(JOURNAL, plan, period, text)
    assert _cited(drafted) == ["e1", "e2"]
    assert drafted is not None and drafted.behaviors[0].pattern in ("avoidance", "hypervigilance")


def test_a_bounded_person_lookup_cites_every_entry_of_the_period_naming_them() -> None:
    text = "what went on with Lindiwe in 2024?"
    plan = plan_question(text, VOCAB)
    assert plan.kind == "lookup" and plan.people == ("lindiwe",)
    drafted = _bounded_lookup(
        JOURNAL, plan, Period(dt.date(2024, 1, 1), dt.date(2024, 12, 31)), text
    )
    assert _cited(drafted) == ["e3", "e6", "e5"]


def test_unbounded_lookups_and_other_kinds_are_left_to_retrieval() -> None:
    text = "what went on with Lindiwe?"
    plan = plan_question(text, VOCAB)
    assert _bounded_lookup(JOURNAL, plan, Period(), text) is None
    text = "what was the weather like in July?"
    plan = plan_question(text, VOCAB)
    period = Period(dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert _bounded_lookup(JOURNAL, plan, period, text) is None  # names nothing to select by


# --- a narrow situation, and a doer that is not a person -------------------------------------


class _WordEmbeddings:
    """Deterministic bag-of-words vectors over a tiny vocabulary (no model): a situation
    and a trigger sentence are close when they share these words. Counts every text it
    embeds, so the tests can see the trigger sentences embedded once."""

    WORDS = ("quiet", "reply", "answer", "text", "cancelled", "lunch", "money", "pay", "lied")

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vector(self, text: str) -> list[float]:
        low = text.lower()
        v = [1.0 if w in low else 0.0 for w in self.WORDS] + [0.2]
        norm = sum(x * x for x in v) ** 0.5
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def test_a_narrow_situation_counts_only_the_episodes_it_describes() -> None:
    """'when someone cancels lunch on me' is not every let-down: the episodes whose
    trigger tells it are counted; 'when someone lets me down' still counts them all,
    and a question naming a person is left to the person filter."""
    from service.ask.situations import Situations

    emb = _WordEmbeddings()
    situations = Situations(emb)  # type: ignore[arg-type]
    narrow = plan_question("What do I do when someone cancels lunch on me?", VOCAB)
    assert narrow.kind == "habit" and narrow.situation == "someone cancels lunch on me"
    assert _cited(habit.answer(JOURNAL, narrow, Period(), habit.Readers(situations))) == ["e3"]
    broad = plan_question("What do I usually do when someone lets me down?", VOCAB)
    assert broad.situation is None
    assert _cited(habit.answer(JOURNAL, broad, Period(), habit.Readers(situations))) == [
        "e1",
        "e2",
        "e3",
        "e5",
        "e6",
    ]
    embedded = len(emb.embedded)
    habit.answer(JOURNAL, narrow, Period(), habit.Readers(situations))
    assert len(emb.embedded) == embedded  # the trigger sentences' vectors are kept
    person = plan_question("What do I do when Sipho won't pay me back?", VOCAB)
    assert person.people == ("sipho",) and person.situation is not None
    assert _cited(habit.answer(JOURNAL, person, Period(), habit.Readers(situations))) == ["e1"]


def test_a_capitalised_doer_the_journal_never_uses_as_a_name_is_no_one() -> None:
    """The detector can read a word opening a sentence as the doer ("Recap: Lindiwe ...");
    with the journal's people known, such a doer does not hide the person the entry
    names. A doer that is a person of the journal (Thabo) still does."""
    texts = {
        **TEXTS,
        "e7": "Recap for later. Lindiwe cancelled the trip. I said nothing. I rang Thabo.",
    }
    dates = {**DATES, "e7": "2024-12-20"}
    trigger = "Lindiwe cancelled the trip."
    start = texts["e7"].index(trigger)
    reply = texts["e7"].index("I said nothing.")
    recap = StoredEpisode(
        entry_id="e7",
        date=dt.date(2024, 12, 20),
        family="let_down",
        by="Recap",
        trigger=(start, start + len(trigger)),
        response=(reply, reply + len("I said nothing.")),
        response_label="avoidance",
        outcome=None,
        score=0.9,
    )
    journal = Journal(texts=texts, dates=dates, labels={}, spans={}, episodes=[*EPISODES, recap])
    vocab = JournalVocabulary.from_texts(texts.values())
    assert "recap" not in vocab.people and "thabo" in vocab.people
    plan = plan_question("What do I usually do when Lindiwe lets me down?", vocab)
    assert _cited(habit.answer(journal, plan, Period())) == ["e3", "e5"]  # no people given
    assert _cited(habit.answer(journal, plan, Period(), habit.Readers(people=vocab.people))) == [
        "e3",
        "e5",
        "e7",
    ]


def test_someone_named_all_through_a_long_journal_is_counted_in_full_and_quoted_50_times() -> None:
    from service.ask.answers import person

    n = 130
    texts = {
        f"s{i:03d}": f"Day {i}. Jas rang about the flat again and I let it ring." for i in range(n)
    }
    dates = {
        eid: (dt.date(2020, 1, 1) + dt.timedelta(days=i)).isoformat() for i, eid in enumerate(texts)
    }
    journal = Journal(texts=texts, dates=dates, labels={}, spans={})
    got = person.answer(journal, ("jas",), Period())
    assert got is not None
    assert "in 130 entries, from 2020-01-01 to 2020-05-09" in got.summary
    assert "50 of them are quoted" in got.summary
    cited = [c.entry_id for c in got.citations]
    assert len(cited) == 50 == len(set(cited))
    assert cited[0] == "s000" and cited[-1] == "s129" and cited == sorted(cited)
    assert [c.entry_id for c in got.evidence[:2]] == ["s000", "s129"]
    small = person.answer(
        Journal(texts=TEXTS, dates=DATES, labels={}, spans={}), ("lindiwe",), Period()
    )
    assert small is not None and "quoted" not in small.summary
    assert [c.entry_id for c in small.citations] == ["e3", "e6", "e5"]  # by date
