"""The tagger: era rules, verbatim sentence spans, scores, training cache (fake embeddings)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import tagging
from ingest.chunking import chunk_spans
from ingest.tagging import Tagger, entry_era, load_tag_spec, sentence_eras, split_sentences
from tests.fakes import WordHashEmbeddings

SPEC = load_tag_spec()

STORY = (
    "Something tonight reminded me of my father. "
    "When I was nine he moved two hours away. "
    "He would call and promise to come on Saturday. "
    "Most Saturdays he never came. "
    "I think I still wait for people like that."
)


def sentences(text: str) -> list[tuple[int, int]]:
    return split_sentences(text, 0, len(text))


def eras(text: str) -> list[str]:
    return sentence_eras(text, sentences(text), SPEC)


def test_split_sentences_are_trimmed_verbatim_offsets() -> None:
    text = "  I went quiet. He asked why!  Then nothing?  "
    got = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    assert got == ["I went quiet.", "He asked why!", "Then nothing?"]


def test_origin_story_carries_across_past_tense_and_returns_to_today() -> None:
    assert eras(STORY) == ["present", "origin", "origin", "origin", "present"]
    # three of five sentences tell the formative past: the entry is an origin story
    assert entry_era(STORY, sentences(STORY), SPEC) == "origin"


@pytest.mark.parametrize(
    ("text", "era"),
    [
        ("Last night he came home late. I said nothing and went to bed.", "recent"),
        ("Two weeks ago she cancelled again. I muted the chat.", "recent"),
        ("Today my manager took credit for my chart. I said nothing.", "present"),
        ("I made soup and read a book.", "present"),
        ("Back in college my roommate left me with the rent. I covered both halves.", "origin"),
    ],
)
def test_entry_era_rules(text: str, era: str) -> None:
    assert entry_era(text, sentences(text), SPEC) == era


def test_a_sentence_comparing_now_with_the_past_is_about_now() -> None:
    text = "Rui was late tonight and it felt like when I was nine. He is not my mother."
    assert eras(text) == ["present", "present"]


def test_a_weekday_inside_an_origin_story_stays_origin() -> None:
    text = "When I was ten my dad lived in another town. He called on Thursday."
    assert eras(text) == ["origin", "origin"]


def test_projection_needs_a_present_or_recent_sentence() -> None:
    assert SPEC.eras["projection"] == ("recent", "present")
    assert SPEC.eras["avoidance"] == tagging.ERAS


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(WordHashEmbeddings(), "word-hash-256")


def test_every_hit_is_a_verbatim_sentence_with_a_score_in_0_1(tagger: Tagger) -> None:
    text = (
        "Jonah was late again and didn't text. I checked his location four times. "
        "When he came in I went quiet and said I was just tired. "
        "Maybe I'm overreacting, I can't tell anymore."
    )
    spans = [(s.start, s.end) for s in chunk_spans(text, 12)]
    tags = tagger.tag_text(text, spans)
    sents = {se for s, e in spans for se in split_sentences(text, s, e)}
    assert tags.chunks and len(tags.chunks) == len(spans)
    for c in tags.chunks:
        assert c.era in tagging.ERAS
        for h in c.hits:
            assert 0.0 <= h.score <= 1.0
            assert (h.start, h.end) in sents
            assert c.start <= h.start < h.end <= c.end
            assert h.group == SPEC.labels[h.label]
    found = tags.positive_labels()
    assert {"hypervigilance", "avoidance", "self_distrust"} <= found
    assert "trust_experiment" not in found
    # each label the model did not find keeps its single best chunk, for confirmations
    best = tags.best()
    assert set(best) == set(SPEC.labels)
    negatives = [h for c in tags.chunks for h in c.hits if not h.positive]
    assert len(negatives) == len({h.label for h in negatives})


def test_neutral_text_gets_no_pattern(tagger: Tagger) -> None:
    text = "I made soup with the last of the carrots. The cat watched the pigeons."
    tags = tagger.tag_text(text, [(s.start, s.end) for s in chunk_spans(text, 25)])
    assert not {x for x in tags.positive_labels() if SPEC.labels[x] != "emotions"}


def test_tag_entries_uses_the_given_vectors_without_embedding(tagger: Tagger) -> None:
    emb = WordHashEmbeddings()
    t = Tagger(emb, "word-hash-256")  # same key: the trained model is shared in-process
    assert t.model is tagger.model
    text = "I didn't answer his texts for two days."
    vec = np.asarray(emb.embed_documents([text]), dtype=np.float32)
    emb.calls.clear()
    out = t.tag_entries([(text, [(0, len(text))], vec)])
    assert emb.calls == []
    assert "avoidance" in out[0].positive_labels()


def test_training_is_cached_on_disk_by_model_and_training_set(tmp_path: Path) -> None:
    emb = WordHashEmbeddings(dim=64)
    first = Tagger(emb, emb.model_name, cache_dir=tmp_path)
    assert first.model.thresholds
    assert emb.training_calls == 1
    files = list(tmp_path.glob("tagger-*.pkl"))
    assert [f.name for f in files] == [f"tagger-{first.cache_key()}.pkl"]
    tagging._TRAINED.clear()  # a new process: only the disk cache is left
    emb2 = WordHashEmbeddings(dim=64)
    second = Tagger(emb2, emb2.model_name, cache_dir=tmp_path)
    assert second.model.thresholds == first.model.thresholds
    assert emb2.training_calls == 0  # loaded from disk, not retrained
    # another model name is another key
    assert Tagger(emb2, "other-model", cache_dir=tmp_path).cache_key() != first.cache_key()


def test_cross_validated_thresholds_are_probabilities(tagger: Tagger) -> None:
    m = tagger.model
    assert set(m.thresholds) == set(SPEC.labels)
    assert all(0.3 <= t <= 0.95 for t in m.thresholds.values())
    assert all(0.0 <= f <= 1.0 for f in m.cv_f1.values())
