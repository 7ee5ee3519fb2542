"""Acceptance on the sample journals, with the real packaged model (integration).

The figures asserted here are the ones issue #2 asks for: for "what do I usually do when
I feel betrayed?" at least 90% of citations are labelled relevant and at least 60% of the
relevant entries are cited; every quote is verbatim; unanswerable questions abstain; the
second person never receives the first person's entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.journal_eval import evaluate_answers, ingest_journals, load_dataset
from ingest.store import UserEntries
from service.container import Container
from service.settings import Settings
from tests.conftest import ROOT

# A quality floor or benchmark on the real model: run by `make eval`, not `make test`.
pytestmark = [pytest.mark.model, pytest.mark.eval]

FLOORS = json.loads((ROOT / "eval" / "thresholds.json").read_text())["journal"]


@pytest.fixture(scope="module")
def evaluated(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: Any
) -> Iterator[tuple[Container, dict[str, str], dict[str, Any]]]:
    data = tmp_path_factory.mktemp("quality")
    c = Container(Settings(data_dir=Path(data)), embeddings=real_embeddings)
    ds = load_dataset()
    users = ingest_journals(c, ds, ROOT)
    result = evaluate_answers(c, ds, users)
    yield c, users, result
    c.close()


def _row(result: dict[str, Any], qid: str) -> dict[str, Any]:
    return next(r for r in result["questions"] if r["id"] == qid)


def test_betrayal_habit_question_is_precise_and_covers_most_episodes(evaluated: Any) -> None:
    _, _, result = evaluated
    q01 = _row(result, "q01")
    assert q01["question"] == "what do I usually do when I feel betrayed?"
    assert q01["abstained"] is False
    assert q01["precision"] >= FLOORS["q01_precision"] >= 0.9, q01
    assert q01["recall"] >= FLOORS["q01_recall"] >= 0.6, q01


def test_every_quote_is_verbatim(evaluated: Any) -> None:
    _, _, result = evaluated
    assert result["summary"]["verbatim_share"] >= FLOORS["verbatim_share"] == 1.0
    assert all(r["verbatim"] in (None, 1.0) for r in result["questions"])


def test_unanswerable_questions_abstain(evaluated: Any) -> None:
    _, _, result = evaluated
    unanswerable = [r for r in result["questions"] if not r["answerable"]]
    assert len(unanswerable) >= 8
    rate = sum(r["abstained"] for r in unanswerable) / len(unanswerable)
    assert rate >= FLOORS["abstention_rate_unanswerable"], [
        r["id"] for r in unanswerable if not r["abstained"]
    ]
    assert all(r["cited"] == [] for r in unanswerable)


def test_answerable_questions_are_answered(evaluated: Any) -> None:
    _, _, result = evaluated
    assert result["summary"]["wrongful_abstentions"] <= FLOORS["max_wrongful_abstentions"]


def test_second_person_only_ever_gets_their_own_entries(evaluated: Any) -> None:
    c, users, _ = evaluated
    with c.sessions() as s:
        theo = {e.entry_id: e.text for e in UserEntries(s, users["theo"]).all()}
    for question in (
        "what do I usually do when I feel betrayed?",
        "how do I react when Jonah is late?",
        "what happened with Daniel?",
        "what happened with the money I lent Sam?",
    ):
        resp = c.ask.ask(users["theo"], question)
        for cite in resp.citations:
            assert cite.entry_id in theo, (question, cite)
            assert cite.quote in theo[cite.entry_id]
