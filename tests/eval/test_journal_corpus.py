"""``trustlens eval journal --corpus DIR``: the scoring functions on hand-made cases (exact
figures, no model), and one end-to-end run over a tiny two-journal corpus written here,
with fake embeddings, checking the report's shape and the figures that do not depend on
what retrieval finds."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eval.journal_corpus import (
    DEFENSIVE,
    KINDS,
    PATTERN_LABELS,
    PRACTICE,
    REPAIR,
    Journal,
    Observed,
    direction_check,
    general_habit_id,
    load_corpus,
    observe_answer,
    plain,
    plan_correct,
    pool,
    question_figures,
    question_row,
    run_corpus,
    score_journal,
    summary,
)
from eval.metrics.behaviours import gold_top_responses, top_matches
from eval.metrics.label_prf import add_counts, label_counts, macro_f1, per_label, prf
from eval.metrics.quotes import quote_checks
from eval.metrics.thirds import direction, thirds
from eval.metrics.time_window import outside_window
from ingest.labels_store import known_labels
from service.ask.schemas import AskResponse, BehaviorPublic
from service.container import Container
from service.schemas import Citation
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

# ------------------------------------------------------------------ metric modules


def test_label_counts_prf_and_macro_leave_out_unused_labels() -> None:
    gold = {"a": {"x"}, "b": set(), "c": {"x", "y"}}
    predicted = {"a": ["x"], "b": ["x"], "zzz": ["x"]}  # c missing: no labels; zzz ignored
    counts = label_counts(predicted, gold, ["x", "y", "z"])
    assert counts == {
        "x": {"tp": 1, "fp": 1, "fn": 1},
        "y": {"tp": 0, "fp": 0, "fn": 1},
        "z": {"tp": 0, "fp": 0, "fn": 0},
    }
    assert prf(1, 1, 1) == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert prf(0, 2, 0) == {"precision": 0.0, "recall": None, "f1": 0.0, "support": 0}
    assert prf(0, 0, 0) == {"precision": None, "recall": None, "f1": None, "support": 0}
    assert per_label(counts)["y"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert macro_f1(counts) == 0.25  # x 0.5, y 0.0; z never used nor labelled
    assert macro_f1({"z": {"tp": 0, "fp": 0, "fn": 0}}) is None
    pooled = add_counts(counts, {"x": {"tp": 2, "fp": 0, "fn": 0}})
    assert pooled["x"] == {"tp": 3, "fp": 1, "fn": 1}
    assert pooled["y"] == {"tp": 0, "fp": 0, "fn": 1}


def test_outside_window_counts_distinct_entries_and_open_ends() -> None:
    cited = [("a", "2024-01-31"), ("b", "2024-02-01"), ("c", "2024-03-01"), ("a", "2024-01-31")]
    assert outside_window(cited, "2024-02-01", "2024-02-29") == ["a", "c"]
    assert outside_window(cited, None, "2024-02-29") == ["c"]
    assert outside_window(cited, "2024-02-01", None) == ["a"]
    assert outside_window(cited, None, None) == []


def test_quote_checks_short_and_not_verbatim() -> None:
    texts = {"a": "I went quiet for days after that.", "b": "Soup."}
    got = quote_checks(
        [
            ("a", "I went quiet for days"),
            ("b", "Soup."),
            ("a", "I went silent for days"),
            ("x", "y"),
        ],
        texts,
    )
    assert got["checked"] == 4
    assert got["short"] == 2  # "Soup." and "y"
    assert got["not_verbatim"] == 2  # a wording that is not in the entry, an unknown entry
    assert got["not_verbatim_quotes"] == [["a", "I went silent for days"], ["x", "y"]]
    assert quote_checks([], texts)["checked"] == 0


def test_thirds_sort_by_date_then_id_and_count_distinct_labels() -> None:
    dated = {
        "g": "2024-07-01",
        "a": "2024-01-01",
        "c": "2024-02-01",
        "b": "2024-02-01",
        "d": "2024-03-01",
        "f": "2024-06-01",
        "e": "2024-05-01",
    }
    labels = {
        "a": ["avoidance", "avoidance", "testing"],  # distinct: 2 defensive
        "b": ["avoidance"],
        "f": ["self_trust"],
        "g": ["self_trust", "trust_experiment", "projection"],
        "d": ["avoidance"],  # the middle third is not used
    }
    t = thirds(dated, labels, DEFENSIVE, REPAIR)
    assert t["earliest"] == {
        "entries": 2,
        "defensive_per_entry": 1.5,
        "repair_per_entry": 0.0,
        "entry_ids": ["a", "b"],
    }
    assert t["latest"] == {
        "entries": 2,
        "defensive_per_entry": 0.5,
        "repair_per_entry": 1.5,
        "entry_ids": ["f", "g"],
    }
    assert (t["defensive"], t["repair"]) == ("down", "up")
    two = thirds({"a": "2024-01-01", "b": "2024-01-02"}, {}, DEFENSIVE, REPAIR)
    assert two["earliest"]["entries"] == 0 and two["defensive"] is None
    assert direction(0.5, 0.5) == "same" and direction(0.1, 0.10000001) == "same"
    assert direction(None, 1.0) is None


def test_gold_top_responses_ties_and_top_matches() -> None:
    labels: dict[str, dict[str, Any]] = {
        "a": {"episodes": [{"response_label": "avoidance"}, {"response_label": "testing"}]},
        "b": {"episodes": [{"response_label": "testing"}, {"response_label": None}]},
        "c": {"episodes": [{"response_label": "avoidance"}]},
    }
    assert gold_top_responses(labels, ["a", "b"]) == {"testing"}
    assert gold_top_responses(labels, ["a", "b", "c"]) == {"avoidance", "testing"}
    assert gold_top_responses(labels, ["c", "zzz"]) == {"avoidance"}
    assert gold_top_responses(labels, ["zzz"]) == set()
    assert top_matches(["testing", "avoidance"], {"avoidance", "testing"}) is True
    assert top_matches(["avoidance", "testing"], {"testing"}) is False
    assert top_matches([], {"testing"}) is False
    assert top_matches(["testing"], set()) is None


def test_pattern_labels_are_the_taxonomys_patterns_and_repair_signals() -> None:
    groups = known_labels()
    assert set(DEFENSIVE) == {n for n, g in groups.items() if g == "patterns"}
    assert set(REPAIR) == {n for n, g in groups.items() if g == "repair"}
    assert len(PATTERN_LABELS) == 9


# ------------------------------------------------------------------ per question


def test_plan_correct_by_kind_and_by_period() -> None:
    habit = {"kind": "habit", "since": None, "until": None}
    bounded = {"kind": "time_bounded", "since": "2024-01-01", "until": "2024-02-29"}
    assert plan_correct(habit, {"kind": "habit"}) is True
    assert plan_correct(habit, {"kind": "pattern"}) is False
    assert plan_correct(habit, None) is None
    assert plan_correct({"kind": "unanswerable"}, {"kind": "lookup"}) is None
    # the period decides, whatever kind the planner gave; dates may be date objects
    right = {"kind": "habit", "since": dt.date(2024, 1, 1), "until": "2024-02-29"}
    assert plan_correct(bounded, right) is True
    assert plan_correct(bounded, {"kind": "time_bounded", "since": "2024-01-01"}) is False


def test_general_habit_question_is_the_first_about_being_let_down() -> None:
    qs = [
        {"id": "q1", "kind": "lookup", "question": "who let me down?"},
        {"id": "q2", "kind": "habit", "question": "what do I do when Sam is late?"},
        {"id": "q3", "kind": "habit", "question": "what do I usually do when people let me down?"},
        {"id": "q4", "kind": "habit", "question": "what do I do when someone lets me down?"},
    ]
    assert general_habit_id(qs) == "q3"
    by_notes = [
        {"id": "h", "kind": "habit", "question": "what do I do?", "notes": "every let-down"}
    ]
    assert general_habit_id([qs[1], *by_notes]) == "h"
    assert general_habit_id(qs[1:2]) == "q2"  # none about being let down: the first habit one
    assert general_habit_id(qs[:1]) is None


def _journal() -> Journal:
    """Three entries; the first an origin entry with two avoidance episodes."""
    return Journal(
        name="j",
        path=Path("j/journal.jsonl"),
        entries={
            "e1": {"date": "2024-01-01", "text": "I went quiet for days after he cancelled."},
            "e2": {"date": "2024-01-02", "text": "He tested me and I tested him back."},
            "e3": {"date": "2024-01-03", "text": "I told him it hurt, plainly and calmly."},
        },
        labels={
            "e1": {
                "era": "origin",
                "patterns": [{"label": "avoidance"}, {"label": "avoidance"}],
                "episodes": [
                    {"response_label": "avoidance"},
                    {"response_label": "testing"},
                    {"response_label": "avoidance"},
                ],
            },
            "e2": {"era": "present", "patterns": [{"label": "testing"}], "episodes": []},
            "e3": {
                "era": "present",
                "patterns": [{"label": "self_trust"}],
                "episodes": [{"response_label": None}],
            },
        },
        questions=[
            {
                "id": "q1",
                "kind": "habit",
                "question": "what do I usually do when someone lets me down?",
                "answerable": True,
                "relevant": ["e1", "e3"],
            },
            {
                "id": "q2",
                "kind": "time_bounded",
                "question": "what happened in the first days of January?",
                "answerable": True,
                "relevant": ["e2", "e3"],
                "since": "2024-01-02",
                "until": "2024-01-03",
            },
            {
                "id": "q3",
                "kind": "unanswerable",
                "question": "what did my dentist say?",
                "answerable": False,
                "relevant": [],
            },
            {
                "id": "q4",
                "kind": "origin",
                "question": "where did it start?",
                "answerable": True,
                "relevant": ["e1"],
            },
        ],
    )


def _cite(entry_id: str, quote: str, date: str = "2024-01-01") -> dict[str, str]:
    return {"entry_id": entry_id, "date": date, "quote": quote}


def _observed() -> Observed:
    j = _journal()
    quiet = _cite("e1", "I went quiet for days")
    return Observed(
        answers={
            "q1": {
                "abstained": False,
                "citations": [quiet, _cite("e2", "tested me")],
                "behaviors": [{"pattern": "avoidance", "citations": [quiet]}],
                "plan": {"kind": "habit"},
            },
            "q2": {
                "abstained": False,
                "citations": [_cite("e1", "after he cancelled"), _cite("e3", "I told him it hurt")],
                "behaviors": [],
                "plan": {"kind": "time_bounded", "since": "2024-01-02", "until": "2024-01-31"},
            },
            "q3": {"abstained": True, "citations": [], "behaviors": [], "plan": {"kind": "lookup"}},
            "q4": {"abstained": True, "citations": [], "behaviors": [], "plan": {"kind": "origin"}},
        },
        entries={"e1": ["avoidance"], "e2": ["avoidance"], "e3": ["self_trust"]},
        thirds=None,
        practice=[
            {"id": "first_lesson", "citations": [quiet]},  # looks back (era origin)
            {"id": "still_useful", "citations": []},
            {
                "id": "who_kept_faith",
                "citations": [_cite("e2", "He tested me and I tested her back")],
            },
        ],
        texts={eid: e["text"] for eid, e in j.entries.items()},
        seconds={"total_s": 1.5},
    )


def test_question_rows_for_habit_and_time_bounded() -> None:
    j, o = _journal(), _observed()
    habit = question_row(j.questions[0], o.answers["q1"], j, general="q1")
    assert habit["cited"] == ["e1", "e2"]
    assert (habit["precision"], habit["recall"]) == (0.5, 0.5)
    assert habit["gold_top_behaviours"] == ["avoidance"]
    assert (habit["top_behaviour"], habit["top_matches"], habit["general"]) == (
        "avoidance",
        True,
        True,
    )
    assert "out_of_window" not in habit
    bounded = question_row(j.questions[1], o.answers["q2"], j)
    assert bounded["out_of_window"] == ["e1"]
    assert bounded["plan_correct"] is False
    unanswerable = question_row(j.questions[2], o.answers["q3"], j)
    assert unanswerable["precision"] is None and unanswerable["plan_correct"] is None
    origin = question_row(j.questions[3], o.answers["q4"], j)
    assert (origin["precision"], origin["recall"], origin["plan_correct"]) == (None, 0.0, True)


def test_score_journal_exact_figures() -> None:
    s = score_journal(_journal(), _observed())
    f = s["figures"]
    expected = {
        "answerable.questions": 3,
        "answerable.precision": 0.5,  # q1 0.5, q2 0.5; q4 cites nothing: no precision
        "answerable.recall": 0.3333,  # 0.5, 0.5, 0.0
        "habit.precision": 0.5,
        "habit.recall": 0.5,
        "origin.questions": 1,
        "origin.precision": None,
        "origin.recall": 0.0,
        "time_bounded.recall": 0.5,
        "lookup.questions": 0,
        "lookup.recall": None,
        "abstention.wrongful": 1,
        "abstention.unanswerable_questions": 1,
        "abstention.unanswerable_share": 1.0,
        "time_bounded.out_of_window": 1,
        "time_bounded.questions_out_of_window": 1,
        "habit.top_matches": 1.0,
        "habit.general_top_matches": 1.0,
        "planner.scored": 3,
        "planner.accuracy": 0.6667,
        "planner.habit.accuracy": 1.0,
        "planner.time_bounded.accuracy": 0.0,
        "planner.lookup.accuracy": None,
        "patterns.entries": 3,
        "patterns.avoidance.precision": 0.5,
        "patterns.avoidance.recall": 1.0,
        "patterns.avoidance.f1": 0.6667,
        "patterns.avoidance.support": 1,
        "patterns.testing.recall": 0.0,
        "patterns.testing.f1": 0.0,
        "patterns.self_trust.f1": 1.0,
        "patterns.hypervigilance.f1": None,
        "patterns.macro_f1": 0.5556,  # (0.6667 + 0 + 1) / 3; unused labels left out
        "direction.gold.defensive": "down",
        "direction.gold.repair": "up",
        "direction.defensive_agrees": None,  # the report has no thirds
        "direction.repair_agrees": None,
        f"practices.{PRACTICE}.cited": 2,
        f"practices.{PRACTICE}.origin_share": 0.5,
        f"practices.{PRACTICE}.looking_back": 1,  # first_lesson
        f"practices.{PRACTICE}.looking_back_origin": 1,
        "quotes.checked": 7,  # 4 answer, 1 behaviour, 2 practice
        "quotes.short": 2,  # "tested me", "after he cancelled"
        "quotes.not_verbatim": 1,  # "... tested her back"
        "runtime.total_s": 1.5,
    }
    assert {k: f[k] for k in expected} == expected
    assert s["direction"]["gold"]["earliest"]["entry_ids"] == ["e1"]
    assert s["practices"][PRACTICE]["questions"][0] == {
        "id": "first_lesson",
        "cited": ["e1"],
        "eras": ["origin"],
        "origin": True,
        "looks_back": True,
    }


def _second_journal() -> tuple[Journal, Observed]:
    """A habit question answered without behaviours, over-predicted avoidance, and a
    report that has thirds."""
    text = "I said nothing to Sam about it."
    j = Journal(
        name="k",
        path=Path("k/journal.jsonl"),
        entries={
            "g1": {"date": "2023-01-01", "text": text},
            "g2": {"date": "2023-01-02", "text": "Soup for lunch."},
            "g3": {"date": "2023-01-03", "text": "A long walk."},
        },
        labels={
            "g1": {
                "era": "present",
                "patterns": [{"label": "avoidance"}],
                "episodes": [{"response_label": "avoidance"}],
            },
            "g2": {"era": "present", "patterns": [], "episodes": []},
            "g3": {"era": "present", "patterns": [], "episodes": []},
        },
        questions=[
            {
                "id": "k1",
                "kind": "habit",
                "question": "what do I do when Sam is late?",
                "answerable": True,
                "relevant": ["g1"],
            }
        ],
    )
    o = Observed(
        answers={
            "k1": {
                "abstained": False,
                "citations": [_cite("g1", text, "2023-01-01")],
                "behaviors": [],
                "plan": None,
            }
        },
        entries={"g1": ["avoidance"], "g2": ["avoidance"], "g3": ["avoidance"]},
        thirds={"defensive": "down", "repair": "up", "earliest": {}, "latest": {}},
        practice=[],
        texts={"g1": text},
        seconds={"total_s": 2.25},
    )
    return j, o


def test_pool_micro_over_entries_and_shares_of_journals() -> None:
    j2, o2 = _second_journal()
    k = score_journal(j2, o2)
    assert k["figures"]["patterns.avoidance.f1"] == 0.5  # tp 1, fp 2
    assert k["figures"]["direction.gold.defensive"] == "down"
    assert k["figures"]["direction.gold.repair"] == "same"
    assert k["figures"]["direction.defensive_agrees"] == 1.0
    assert k["figures"]["direction.repair_agrees"] == 0.0
    assert k["direction"]["same_entries"] is False
    assert k["figures"]["habit.general_top_matches"] == 0.0  # the only habit question
    scored = {"j": score_journal(_journal(), _observed()), "k": k}
    p = pool(scored)
    expected = {
        "journals": 2,
        "habit.precision": 0.75,
        "habit.recall": 0.75,
        "habit.top_matches": 0.5,
        "habit.general_top_matches": 0.5,
        "answerable.questions": 4,
        "planner.scored": 3,  # k1 has no plan
        "patterns.entries": 6,
        "patterns.avoidance.f1": 0.5714,  # tp 2, fp 3, fn 0 (micro), not mean(0.6667, 0.5)
        "patterns.macro_f1": 0.5238,  # (0.5714 + 0 + 1) / 3
        "direction.defensive_agrees": 1.0,  # over journals whose report has thirds
        "direction.repair_agrees": 0.0,
        f"practices.{PRACTICE}.cited": 2,
        f"practices.{PRACTICE}.origin_share": 0.5,
        f"practices.{PRACTICE}.looking_back": 1,
        f"practices.{PRACTICE}.looking_back_origin": 1,
        "quotes.checked": 8,
        "quotes.short": 2,
        "quotes.not_verbatim": 1,
        "runtime.total_s": 3.75,
    }
    assert {key: p[key] for key in expected} == expected
    flat = summary(scored, p)
    assert flat["pooled.habit.precision"] == 0.75
    assert flat["j.habit.precision"] == 0.5
    assert flat["k.patterns.avoidance.f1"] == 0.5


def test_question_figures_of_nothing() -> None:
    f = question_figures([])
    assert f["answerable.questions"] == 0 and f["answerable.precision"] is None
    assert f["abstention.unanswerable_share"] is None and f["planner.accuracy"] is None
    assert {f"{k}.recall" for k in KINDS if k != "unanswerable"} <= set(f)


def test_direction_check_without_entry_ids() -> None:
    gold = thirds({"a": "2024-01-01", "b": "2024-01-02", "c": "2024-01-03"}, {}, DEFENSIVE, REPAIR)
    got = direction_check(gold, {"defensive": "same", "repair": "same"})
    assert (got["defensive_agrees"], got["repair_agrees"]) == (1.0, 1.0)
    assert "same_entries" not in got


# ------------------------------------------------------------- service → plain data


def test_observe_answer_reads_responses_with_or_without_a_plan() -> None:
    c = Citation(entry_id="e1", date="2024-01-01", quote="I went quiet for days")
    resp = AskResponse(
        question="q",
        answer="a",
        abstained=False,
        mode="extractive",
        citations=[c],
        behaviors=[BehaviorPublic(pattern="avoidance", count=1, of=2, citations=[c])],
    )
    got = observe_answer(resp)
    assert got["citations"] == [_cite("e1", "I went quiet for days")]
    assert got["behaviors"][0]["pattern"] == "avoidance"
    assert got["plan"] is None or isinstance(got["plan"], dict)
    assert plain(None) is None
    assert plain({"kind": "habit"}) == {"kind": "habit"}
    assert plain(c) == _cite("e1", "I went quiet for days")


# ------------------------------------------------------------------- end to end

_AA = [
    ("aa1", "2024-01-01", "Dad said he would come on Saturday and he never showed up. I did "
     "not reply to his text and went quiet for the whole weekend. Mum asked and I said fine."),
    ("aa2", "2024-01-08", "I checked his last seen again and again all night long, waiting "
     "for a sign that he still cared about me."),
    ("aa3", "2024-02-02", "Went to the beach with Mum. The sea was cold and we ate chips on "
     "the harbour wall."),
    ("aa4", "2024-02-20", "When I was eight Dad forgot my birthday party and I waited by the "
     "window until it was dark. That is when I learned not to count on anyone."),
    ("aa5", "2024-03-10", "Dad cancelled again, but this time I told him plainly that it "
     "hurt me and asked him to ring me on Sunday. He did ring."),
    ("aa6", "2024-03-30", "I decided to trust Jo with the secret as a small experiment, and "
     "she kept it. I trusted my own read of her."),
]  # fmt: skip
_BB = [
    ("bb1", "2023-05-01", "I told Sam I was upset that she was late, and we talked it "
     "through over coffee. I trusted myself to say it."),
    ("bb2", "2023-05-09", "Ordinary day at work. Lunch was tomato soup and a cheese roll."),
    ("bb3", "2023-06-01", "Long walk by the canal after work, the herons were out."),
    ("bb4", "2023-06-15", "Painted the hallway a pale green colour, it took all afternoon."),
    ("bb5", "2023-07-01", "Sam did not answer for two days and I ignored all of her "
     "messages after that. I just went silent on her."),
    ("bb6", "2023-07-20", "I stopped replying to Sam and left the group chat before anyone "
     "could leave me first."),
]  # fmt: skip


def _labels(spec: dict[str, tuple[str, list[str], list[str]]]) -> dict[str, Any]:
    """entry → (era, pattern labels, episode response labels)."""
    return {
        "version": 2,
        "labels": {
            eid: {
                "era": era,
                "patterns": [{"label": p, "sentence": "x"} for p in patterns],
                "emotions": [],
                "people": [],
                "episodes": [
                    {"by": "x", "trigger": "x", "response": "x", "response_label": r}
                    for r in responses
                ],
            }
            for eid, (era, patterns, responses) in spec.items()
        },
    }


def _question(
    qid: str, kind: str, question: str, relevant: list[str], since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": qid,
        "question": question,
        "kind": kind,
        "answerable": kind != "unanswerable",
        "relevant": relevant,
        "since": since,
        "until": until,
        "notes": "",
    }


def _write_corpus(root: Path) -> Path:
    corpus = root / "tiny"
    aa_labels = {
        "aa1": ("present", ["avoidance"], ["avoidance", "avoidance"]),
        "aa2": ("present", ["hypervigilance"], ["hypervigilance"]),
        "aa3": ("present", [], []),
        "aa4": ("origin", [], []),
        "aa5": ("present", ["self_trust"], ["self_trust"]),
        "aa6": ("present", ["trust_experiment", "self_trust"], []),
    }
    bb_labels = {
        "bb1": ("present", ["self_trust"], ["self_trust"]),
        "bb2": ("present", [], []),
        "bb3": ("present", [], []),
        "bb4": ("present", [], []),
        "bb5": ("present", ["avoidance"], ["avoidance"]),
        "bb6": ("present", ["preemptive_withdrawal", "avoidance"], ["preemptive_withdrawal"]),
    }
    aa_q = [
        _question("aa-q1", "habit", "what do I usually do when someone lets me down?",
                  ["aa1", "aa2", "aa5"]),
        _question("aa-q2", "origin", "when did I first learn not to count on people?", ["aa4"]),
        _question("aa-q3", "time_bounded", "how did I handle Dad in March?", ["aa5"],
                  "2024-03-01", "2024-03-31"),
        _question("aa-q4", "lookup", "what did we eat at the beach with Mum?", ["aa3"]),
        _question("aa-q5", "unanswerable", "what did my dentist say about my teeth?", []),
    ]  # fmt: skip
    bb_q = [
        _question("bb-q1", "habit", "what do I do when Sam goes quiet?", ["bb5", "bb6"]),
        _question("bb-q2", "habit", "what do I usually do when people let me down?",
                  ["bb1", "bb5", "bb6"]),
        _question("bb-q3", "person", "tell me about Sam and me", ["bb1", "bb5", "bb6"]),
        _question("bb-q4", "unanswerable", "how is my brother doing?", []),
    ]  # fmt: skip
    for name, entries, labels, questions in (
        ("aa", _AA, aa_labels, aa_q),
        ("bb", _BB, bb_labels, bb_q),
    ):
        folder = corpus / name
        folder.mkdir(parents=True)
        (folder / "journal.jsonl").write_text(
            "".join(json.dumps({"id": i, "date": d, "text": t}) + "\n" for i, d, t in entries)
        )
        (folder / "labels.json").write_text(json.dumps(_labels(labels)))
        (folder / "questions.json").write_text(json.dumps({"version": 2, "questions": questions}))
    (corpus / "README.md").write_text("not a writer folder")
    return corpus


def test_load_corpus_reads_writer_folders_only(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path)
    journals = load_corpus(corpus)
    assert [j.name for j in journals] == ["aa", "bb"]
    assert journals[0].dates["aa4"] == "2024-02-20"
    assert len(journals[1].questions) == 4
    with pytest.raises(FileNotFoundError):
        load_corpus(tmp_path / "tiny" / "aa")


def test_run_corpus_end_to_end_with_fake_embeddings(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path)
    c = Container(Settings(data_dir=tmp_path / "data"), embeddings=WordHashEmbeddings())
    try:
        result = run_corpus(c, corpus)
    finally:
        c.close()
    assert set(result) == {"summary", "pooled", "journals"}
    assert list(result["journals"]) == ["aa", "bb"]
    aa, bb, p = result["journals"]["aa"], result["journals"]["bb"], result["pooled"]
    assert aa["entries"] == 6 and [r["id"] for r in aa["questions"]] == [
        "aa-q1",
        "aa-q2",
        "aa-q3",
        "aa-q4",
        "aa-q5",
    ]
    # figures fixed by the gold files alone
    assert p["journals"] == 2
    assert p["answerable.questions"] == 7 and p["abstention.unanswerable_questions"] == 2
    assert p["habit.questions"] == 3 and p["time_bounded.questions"] == 1
    assert p["patterns.entries"] == 12
    assert p["patterns.avoidance.support"] == 3
    assert p["patterns.self_trust.support"] == 3
    assert aa["figures"]["direction.gold.defensive"] == "down"
    assert aa["figures"]["direction.gold.repair"] == "up"
    assert bb["figures"]["direction.gold.defensive"] == "up"
    assert bb["figures"]["direction.gold.repair"] == "down"
    assert aa["direction"]["gold"]["earliest"]["entry_ids"] == ["aa1", "aa2"]
    assert [r["general"] for r in bb["questions"] if r["kind"] == "habit"] == [False, True]
    assert aa["questions"][0]["gold_top_behaviours"] == ["avoidance"]
    # what the service did, checked against the rows it came from
    assert p["quotes.not_verbatim"] == 0
    assert p["quotes.checked"] >= 1
    for row in aa["questions"] + bb["questions"]:
        if row["answerable"] and row["cited"]:
            hits = len(set(row["cited"]) & set(row["relevant"]))
            assert row["precision"] == round(hits / len(row["cited"]), 4)
    assert p["abstention.wrongful"] == sum(
        1 for r in aa["questions"] + bb["questions"] if r["answerable"] and r["abstained"]
    )
    assert aa["figures"]["time_bounded.out_of_window"] == len(aa["questions"][2]["out_of_window"])
    assert aa["figures"]["direction.defensive_agrees"] in (None, 0.0, 1.0)
    for key in ("ingest_s", "ask_s", "reports_s", "total_s"):
        assert aa["figures"][f"runtime.{key}"] >= 0
    assert p["runtime.setup_s"] >= 0
    # flat keys for comparisons with a floor file
    assert result["summary"]["pooled.habit.precision"] == p["habit.precision"]
    assert result["summary"]["bb.patterns.macro_f1"] == bb["figures"]["patterns.macro_f1"]
    json.dumps(result)  # JSON-ready as it stands


def test_cli_journal_corpus_writes_a_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import eval.results
    import service.container
    from service.cli.main import app

    corpus = _write_corpus(tmp_path)
    real_container, real_write = service.container.Container, eval.results.write_result
    monkeypatch.setattr(
        service.container,
        "Container",
        lambda settings: real_container(settings, embeddings=WordHashEmbeddings()),
    )
    monkeypatch.setattr(
        eval.results,
        "write_result",
        lambda name, payload, config: real_write(name, payload, config, tmp_path / "results"),
    )
    got = CliRunner().invoke(app, ["eval", "journal", "--corpus", str(corpus), "--json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["config"]["split"] == "tiny"
    assert doc["config"]["journals"] == ["aa", "bb"]
    path = Path(doc["results_file"])
    assert path.parent == tmp_path / "results" and path.name.startswith("journal-corpus-tiny-")
    saved = json.loads(path.read_text())
    assert saved["summary"] == doc["summary"] and "versions" in saved
    missing = CliRunner().invoke(app, ["eval", "journal", "--corpus", str(tmp_path / "none")])
    assert missing.exit_code == 2
