"""``Bm25Index`` scores as ``bm25s.BM25`` does, after any sequence of adds and deletes.

bm25s (the lexical path before issue 12) is the reference: for a random corpus, the
updatable index and a ``bm25s.BM25`` built from scratch on the same documents must
give every document the same score (within 1e-6: bm25s keeps float32, this index
float64) and the same top k (up to the order of equal scores).
"""

from __future__ import annotations

import random

import bm25s
import numpy as np
import pytest

from service.retrieval.bm25 import Bm25Index

WORDS = [f"w{i}" for i in range(60)]


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6


def random_doc(rng: random.Random) -> list[str]:
    # Skewed word choice (common and rare words), some empty documents.
    n = rng.choice([0, 1, 3, 5, 8, 13, 21])
    return [WORDS[min(int(rng.expovariate(0.08)), len(WORDS) - 1)] for _ in range(n)]


def reference(docs: dict[str, list[str]]) -> tuple[bm25s.BM25, list[str]]:
    keys = sorted(docs)
    model = bm25s.BM25()
    model.index([docs[k] for k in keys], show_progress=False)
    return model, keys


def check_same(ours: Bm25Index, docs: dict[str, list[str]], rng: random.Random) -> None:
    model, keys = reference(docs)
    assert len(ours) == len(docs)
    for _ in range(15):
        query = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
        query += ["never-indexed"] * rng.randint(0, 1)
        known = [t for t in query if t in model.vocab_dict]
        expected = model.get_scores(known) if known else np.zeros(len(keys), dtype=np.float32)
        got = ours.scores(query)
        for key, want in zip(keys, expected, strict=True):
            assert close(got.get(key, 0.0), float(want)), (key, query, got.get(key), want)
        assert set(got) <= set(docs)

        k = rng.randint(1, len(keys))
        top = ours.top(query, k)
        want_top = sorted((float(s) for s in expected if s > 0), reverse=True)[:k]
        assert len(top) == len(want_top)
        for (key, score), want in zip(top, want_top, strict=True):
            assert close(score, want)
            assert close(score, float(expected[keys.index(key)]))
        if known:
            ids, scores = model.retrieve([known], k=k, show_progress=False)
            positive = [
                (keys[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0
            ]
            # Same documents, except where equal scores at the cut leave a choice.
            cut = min((s for _, s in positive), default=0.0)
            assert {key for key, s in top if s > cut + 1e-5} == {
                key for key, s in positive if s > cut + 1e-5
            }


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_bm25s_after_adds_changes_and_deletes(seed: int) -> None:
    rng = random.Random(seed)
    docs = {f"d{i:04d}": random_doc(rng) for i in range(rng.randint(20, 120))}
    docs["d9999"] = ["w1"]  # at least one non-empty document
    ours = Bm25Index()
    for key, toks in docs.items():
        ours.add(key, toks)
    check_same(ours, docs, rng)
    for step in range(6):
        for key in rng.sample(sorted(docs), k=min(len(docs) - 1, rng.randint(1, 15))):
            ours.remove(key)
            del docs[key]
        for i in range(rng.randint(1, 15)):
            key = f"n{step}-{i}"
            docs[key] = [*random_doc(rng), "w2"]
            ours.add(key, docs[key])
        for key in rng.sample(sorted(docs), k=min(len(docs), 5)):  # same key, new text
            docs[key] = [*random_doc(rng), "w3"]
            ours.add(key, docs[key])
        check_same(ours, docs, rng)


def test_compaction_keeps_scores() -> None:
    rng = random.Random(5)
    docs = {f"d{i:05d}": [*random_doc(rng), "w0"] for i in range(3000)}
    ours = Bm25Index()
    for key, toks in docs.items():
        ours.add(key, toks)
    for key in sorted(docs)[:2500]:  # more dead than living: compacted on the way
        ours.remove(key)
        del docs[key]
    assert ours._dead < 2500
    assert not ours.has_term("never-indexed")
    check_same(ours, docs, rng)
    assert ours.vocabulary() == {t for toks in docs.values() for t in toks}


def test_empty_and_unknown() -> None:
    ours = Bm25Index()
    assert ours.top(["w1"], 5) == [] and ours.scores(["w1"]) == {}
    ours.add("a", [])
    assert ours.top(["w1"], 5) == []
    ours.add("b", ["w1", "w1", "w2"])
    assert ours.top(["zzz"], 5) == []
    assert [k for k, _ in ours.top(["w1"], 5)] == ["b"]
    ours.remove("b")
    ours.remove("b")  # not held: ignored
    assert ours.top(["w1"], 5) == [] and not ours.has_term("w1")
    assert len(ours) == 1 and "a" in ours
