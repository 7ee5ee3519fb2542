"""The embeddings wrapper: length-cut batches, order kept, each text once."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embedding import SentenceTransformerEmbeddings, length_batches


def test_a_long_text_does_not_share_a_batch_with_short_ones() -> None:
    texts = ["x" * 1000, "y" * 120, "z" * 100, "w" * 40]
    assert length_batches(texts, 32, cap=1280) == [["x" * 1000], ["y" * 120, "z" * 100], ["w" * 40]]


def test_batches_hold_at_most_the_batch_size() -> None:
    texts = ["a" * 50] * 5
    assert [len(b) for b in length_batches(texts, 2, cap=1280)] == [2, 2, 1]


def test_lengths_past_the_cap_count_as_the_cap() -> None:
    # Both are truncated to the model's length anyway, so they share a batch.
    texts = ["a" * 5000, "b" * 1000]
    assert length_batches(texts, 32, cap=1280) == [texts]


def test_no_texts_no_batches() -> None:
    assert length_batches([], 32, cap=1280) == []


@pytest.mark.model
def test_encode_matches_the_model_in_the_callers_order(
    real_embeddings: SentenceTransformerEmbeddings,
) -> None:
    """Cut batches change padding only: every vector equals the model's own (to float
    rounding), in the order asked, a repeated text included."""
    long = " ".join(["She said she would call and then the evening went by."] * 12)
    texts = ["I waited.", long, "We talked it through on Sunday.", "I waited."]
    got = real_embeddings.encode(texts)
    want = real_embeddings.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert got.shape == (4, 384)
    assert np.abs(got - want).max() < 1e-5
    assert np.array_equal(got[0], got[3])
