"""Label rows and corrections: written with the chunks, corrections win and survive a
reindex, Chroma metadata follows them, and one user never reaches another's labels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ingest.labels_store import ChunkLabel, UserLabels
from ingest.store import UserEntries, get_or_create_user
from service.container import Container
from service.settings import Settings
from tests.fakes import WordHashEmbeddings

ENTRIES = {
    "a1": "Jonah was late again. I checked his location four times. Then I made tea.",
    "a2": "I made soup with the last of the carrots. The cat watched the pigeons.",
}


def add_user(c: Container, name: str, entries: dict[str, str]) -> str:
    with c.sessions() as s:
        uid = get_or_create_user(s, name).id
        store = UserEntries(s, uid)
        for eid, text in entries.items():
            store.upsert(eid, dt.date(2024, 3, 1), text, [], "test")
        s.commit()
    c.indexer.index_pending(uid)
    return uid


def labels(c: Container, uid: str) -> dict[str, Any]:
    with c.sessions() as s:
        return UserLabels(s, uid).entry_labels()


def chroma_meta(c: Container, uid: str, entry_id: str) -> list[dict[str, Any]]:
    got = c.index.collection.get(
        where={"$and": [{"user_id": uid}, {"entry_id": entry_id}]}, include=["metadatas"]
    )
    return [dict(m) for m in got["metadatas"] or []]


def has_label(metas: list[dict[str, Any]], label: str) -> bool:
    return any(m.get(f"lab_{label}") is True for m in metas)


def correct(c: Container, uid: str, eid: str, label: str, verdict: Any) -> None:
    with c.sessions() as s:
        store = UserLabels(s, uid)
        if verdict is None:
            store.clear_correction(eid, label)
        else:
            store.correct(eid, label, verdict)
        pk = store.entries.get(eid).pk  # type: ignore[union-attr]
        s.commit()
    c.indexer.index_entries(uid, [pk])


def test_indexing_writes_labels_with_verbatim_spans_and_chroma_metadata(
    container: Container,
) -> None:
    uid = add_user(container, "maya", ENTRIES)
    got = labels(container, uid)
    assert set(got) == {"a1", "a2"}
    a1 = got["a1"]
    assert a1.date == dt.date(2024, 3, 1)
    assert "hypervigilance" in a1.labels
    span = a1.labels["hypervigilance"]
    assert ENTRIES["a1"][span.start : span.end] == "I checked his location four times."
    assert span.source == "model" and 0 <= span.score <= 1
    assert not got["a2"].labels.keys() & {"hypervigilance", "avoidance"}
    metas = chroma_meta(container, uid, "a1")
    assert has_label(metas, "hypervigilance")
    assert all(m["era"] in ("origin", "recent", "present") for m in metas)
    # the index can be filtered on a label
    hits = container.index.collection.get(
        where={"$and": [{"user_id": uid}, {"lab_hypervigilance": True}]}, include=[]
    )
    assert hits["ids"] and all(i.startswith(f"{uid}/a1/") for i in hits["ids"])
    with container.sessions() as s:
        spans = UserLabels(s, uid).spans(["a1"])["a1"]
    assert [s.start for s in spans] == sorted(s.start for s in spans)


def test_corrections_win_survive_reindex_and_leave_chroma(container: Container) -> None:
    uid = add_user(container, "maya", ENTRIES)
    correct(container, uid, "a1", "hypervigilance", "reject")
    correct(container, uid, "a2", "trust_experiment", "confirm")
    for _ in range(2):  # after the correction, and again after a full reindex
        got = labels(container, uid)
        assert "hypervigilance" not in got["a1"].labels
        conf = got["a2"].labels["trust_experiment"]
        assert conf.source == "confirmed" and conf.group == "repair"
        assert ENTRIES["a2"][conf.start : conf.end] in ENTRIES["a2"]
        assert not has_label(chroma_meta(container, uid, "a1"), "hypervigilance")
        assert has_label(chroma_meta(container, uid, "a2"), "trust_experiment")
        container.indexer.reindex(uid)
    with container.sessions() as s:
        cs = UserLabels(s, uid).corrections()
    assert [(x.entry_id, x.label, x.verdict) for x in cs] == [
        ("a1", "hypervigilance", "reject"),
        ("a2", "trust_experiment", "confirm"),
    ]
    correct(container, uid, "a1", "hypervigilance", None)  # cleared: the model decides
    assert "hypervigilance" in labels(container, uid)["a1"].labels
    assert has_label(chroma_meta(container, uid, "a1"), "hypervigilance")


def test_a_verdict_can_be_changed(container: Container) -> None:
    uid = add_user(container, "maya", ENTRIES)
    correct(container, uid, "a1", "avoidance", "confirm")
    correct(container, uid, "a1", "avoidance", "reject")
    with container.sessions() as s:
        assert [(c.label, c.verdict) for c in UserLabels(s, uid).corrections()] == [
            ("avoidance", "reject")
        ]
    assert "avoidance" not in labels(container, uid)["a1"].labels


def test_bad_corrections_say_what_was_wrong(container: Container) -> None:
    uid = add_user(container, "maya", ENTRIES)
    with container.sessions() as s:
        store = UserLabels(s, uid)
        with pytest.raises(ValueError, match="unknown label 'sulking'"):
            store.correct("a1", "sulking", "confirm")
        with pytest.raises(KeyError, match="no entry 'zz'"):
            store.correct("zz", "avoidance", "confirm")
        with pytest.raises(ValueError, match="verdict must be"):
            store.correct("a1", "avoidance", "maybe")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="user id is required"):
            UserLabels(s, "")


def test_one_user_cannot_read_or_change_anothers_labels(container: Container) -> None:
    a = add_user(container, "maya", ENTRIES)
    b = add_user(container, "theo", {"b1": "I trusted my gut and said no."})
    correct(container, a, "a1", "avoidance", "confirm")
    with container.sessions() as s:
        theo = UserLabels(s, b)
        assert set(theo.entry_labels()) == {"b1"}
        assert theo.entry_labels(["a1", "a2"]) == {}
        assert theo.spans(["a1"]) == {}
        assert theo.corrections() == []
        with pytest.raises(KeyError):
            theo.correct("a1", "avoidance", "reject")
        with pytest.raises(KeyError):
            theo.clear_correction("a1", "avoidance")
    with container.sessions() as s:
        maya = UserLabels(s, a)
        assert [c.verdict for c in maya.corrections()] == ["confirm"]
        assert set(maya.entry_labels()) == {"a1", "a2"}


def test_label_rows_go_with_their_entry(container: Container) -> None:
    uid = add_user(container, "maya", ENTRIES)
    with container.sessions() as s:
        entry = UserEntries(s, uid).get("a1")
        assert entry is not None
        pk = entry.pk
        n = s.scalar(select(func.count()).select_from(ChunkLabel).where(ChunkLabel.entry_pk == pk))
        assert n and n > 0
        s.delete(entry)
        s.commit()
    with container.sessions() as s:
        n = s.scalar(select(func.count()).select_from(ChunkLabel).where(ChunkLabel.entry_pk == pk))
        assert n == 0


def test_entries_indexed_without_a_tagger_are_found_untagged(container: Container) -> None:
    container.indexer.tagger = None
    uid = add_user(container, "maya", ENTRIES)
    with container.sessions() as s:
        assert len(UserLabels(s, uid).untagged()) == 2
        assert labels(container, uid)["a1"].labels == {}


@pytest.fixture
def pg_container(tmp_path: Path, pg_url: str) -> Iterator[Container]:
    c = Container(
        Settings(data_dir=tmp_path / "data", database_url=pg_url),
        embeddings=WordHashEmbeddings(),
    )
    yield c
    c.close()


def test_corrections_on_postgresql(pg_container: Container) -> None:
    uid = add_user(pg_container, "maya", ENTRIES)
    correct(pg_container, uid, "a1", "hypervigilance", "reject")
    pg_container.indexer.reindex(uid)
    got = labels(pg_container, uid)
    assert "hypervigilance" not in got["a1"].labels
    assert not has_label(chroma_meta(pg_container, uid, "a1"), "hypervigilance")
