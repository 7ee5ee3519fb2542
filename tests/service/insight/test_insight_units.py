"""Unit tests of the insight engine's pure parts: episodes and behaviour counts, habit
wording, practices, past versus present, follow-ups and progress. Labels are built by
hand here, so each test states exactly what the tagger would have found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ingest.experiments_store import TrustExperiment
from ingest.labels_store import EntryLabels, LabelSpan
from service.errors import UnknownPractice
from service.insight.episodes import count_behaviours, extract_episode, extract_episodes
from service.insight.followups import followups
from service.insight.habits import habit_answer, past_present_answer, second_person
from service.insight.practices import load_practice, normalise_name, personalise, practice_names
from service.insight.progress import build_progress, plot_progress
from service.insight.reflect import Candidate, is_past_present_question, reflect
from service.taxonomy import load_taxonomy

GROUP = {n: lab.group for n, lab in load_taxonomy().items()}


def span(text: str, sentence: str, label: str, score: float = 0.8) -> LabelSpan:
    start = text.index(sentence)
    return LabelSpan(
        label=label, group=GROUP[label], score=score, start=start, end=start + len(sentence)
    )


def labelled(
    eid: str, date: str, text: str, era: str, hits: list[tuple[str, str]]
) -> tuple[EntryLabels, list[LabelSpan]]:
    spans = [span(text, s, lab) for s, lab in hits]
    best: dict[str, LabelSpan] = {}
    for s in spans:
        best.setdefault(s.label, s)
    return EntryLabels(entry_id=eid, date=dt.date.fromisoformat(date), era=era, labels=best), spans


T1 = (
    "Sam cancelled our dinner an hour before. I felt betrayed and small. "
    "I didn't answer his texts for two days. Eventually he called and we talked."
)
T2 = (
    "Jo forgot my birthday again. It felt like a betrayal. "
    "I kept checking her stories to see who she was with. "
    "I didn't reply to her message either."
)
T3 = "Lunch with Ana was easy. I told her what I needed and she listened."
T4 = (
    "When I was nine my father promised to come to my recital and never showed. "
    "I stopped asking him for anything after that."
)


@pytest.fixture
def journal() -> tuple[dict[str, EntryLabels], dict[str, list[LabelSpan]], dict[str, str]]:
    rows = {
        "e1": labelled(
            "e1",
            "2024-03-02",
            T1,
            "recent",
            [
                ("I felt betrayed and small.", "betrayal"),
                ("I didn't answer his texts for two days.", "avoidance"),
            ],
        ),
        "e2": labelled(
            "e2",
            "2024-05-10",
            T2,
            "recent",
            [
                ("It felt like a betrayal.", "betrayal"),
                ("I kept checking her stories to see who she was with.", "hypervigilance"),
                ("I didn't reply to her message either.", "avoidance"),
            ],
        ),
        "e3": labelled(
            "e3",
            "2025-01-15",
            T3,
            "present",
            [
                ("I told her what I needed and she listened.", "trust_experiment"),
            ],
        ),
        "e4": labelled(
            "e4",
            "2023-02-01",
            T4,
            "origin",
            [
                (
                    "When I was nine my father promised to come to my recital and never showed.",
                    "abandonment",
                ),
                ("I stopped asking him for anything after that.", "preemptive_withdrawal"),
            ],
        ),
    }
    labels = {k: v[0] for k, v in rows.items()}
    spans = {k: v[1] for k, v in rows.items()}
    texts = {"e1": T1, "e2": T2, "e3": T3, "e4": T4}
    return labels, spans, texts


def test_episode_parts_are_verbatim_and_ordered(journal) -> None:
    labels, spans, _texts = journal
    ep = extract_episode("e1", T1, labels["e1"], spans["e1"])
    assert ep is not None
    assert ep.trigger is not None and ep.trigger.quote == "Sam cancelled our dinner an hour before."
    assert ep.feeling is not None and ep.feeling.label == "betrayal"
    assert [r.label for r in ep.responses] == ["avoidance"]
    assert ep.outcome is not None and ep.outcome.quote == "Eventually he called and we talked."
    for part in (ep.trigger, ep.feeling, *ep.responses, ep.outcome):
        assert part.quote in T1


def test_entry_without_labels_has_no_episode() -> None:
    el = EntryLabels(entry_id="x", date=dt.date(2024, 1, 1), era="present", labels={})
    assert extract_episode("x", "Soup and rain. Quiet night.", el, []) is None


def test_rejected_label_is_not_a_response(journal) -> None:
    labels, spans, _ = journal
    el = labels["e2"]
    corrected = EntryLabels(
        entry_id="e2",
        date=el.date,
        era=el.era,
        labels={k: v for k, v in el.labels.items() if k != "hypervigilance"},
    )
    ep = extract_episode("e2", T2, corrected, spans["e2"])
    assert ep is not None and [r.label for r in ep.responses] == ["avoidance"]


def test_behaviours_count_episodes_of_the_trigger_with_a_citation_each(journal) -> None:
    labels, spans, texts = journal
    episodes = extract_episodes(labels, spans, texts)
    matching, behaviours = count_behaviours(episodes, ["betrayal"])
    assert [e.entry_id for e in matching] == ["e1", "e2"]
    got = {b.pattern: (b.count, b.of) for b in behaviours}
    assert got == {"avoidance": (2, 2), "hypervigilance": (1, 2)}
    for b in behaviours:
        assert len(b.citations) == b.count
        for c in b.citations:
            assert c.quote in texts[c.entry_id]


def test_habit_answer_wording(journal) -> None:
    labels, spans, texts = journal
    _, behaviours = count_behaviours(extract_episodes(labels, spans, texts), ["betrayal"])
    text, public = habit_answer("I feel betrayed", behaviours)
    summary, *evidence = text.split("\n")
    assert summary == (
        "When you feel betrayed you most often go quiet or keep your distance (2 of 2 "
        "episodes). You also check for signs that something is wrong (1 of 2)."
    )
    assert evidence and all(line.startswith("- 2024-") for line in evidence)
    assert [b.pattern for b in public] == ["avoidance", "hypervigilance"]
    assert second_person("I think my friend hates me") == "you think your friend hates you"


def test_practice_files_and_names() -> None:
    assert practice_names() == [
        "pattern_recognition",
        "self_trust_rebuild",
        "trust_experiment",
        "trust_history",
    ]
    assert normalise_name("Trust History") == "trust_history"
    assert load_practice("trust-experiment").title == "Trust Experiment"
    with pytest.raises(UnknownPractice):
        load_practice("astrology")


def test_practice_personalised_with_own_evidence_or_plain(journal) -> None:
    labels, _, texts = journal
    r = personalise(load_practice("trust_history"), labels, texts)
    first = r.questions[0]
    # The first Trust History question asks about the origins: only the origin entry fits.
    assert first.personalised and first.citations[0].entry_id == "e4"
    assert "On 2023-02-01 you wrote" in first.question
    assert first.citations[0].quote in texts["e4"]
    quoted = [q.citations[0].entry_id for q in r.questions if q.personalised]
    assert len(quoted) == len(set(quoted))  # no entry quoted twice in one practice
    empty = personalise(load_practice("self_trust_rebuild"), {}, {})
    assert all(not q.personalised and q.question == q.plain for q in empty.questions)


def test_reflect_returns_the_origin_the_present_echoes(journal) -> None:
    labels, _, texts = journal
    # The situation resembles e1 in words; the origin e4 shares no words with it.
    cands = [Candidate("e1", 0, 40, 0.62, "recent"), Candidate("e2", 0, 27, 0.41, "recent")]
    r = reflect(
        "Sam is late again and hasn't texted.",
        cands,
        labels,
        texts,
        situation_labels={"abandonment", "avoidance"},
        today=dt.date(2025, 6, 1),
    )
    assert not r.abstained
    assert r.echoes[0].entry_id == "e4" and r.echoes[0].era == "origin"
    assert {e.entry_id for e in r.echoes} == {"e4", "e1", "e2"}
    for e in r.echoes:
        assert e.quote in texts[e.entry_id]
    assert any("abandonment" in s.statement for s in r.same)
    assert any("2 years ago" in s.statement for s in r.different)
    repair = [s for s in r.different if "acted differently" in s.statement]
    assert repair and repair[0].citations[0].entry_id == "e3"
    assert 3 <= len(r.questions) <= 5
    text, cites = past_present_answer(r)
    assert "This echoes something you wrote on 2023-02-01 (origin)" in text
    assert all(c.quote in texts[c.entry_id] for c in cites)


def test_reflect_abstains_without_echoes(journal) -> None:
    labels, _, texts = journal
    r = reflect("My dentist moved my appointment.", [Candidate("e3", 0, 10, 0.1)], labels, texts)
    assert r.abstained and r.echoes == [] and r.questions


def test_past_present_questions_are_recognised() -> None:
    assert is_past_present_question("Is my fear about my partner, or about my past?")
    assert is_past_present_question("is this about then or now?")
    assert not is_past_present_question("what do I usually do when I feel betrayed?")


def test_followups_cite_related_past_entries_only(journal) -> None:
    labels, _, texts = journal
    new_text = "Rui cancelled on me. I felt betrayed. I went quiet all evening."
    new = labelled(
        "n1",
        "2025-03-01",
        new_text,
        "present",
        [
            ("I felt betrayed.", "betrayal"),
            ("I went quiet all evening.", "avoidance"),
        ],
    )[0]
    all_labels = {**labels, "n1": new}
    all_texts = {**texts, "n1": new_text}
    cands = [
        Candidate("n1", 0, 20, 0.99),  # the new entry itself is never cited
        Candidate("e1", 41, 67, 0.7),
        Candidate("e2", 28, 52, 0.5),
        Candidate("zz", 0, 5, 0.9),  # not this person's entry: no labels, no text
    ]
    fs = followups("n1", new.date, new, cands, all_labels, all_texts)
    assert 1 <= len(fs) <= 3
    cited = [c.entry_id for f in fs for c in f.citations]
    assert "n1" not in cited and "zz" not in cited
    assert fs[0].kind == "same_feeling" and fs[0].question.startswith("In March 2024 you wrote")
    assert any(f.kind == "repair" and f.citations[0].entry_id == "e3" for f in fs)
    for f in fs:
        for c in f.citations:
            assert c.quote in all_texts[c.entry_id]


def test_followups_plain_without_related_past() -> None:
    fs = followups("n1", dt.date(2025, 1, 1), None, [], {}, {})
    assert len(fs) == 1 and fs[0].kind == "plain" and not fs[0].citations


def test_progress_counts_per_month_and_trend(journal, tmp_path: Path) -> None:
    labels, _, _ = journal
    x = TrustExperiment(
        id="x1",
        user_id="u",
        who="Ana",
        risk="ask",
        success="asked",
        status="done",
        outcome="as_hoped",
        created_at=dt.datetime(2025, 1, 2, tzinfo=dt.UTC),
        recorded_at=dt.datetime(2025, 1, 20, tzinfo=dt.UTC),
    )
    r = build_progress(labels, [x])
    months = {m.month: m for m in r.months}
    assert list(months) == ["2023-02", "2024-03", "2024-05", "2025-01"]
    assert months["2024-05"].patterns["avoidance"].entries == ["e2"]
    assert months["2024-05"].patterns["hypervigilance"].count == 1
    assert months["2024-05"].defensive_per_entry == 2.0
    assert months["2025-01"].repair["trust_experiment"].entries == ["e3"]
    assert months["2025-01"].experiments_planned == 1
    assert months["2025-01"].experiments_recorded == 1
    assert r.totals["avoidance"] == 2 and r.totals["trust_experiment"] == 1
    assert r.experiments == {
        "planned": 1,
        "recorded": 1,
        "as_hoped": 1,
        "mixed": 0,
        "not_as_hoped": 0,
    }
    assert r.trend.direction == "improving"
    png = plot_progress(r, tmp_path / "p.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_progress_with_one_month_has_no_trend(journal) -> None:
    labels, _, _ = journal
    r = build_progress({"e1": labels["e1"]}, [])
    assert r.trend.direction == "not enough data"
