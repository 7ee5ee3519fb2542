"""Score fusion options of the hybrid retriever (min-max convex fusion, RRF constant)."""

from __future__ import annotations

import pytest

from ingest.readers import read_path
from ingest.store import get_or_create_user
from service.container import Container
from service.retrieval.fusion import convex_fusion, min_max, reciprocal_rank_fusion

ENTRIES = [
    '{"id": "a1", "date": "2023-02-01", "text": "My mother promised to come to the recital."}',
    '{"id": "a2", "date": "2024-06-10", "text": "Rui forgot our plans again."}',
    '{"id": "a3", "date": "2024-07-02", "text": "Made lentil soup and watched the rain."}',
]


def test_min_max_scales_to_unit_range() -> None:
    assert min_max({"a": 2.0, "b": 4.0, "c": 3.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert min_max({"a": 5.0}) == {"a": 1.0}
    assert min_max({}) == {}


def test_convex_fusion_weights_scaled_scores_and_missing_items_count_zero() -> None:
    fused = convex_fusion([{"a": 0.9, "b": 0.5, "c": 0.7}, {"b": 10.0, "d": 2.0}], [0.6, 0.4])
    assert fused == pytest.approx({"a": 0.6, "b": 0.4, "c": 0.3, "d": 0.0})
    with pytest.raises(ValueError):
        convex_fusion([{"a": 1.0}], [1.0, 2.0])


def test_rrf_constant_changes_the_scores() -> None:
    assert reciprocal_rank_fusion([["a"]], k=1) == {"a": 0.5}


@pytest.mark.parametrize("fusion", ["rrf", "convex"])
def test_both_fusions_rank_the_matching_entry_first(
    container: Container, tmp_path, fusion: str
) -> None:
    path = tmp_path / "j.jsonl"
    path.write_text("\n".join(ENTRIES) + "\n")
    with container.sessions() as s:
        uid = get_or_create_user(s, "ana").id
        s.commit()
    container.importer.import_reads(uid, read_path(path))
    r = container.retrievers.for_user(uid)
    r.fusion = fusion  # type: ignore[assignment]
    r.rrf_k = 10
    r.weights = (0.5, 0.5)
    docs = r.invoke("lentil soup")
    assert docs[0].metadata["entry_id"] == "a3"
    assert all(d.metadata["score"] <= docs[0].metadata["score"] for d in docs)
