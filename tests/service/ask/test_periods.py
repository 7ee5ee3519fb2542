"""Time expressions in questions, resolved against the journal's last entry date."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from service.ask.periods import Period, resolve_period, southern_hemisphere, strip_period

D = dt.date
DEV = Path(__file__).resolve().parents[3] / "eval" / "datasets" / "journals" / "dev"
WRITERS = ("ri", "ha", "pr", "mt")

# Anchors: one in each season, plus a winter in a common year after a leap year.
WINTER = D(2024, 1, 10)
SPRING = D(2024, 4, 20)
SUMMER = D(2024, 7, 15)
AUTUMN = D(2024, 10, 20)  # a Sunday
WINTER_2025 = D(2025, 2, 15)


def _anchor(writer: str) -> dt.date:
    with (DEV / writer / "journal.jsonl").open(encoding="utf-8") as lines:
        return max(D.fromisoformat(json.loads(line)["date"]) for line in lines if line.strip())


def _questions(writer: str) -> list[dict[str, str | None]]:
    data = json.loads((DEV / writer / "questions.json").read_text(encoding="utf-8"))
    return data["questions"]


def _span(question: str, anchor: dt.date | None) -> tuple[dt.date, dt.date] | None:
    period = resolve_period(question, anchor)
    if period is not None:
        assert question[period.start : period.end] == period.text
    return None if period is None else (period.since, period.until)


# --- the development examples --------------------------------------------------------

DEV_EXAMPLES = [
    (
        "ri",
        D(2024, 11, 24),
        "what happened with leah and the money between june and august?",
        D(2024, 6, 1),
        D(2024, 8, 31),
    ),
    (
        "ri",
        D(2024, 11, 24),
        "how did i handle people letting me down last winter?",
        D(2023, 12, 1),
        D(2024, 2, 29),
    ),
    (
        "ri",
        D(2024, 11, 24),
        "since september have i actually been saying stuff out loud when it bugs me?",
        D(2024, 9, 1),
        D(2024, 11, 24),
    ),
    (
        "ha",
        D(2024, 10, 20),
        "What happened between Peter and me in the autumn of last year?",
        D(2023, 9, 1),
        D(2023, 11, 30),
    ),
    (
        "ha",
        D(2024, 10, 20),
        "How did I deal with people letting me down in the first half of this year?",
        D(2024, 1, 1),
        D(2024, 6, 30),
    ),
    (
        "ha",
        D(2024, 10, 20),
        "Between May and August last year, how did things stand with Len?",
        D(2023, 5, 1),
        D(2023, 8, 31),
    ),
    (
        "pr",
        D(2024, 4, 20),
        "Who let me down last autumn, and what did I do about it?",
        D(2023, 9, 1),
        D(2023, 11, 30),
    ),
    (
        "pr",
        D(2024, 4, 20),
        "Since January, how have I been handling it when people let me down?",
        D(2024, 1, 1),
        D(2024, 4, 20),
    ),
    (
        "pr",
        D(2024, 4, 20),
        "Last summer, how were things between me and Marcus?",
        D(2023, 6, 1),
        D(2023, 8, 31),
    ),
    (
        "mt",
        D(2024, 10, 20),
        "What was happening with Ola last winter?",
        D(2023, 12, 1),
        D(2024, 2, 29),
    ),
    (
        "mt",
        D(2024, 10, 20),
        "Since June, how did I deal with people who let me down?",
        D(2024, 6, 1),
        D(2024, 10, 20),
    ),
    (
        "mt",
        D(2024, 10, 20),
        "In spring last year, what happened at work with my rota?",
        D(2023, 3, 1),
        D(2023, 5, 31),
    ),
]


@pytest.mark.parametrize(("writer", "anchor", "question", "since", "until"), DEV_EXAMPLES)
def test_dev_examples(
    writer: str, anchor: dt.date, question: str, since: dt.date, until: dt.date
) -> None:
    assert _anchor(writer) == anchor
    assert question in [q["question"] for q in _questions(writer)]
    assert _span(question, anchor) == (since, until)


@pytest.mark.parametrize("writer", WRITERS)
def test_dev_questions_match_their_labels(writer: str) -> None:
    """Every dev question: the labelled period, and None for all the others."""
    anchor = _anchor(writer)
    timed = {q for w, _, q, _, _ in DEV_EXAMPLES if w == writer}
    untimed = 0
    for item in _questions(writer):
        question = str(item["question"])
        got = _span(question, anchor)
        if item["since"] is None:
            assert item["until"] is None
            assert question not in timed
            assert got is None, question
            untimed += 1
        else:
            assert question in timed
            assert got == (
                D.fromisoformat(str(item["since"])),
                D.fromisoformat(str(item["until"])),
            ), question
    assert untimed >= 10


# --- the rules, case by case -----------------------------------------------------------

CASES = [
    # "since New Year" and an event told by its time (found on the round-two test journals)
    ("since New Year, how have I been handling it?", D(2025, 4, 19), D(2025, 1, 1), D(2025, 4, 19)),
    ("since the new year have I changed?", D(2025, 4, 19), D(2025, 1, 1), D(2025, 4, 19)),
    (
        "Since the proposal in January, have I been checking?",
        D(2024, 7, 18),
        D(2024, 1, 1),
        D(2024, 7, 18),
    ),
    ("since my birthday in May what changed?", D(2025, 4, 19), D(2024, 5, 1), D(2025, 4, 19)),
    # seasons: "last" = the most recent that ended before the anchor
    ("how was I last winter?", WINTER, D(2022, 12, 1), D(2023, 2, 28)),
    ("what happened this winter?", WINTER, D(2023, 12, 1), D(2024, 2, 29)),
    ("last winter, who let me down?", WINTER_2025, D(2023, 12, 1), D(2024, 2, 29)),
    ("the winter before last", AUTUMN, D(2022, 12, 1), D(2023, 2, 28)),
    ("what happened in the summer before last?", AUTUMN, D(2023, 6, 1), D(2023, 8, 31)),
    # asked in a summer: the one before the summer now under way (writers ke and su)
    ("the summer before last", SUMMER, D(2023, 6, 1), D(2023, 8, 31)),
    ("last summer", SUMMER, D(2023, 6, 1), D(2023, 8, 31)),
    ("last summer", D(2024, 9, 5), D(2024, 6, 1), D(2024, 8, 31)),
    ("what did I do in the summer?", SUMMER, D(2024, 6, 1), D(2024, 8, 31)),
    ("over the summer, did Theo change?", WINTER, D(2023, 6, 1), D(2023, 8, 31)),
    ("last spring", SPRING, D(2023, 3, 1), D(2023, 5, 31)),
    ("this spring", SPRING, D(2024, 3, 1), D(2024, 5, 31)),
    ("last autumn", AUTUMN, D(2023, 9, 1), D(2023, 11, 30)),
    ("what happened last fall?", AUTUMN, D(2023, 9, 1), D(2023, 11, 30)),
    ("in the fall", AUTUMN, D(2024, 9, 1), D(2024, 11, 30)),
    ("what happened this fall?", AUTUMN, D(2024, 9, 1), D(2024, 11, 30)),
    ("during spring last year", SPRING, D(2023, 3, 1), D(2023, 5, 31)),
    ("the autumn of last year", WINTER, D(2023, 9, 1), D(2023, 11, 30)),
    ("winter 2023", AUTUMN, D(2023, 12, 1), D(2024, 2, 29)),
    ("in the winter of 2022/23", AUTUMN, D(2022, 12, 1), D(2023, 2, 28)),
    ("winter last year", AUTUMN, D(2023, 12, 1), D(2024, 2, 29)),
    ("summer 2023", SPRING, D(2023, 6, 1), D(2023, 8, 31)),
    ("the fall of 2023", AUTUMN, D(2023, 9, 1), D(2023, 11, 30)),
    # months
    ("what did I do in March?", AUTUMN, D(2024, 3, 1), D(2024, 3, 31)),
    ("in November", AUTUMN, D(2023, 11, 1), D(2023, 11, 30)),
    ("in October", AUTUMN, D(2024, 10, 1), D(2024, 10, 31)),
    ("last October", AUTUMN, D(2023, 10, 1), D(2023, 10, 31)),
    ("in February 2024", AUTUMN, D(2024, 2, 1), D(2024, 2, 29)),
    ("in Feb 2023", AUTUMN, D(2023, 2, 1), D(2023, 2, 28)),
    ("in Sept. 2023", AUTUMN, D(2023, 9, 1), D(2023, 9, 30)),
    ("March of last year", AUTUMN, D(2023, 3, 1), D(2023, 3, 31)),
    ("in June this year", AUTUMN, D(2024, 6, 1), D(2024, 6, 30)),
    ("the March before last", AUTUMN, D(2023, 3, 1), D(2023, 3, 31)),
    ("what happened with leah in june", AUTUMN, D(2024, 6, 1), D(2024, 6, 30)),
    ("in may i started a new job, was it worth it?", AUTUMN, D(2024, 5, 1), D(2024, 5, 31)),
    # ranges
    ("between June and August 2023", AUTUMN, D(2023, 6, 1), D(2023, 8, 31)),
    ("from May to July", AUTUMN, D(2024, 5, 1), D(2024, 7, 31)),
    ("from November to February", WINTER, D(2023, 11, 1), D(2024, 2, 29)),
    ("between November and February 2024", AUTUMN, D(2023, 11, 1), D(2024, 2, 29)),
    ("from March 2023 to June 2024", AUTUMN, D(2023, 3, 1), D(2024, 6, 30)),
    ("between 2022 and 2023", AUTUMN, D(2022, 1, 1), D(2023, 12, 31)),
    ("did he call in May or June?", AUTUMN, D(2024, 5, 1), D(2024, 6, 30)),
    ("from last summer until now", AUTUMN, D(2024, 6, 1), D(2024, 10, 20)),
    ("between june and august", SUMMER, D(2024, 6, 1), D(2024, 8, 31)),
    # since
    ("since September", AUTUMN, D(2024, 9, 1), D(2024, 10, 20)),
    ("since December", AUTUMN, D(2023, 12, 1), D(2024, 10, 20)),
    ("since last summer", SPRING, D(2023, 6, 1), D(2024, 4, 20)),
    ("since 2023", AUTUMN, D(2023, 1, 1), D(2024, 10, 20)),
    ("since the start of the year", AUTUMN, D(2024, 1, 1), D(2024, 10, 20)),
    ("from June onwards", AUTUMN, D(2024, 6, 1), D(2024, 10, 20)),
    ("from June on, how did I cope?", AUTUMN, D(2024, 6, 1), D(2024, 10, 20)),
    ("ever since March 3rd", AUTUMN, D(2024, 3, 3), D(2024, 10, 20)),
    ("since April moved out", AUTUMN, D(2024, 4, 1), D(2024, 10, 20)),  # after "since": month
    # years, halves, thirds
    ("what happened in 2023?", AUTUMN, D(2023, 1, 1), D(2023, 12, 31)),
    ("this year", AUTUMN, D(2024, 1, 1), D(2024, 12, 31)),
    ("last year", AUTUMN, D(2023, 1, 1), D(2023, 12, 31)),
    ("the year before last", AUTUMN, D(2022, 1, 1), D(2022, 12, 31)),
    ("in the first half of the year", AUTUMN, D(2024, 1, 1), D(2024, 6, 30)),
    ("the first half of 2023", AUTUMN, D(2023, 1, 1), D(2023, 6, 30)),
    ("the second half of 2023", AUTUMN, D(2023, 7, 1), D(2023, 12, 31)),
    ("the second half of last year", AUTUMN, D(2023, 7, 1), D(2023, 12, 31)),
    ("early 2023", AUTUMN, D(2023, 1, 1), D(2023, 4, 30)),
    ("mid-2023", AUTUMN, D(2023, 5, 1), D(2023, 8, 31)),
    ("late 2023", AUTUMN, D(2023, 9, 1), D(2023, 12, 31)),
    ("early last year", AUTUMN, D(2023, 1, 1), D(2023, 4, 30)),
    ("late last summer", AUTUMN, D(2024, 8, 1), D(2024, 8, 31)),
    ("early March", AUTUMN, D(2024, 3, 1), D(2024, 3, 10)),
    ("mid-June", AUTUMN, D(2024, 6, 11), D(2024, 6, 20)),
    ("late February 2024", AUTUMN, D(2024, 2, 21), D(2024, 2, 29)),
    ("late February 2023", AUTUMN, D(2023, 2, 21), D(2023, 2, 28)),
    ("at the end of last year", AUTUMN, D(2023, 12, 1), D(2023, 12, 31)),
    # relative windows and "ago"
    ("over the last three months", AUTUMN, D(2024, 7, 20), D(2024, 10, 20)),
    ("over the last three months", D(2024, 5, 31), D(2024, 2, 29), D(2024, 5, 31)),
    ("in the past 2 weeks", AUTUMN, D(2024, 10, 6), D(2024, 10, 20)),
    ("the last 3 days", AUTUMN, D(2024, 10, 17), D(2024, 10, 20)),
    ("the last few months", AUTUMN, D(2024, 7, 20), D(2024, 10, 20)),
    ("a year ago I started therapy, has it helped?", AUTUMN, D(2023, 9, 1), D(2023, 11, 30)),
    ("two months ago", AUTUMN, D(2024, 8, 1), D(2024, 8, 31)),
    ("three weeks ago", AUTUMN, D(2024, 9, 23), D(2024, 9, 29)),
    ("last week", AUTUMN, D(2024, 10, 7), D(2024, 10, 13)),
    ("this month", AUTUMN, D(2024, 10, 1), D(2024, 10, 31)),
    ("last month", AUTUMN, D(2024, 9, 1), D(2024, 9, 30)),
    ("last month", D(2024, 3, 31), D(2024, 2, 1), D(2024, 2, 29)),
    # explicit dates
    ("March 3rd 2024", AUTUMN, D(2024, 3, 3), D(2024, 3, 3)),
    ("what happened on 3 March?", AUTUMN, D(2024, 3, 3), D(2024, 3, 3)),
    ("the 3rd of March", D(2024, 3, 2), D(2023, 3, 3), D(2023, 3, 3)),
    ("on 2024-03-03", AUTUMN, D(2024, 3, 3), D(2024, 3, 3)),
    ("on 29 February", WINTER_2025, D(2024, 2, 29), D(2024, 2, 29)),
    ("on Feb 29th", D(2024, 3, 10), D(2024, 2, 29), D(2024, 2, 29)),
    ("Sept. 3, 2023", AUTUMN, D(2023, 9, 3), D(2023, 9, 3)),
    ("on the 12th of June, 2023", AUTUMN, D(2023, 6, 12), D(2023, 6, 12)),
    # A range without "between"/"from", its year on the right end only.
    ("Back then, March to May 2022, who did I lean on?", AUTUMN, D(2022, 3, 1), D(2022, 5, 31)),
    ("Over the holidays, December to January 2024?", AUTUMN, D(2023, 12, 1), D(2024, 1, 31)),
    ("What did I write 4 June to 10 June 2023?", AUTUMN, D(2023, 6, 4), D(2023, 6, 10)),
    # "since" and a clause that ends on its date: from then to the anchor.
    ("Has she kept it up since I asked her in May?", AUTUMN, D(2024, 5, 1), AUTUMN),
    ("since we talked on 3 March, has he called?", AUTUMN, D(2024, 3, 3), AUTUMN),
]


@pytest.mark.parametrize(("question", "anchor", "since", "until"), CASES)
def test_cases(question: str, anchor: dt.date, since: dt.date, until: dt.date) -> None:
    assert _span(question, anchor) == (since, until)


FALSE_FRIENDS = [
    "May I ask what I did wrong?",
    "may i ask why i keep doing this?",
    "this may sound silly, but why do I keep checking?",
    "Why do I fall apart when people leave?",
    "Why did I let things fall through?",
    "Should I spring it on him or wait?",
    "Did I march into his office and quit?",
    "What did Summer say about the money?",
    "Tell me about June and me.",
    "What happened between April and me?",
    "What did I do with the letter from June?",
    "Why was the letter from June on the table?",
    "Did this fall apart because of me?",
    "How did August react when I told him?",
    "What did I write after I met Summer at the café?",
    "Did I stay in April's flat?",
    "Why do I second-guess everything?",
    "What happened the first time I trusted him?",
    "What do I remember from when I was 12?",
    "Did we argue on Sunday or on Wed?",
    "I sat in the sun with Mum on Sat, why did I cry?",
    "How have things changed this past year?",
    "What have I learnt over the past year?",
    "Since the fall, how has my hip been?",
    "How is my dog these days?",
    "What did Brennan say when I asked after one year?",
    "Why was I left out of the Q4 roadmap meeting?",
    "What did my dentist say at my last check-up?",
    "Did I tell April to June's party plans?",  # no year on the right: not a range
]


@pytest.mark.parametrize("question", FALSE_FRIENDS)
def test_false_friends_are_not_periods(question: str) -> None:
    assert resolve_period(question, AUTUMN) is None


# --- the Period itself and strip_period --------------------------------------------------


def test_period_carries_the_expression_and_offsets() -> None:
    question = "How did I deal with people letting me down in the first half of this year?"
    assert resolve_period(question, AUTUMN) == Period(
        since=D(2024, 1, 1),
        until=D(2024, 6, 30),
        text="in the first half of this year",
        start=43,
        end=73,
    )


@pytest.mark.parametrize(
    ("question", "anchor", "stripped"),
    [
        (
            "Between May and August last year, how did things stand with Len?",
            AUTUMN,
            "How did things stand with Len?",
        ),
        (
            "Who let me down last autumn, and what did I do about it?",
            SPRING,
            "Who let me down, and what did I do about it?",
        ),
        (
            "what happened with leah and the money between june and august?",
            D(2024, 11, 24),
            "what happened with leah and the money?",
        ),
        (
            "Since January, how have I been handling it when people let me down?",
            SPRING,
            "How have I been handling it when people let me down?",
        ),
        (
            "what did i do, over the last three months, when theo went quiet?",
            AUTUMN,
            "what did i do, when theo went quiet?",
        ),
        ("In spring last year", AUTUMN, ""),
    ],
)
def test_strip_period(question: str, anchor: dt.date, stripped: str) -> None:
    period = resolve_period(question, anchor)
    assert period is not None
    assert strip_period(question, period) == stripped


def test_no_anchor_means_today() -> None:
    today = dt.date.today()
    assert _span("in 2023", None) == (D(2023, 1, 1), D(2023, 12, 31))
    assert _span("this year", None) == (D(today.year, 1, 1), D(today.year, 12, 31))
    assert _span("since January", None) == (D(today.year, 1, 1), today)


@pytest.mark.eval
@pytest.mark.model
def test_reading_a_period_costs_a_small_part_of_embedding_the_question() -> None:
    """A benchmark, not a timed unit test (this machine is noisy): resolving the period of
    a question must stay a small part of what every ask pays anyway, embedding the
    question with the packaged model, measured in the same run."""
    from eval.tagger_train import packaged_embeddings

    questions = [str(q["question"]) for w in WRITERS for q in _questions(w)]
    questions += [c[0] for c in CASES] + FALSE_FRIENDS
    anchors = [D(2023, 1, 1) + dt.timedelta(days=11 * i) for i in range(60)]
    embeddings = packaged_embeddings()
    embeddings.embed_query(questions[0])  # warm up
    sample = questions[:50]
    started = time.perf_counter()
    for text in sample:
        embeddings.embed_query(text)
    per_embedding = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    for i in range(1000):
        resolve_period(questions[i % len(questions)], anchors[i % len(anchors)])
    per_period = (time.perf_counter() - started) / 1000
    assert per_period < 0.25 * per_embedding, (per_period, per_embedding)


# --- hemispheres ------------------------------------------------------------------------------

ALL_DEV = tuple(sorted(d.name for d in DEV.iterdir() if (d / "questions.json").is_file()))


def _dated_texts(writer: str) -> list[tuple[dt.date, str]]:
    with (DEV / writer / "journal.jsonl").open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return [(D.fromisoformat(r["date"]), r["text"]) for r in rows]


def test_southern_seasons_move_six_months() -> None:
    anchor = D(2025, 3, 10)
    north = resolve_period("who let me down last winter?", anchor)
    south = resolve_period("who let me down last winter?", anchor, southern=True)
    assert north is not None and south is not None
    assert (north.since, north.until) == (D(2024, 12, 1), D(2025, 2, 28))
    assert (south.since, south.until) == (D(2024, 6, 1), D(2024, 8, 31))
    summer = resolve_period("what happened over the summer?", anchor, southern=True)
    assert summer is not None and (summer.since, summer.until) == (D(2024, 12, 1), D(2025, 2, 28))
    spring = resolve_period("in spring 2024, how was I?", anchor, southern=True)
    assert spring is not None and (spring.since, spring.until) == (D(2024, 9, 1), D(2024, 11, 30))


def test_the_hemisphere_comes_from_the_journals_own_season_words() -> None:
    south = [
        (D(2025, 1, 4), "Summer at the shop is unhinged. Queue out the door."),
        (D(2024, 7, 2), "Freezing winter morning, frost on the car."),
        (D(2024, 12, 20), "Next winter we'll go skiing."),  # a plan: no vote
    ]
    north = [
        (D(2024, 1, 4), "Winter is dragging. Dark at four."),
        (D(2024, 7, 2), "Proper summer heat today."),
        (D(2024, 1, 20), "Last summer we went to the lakes."),  # another season: no vote
    ]
    assert southern_hemisphere(south)
    assert not southern_hemisphere(north)
    assert not southern_hemisphere([(D(2024, 1, 4), "Summer is here.")])  # one vote: unsure
    assert not southern_hemisphere([])


def test_hemisphere_from_a_season_starting_or_ending() -> None:
    """A season word written in the month before or after the season counts too: "winter
    is on its way" at the end of May is a southern journal's; a dish or a chore named
    after a season ("spring rolls", "spring cleaning") says nothing."""
    south = [
        (D(2024, 5, 28), "Winter is on its way, I dug out the heater."),
        (D(2024, 9, 12), "Blossom everywhere on the walk to work. Spring at last."),
        (D(2024, 6, 20), "Made spring rolls for the whole street, then spring cleaning."),
    ]
    assert southern_hemisphere(south)
    north = [
        (D(2024, 5, 3), "Summer is nearly here, the evenings are long."),
        (D(2024, 3, 10), "Still winter by the feel of it."),
        (D(2024, 10, 2), "Summer is long gone."),  # three months from both: no vote
    ]
    assert not southern_hemisphere(north)
    anchor = D(2025, 3, 1)
    period = resolve_period("Last winter, who let me down?", anchor, southern=True)
    assert period is not None and (period.since, period.until) == (D(2024, 6, 1), D(2024, 8, 31))


def test_two_stray_southern_votes_against_one_northern_stay_northern() -> None:
    """A Spanish truck driver's journal: a father's promise retold in November and a plan
    written in January look southern, spring in March is northern; two against one is
    not enough, so "the winter before last" stays December to February."""
    dated = [
        (D(2022, 11, 19), "Every May Tata said: this summer we go to the river, you and me."),
        (D(2024, 1, 25), "Maybe when she's older. Or this summer at the river, on the bank."),
        (D(2024, 3, 19), "Here it's spring, the trees white along the road."),
    ]
    assert not southern_hemisphere(dated)
    assert southern_hemisphere([*dated, (D(2023, 7, 3), "Cold winter night in the cab.")])
    anchor = D(2024, 3, 19)
    period = resolve_period(
        "What went on between me and Ioana the winter before last?",
        anchor,
        southern=southern_hemisphere(dated),
    )
    assert period is not None and (period.since, period.until) == (D(2022, 12, 1), D(2023, 2, 28))


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        # mo-q17 of round eight, once unread (an answer cited a year outside it)
        (
            "What happened with Emeka and the money in the first three months of 2022?",
            D(2022, 1, 1),
            D(2022, 3, 31),
        ),
        ("Who let me down in the first 2 months of the year?", D(2023, 1, 1), D(2023, 2, 28)),
        ("the first six weeks of 2022", D(2022, 1, 1), D(2022, 2, 11)),
        ("What did I do in the first quarter of 2022?", D(2022, 1, 1), D(2022, 3, 31)),
        ("the second quarter of last year", D(2022, 4, 1), D(2022, 6, 30)),
        ("during the last quarter of 2021", D(2021, 10, 1), D(2021, 12, 31)),
    ],
)
def test_slices_of_a_year(question: str, since: D, until: D) -> None:
    period = resolve_period(question, D(2023, 2, 26))
    assert period is not None and (period.since, period.until) == (since, until)


@pytest.mark.parametrize(
    "question",
    ["the first time I met him", "the first 13 months of 2022", "in the first three months"],
)
def test_not_slices_of_a_year(question: str) -> None:
    assert resolve_period(question, D(2023, 2, 26)) is None


# Periods read otherwise than their writer meant, and why (kept exact: a fix shows here).
KNOWN_MISREADS = {
    # "over the December holidays and in January": only the second expression is read
    "bo-q12",
    # "since the proposal in January": the writer means the day of the proposal entry
    "bo-q14",
    # "since I asked him in April": the writer means the day of the asking (7 April), read
    # as the month (the event is dated by the month the question names, not found)
    "wn-q15",
    # "How was Obon for me last summer?": July and August (Obon is in August); summer is
    # read as June to August
    "yo-q17",
    # "between september and christmas 2023": the writer means to the end of December;
    # Christmas is read as the 25th (tu-q15's writer means the 25th by it)
    "ol-q13",
    # "since TY started in september": from September to the anchor; read as September
    # (the same event-dated "since" as wn-q15)
    "ol-q15",
    # "the second half of this year": the writer stops at the last entry (28 December),
    # read to 31 December (calendar bounds are kept; nothing lies after the anchor)
    "pa-q15",
    # "Between Thanksgiving and Christmas 2021": Thanksgiving moves and differs between
    # countries (US: fourth Thursday of November), so it is not read: no period
    "tu-q15",
}


@pytest.mark.parametrize("writer", ALL_DEV)
def test_every_dev_journals_time_bounded_questions_read_as_the_writer_meant(writer: str) -> None:
    """Each dev writer's labelled periods, read with the hemisphere their journal shows
    (jo writes from New Zealand: her "last winter" is June to August)."""
    dated = _dated_texts(writer)
    anchor = max(d for d, _ in dated)
    southern = southern_hemisphere(dated)
    wrong = []
    for item in _questions(writer):
        if item["since"] is None or item.get("kind") != "time_bounded":
            continue
        period = resolve_period(str(item["question"]), anchor, southern=southern, journal=dated)
        got = None if period is None else (period.since, period.until)
        want = (D.fromisoformat(str(item["since"])), D.fromisoformat(str(item["until"])))
        if got != want:
            wrong.append(item["id"])
    assert set(wrong) == {q for q in KNOWN_MISREADS if q.startswith(f"{writer}-")}


def test_a_time_that_names_a_thing_does_not_bound_the_question() -> None:
    anchor = D(2025, 3, 10)
    question = "Have I got any better at this, or was last year's programme a blip?"
    assert resolve_period(question, anchor) is None
    found = resolve_period("What did last year's programme do for me since January?", anchor)
    assert found is not None and found.text == "since January"


def test_since_christmas_starts_on_the_last_christmas_day() -> None:
    found = resolve_period("Since Christmas, have I got any better at asking?", D(2024, 6, 2))
    assert found is not None and (found.since, found.until) == (D(2023, 12, 25), D(2024, 6, 2))
    found = resolve_period("since xmas how have i been", D(2024, 12, 30))
    assert found is not None and (found.since, found.until) == (D(2024, 12, 25), D(2024, 12, 30))
    assert resolve_period("What did Mum give me for Christmas?", D(2024, 6, 2)) is None


def test_the_last_months_of_a_named_year_end_with_that_year() -> None:
    found = resolve_period("In the last three months of 2023, who let me down?", D(2025, 1, 19))
    assert found is not None and (found.since, found.until) == (D(2023, 10, 1), D(2023, 12, 31))
    found = resolve_period("over the last three months, who let me down?", D(2025, 1, 19))
    assert found is not None and found.until == D(2025, 1, 19)


# --- periods that start at an event the journal tells --------------------------------------

EVENT_JOURNAL = [
    (D(2025, 2, 8), "mom asked what i want for my 16th. she asked why im weird about birthdays"),
    (D(2025, 3, 14), "its my birthday. 16. dad said hed call tonight for sure"),
    (D(2025, 3, 22), "birthday dinner a week late bc mom had nights all week"),
    (D(2025, 5, 2), "ever since my birthday i keep my phone face down"),
    (D(2025, 6, 1), "we moved to the new flat. the move took all day"),
    (D(2025, 9, 21), "paddling again"),
]


@pytest.mark.parametrize(
    ("question", "since"),
    [
        # the last telling of the birthday (14 and 22 March), not the look back in May
        ("since my birthday when did i tell noa whats going on", D(2025, 3, 14)),
        ("what changed after the move?", D(2025, 6, 1)),
        # the whole phrase first: the dinner was told on the 22nd
        ("since my birthday dinner, have I called dad?", D(2025, 3, 22)),
        # its first word alone when the whole phrase is never told
        ("since my birthday party, have I called dad?", D(2025, 3, 14)),
    ],
)
def test_a_period_can_start_at_an_event_the_journal_tells(question: str, since: D) -> None:
    period = resolve_period(question, D(2025, 9, 21), journal=EVENT_JOURNAL)
    assert period is not None
    assert (period.since, period.until) == (since, D(2025, 9, 21))
    assert question[period.start : period.end] == period.text


def test_an_event_the_journal_never_tells_bounds_nothing() -> None:
    assert (
        resolve_period("since my wedding, how are things?", D(2025, 9, 21), journal=EVENT_JOURNAL)
        is None
    )
    # without the journal no event is looked for
    assert resolve_period("since my birthday, how are things?", D(2025, 9, 21)) is None


def test_a_season_followed_by_its_months_is_read_as_those_months() -> None:
    """ "the fall of 2022, September to December": the writer spells out what they mean
    by the season, and the months win; months that do not overlap the season are some
    other part of the question."""
    anchor = D(2023, 11, 18)
    cases = {
        "How was work in the autumn of 2021, September to December?": (
            D(2021, 9, 1),
            D(2021, 12, 31),
        ),
        "what did I do last summer (June to August)?": (D(2023, 6, 1), D(2023, 8, 31)),
        "Over the winter, December to February, who went quiet on me?": (
            D(2022, 12, 1),
            D(2023, 2, 28),
        ),
        "in spring 2023, May to June, who let me down?": (D(2023, 5, 1), D(2023, 6, 30)),
        "in the fall of 2022, March to April was about Sam": (D(2022, 9, 1), D(2022, 11, 30)),
    }
    for question, want in cases.items():
        period = resolve_period(question, anchor)
        assert period is not None and (period.since, period.until) == want, question


def test_fixed_holidays_end_a_range_but_are_no_period_alone() -> None:
    """Christmas (Eve), New Year's Day and New Year's Eve are days that can end or open a
    range; "at Christmas 2023" alone means the days around it, so it bounds nothing.
    Holidays that move (Thanksgiving, Easter) are not read."""
    anchor = D(2024, 11, 30)
    cases = {
        "what did I do between October and Christmas 2023?": (D(2023, 10, 1), D(2023, 12, 25)),
        "from Christmas Eve to New Year's Day 2023, who rang?": (D(2022, 12, 24), D(2023, 1, 1)),
        "between christmas and new year's eve, was I ok": (D(2023, 12, 25), D(2023, 12, 31)),
        "since new year's eve, has Sam been honest?": (D(2023, 12, 31), anchor),
        "since New Year's Day, has Sam been honest?": (D(2024, 1, 1), anchor),
    }
    for question, want in cases.items():
        period = resolve_period(question, anchor)
        assert period is not None and (period.since, period.until) == want, question
    for alone in ("what happened at christmas 2023?", "between Easter and Christmas, who helped?"):
        assert resolve_period(alone, anchor) is None, alone
