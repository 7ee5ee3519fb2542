"""The substring pre-filter never drops an entry its case-blind pattern would match."""

from __future__ import annotations

import random
import re

from service.ask.answers.person import folded_name_pattern, name_pattern
from service.insight.folding import FoldedTexts, fold, may_contain, word_start

# Every character outside ASCII that a case-blind pattern of ASCII letters matches.
ODD = "\u0130\u0131\u017f\u212a"


def test_the_odd_characters_fold_to_the_letters_they_match() -> None:
    assert fold("\u212aIRA met \u0130LSE and Ro\u017fa") == "kira met ilse and rosa"
    assert may_contain(fold("\u212aira called"), ("Kira",))
    assert not may_contain(fold("Mira called"), ("Kira",))


def test_a_word_outside_ascii_always_passes() -> None:
    assert may_contain(fold("nothing here"), ("Zoë",))


def test_no_match_of_the_name_pattern_is_ever_filtered_out() -> None:
    rng = random.Random(7)
    names = ("Kit", "Sis", "Ilka", "Jo")
    alphabet = "kitsjoal KITSJOAL'’-." + ODD
    pat = name_pattern(names)
    matched = 0
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if pat.search(text):
            matched += 1
            assert may_contain(fold(text), names), text
    assert matched > 100  # the property was tried on many real matches


def test_ascii_words_match_exactly_what_a_case_blind_search_finds() -> None:
    rng = random.Random(11)
    for _ in range(5_000):
        text = "".join(rng.choice("aKkSsIi " + ODD) for _ in range(8))
        word = "".join(rng.choice("kis") for _ in range(2))
        if re.search(re.escape(word), text, re.IGNORECASE):
            assert may_contain(fold(text), (word,)), (text, word)


def test_mentioning_finds_exactly_the_texts_may_contain_passes() -> None:
    rng = random.Random(5)
    texts = {
        f"e{i}": "".join(rng.choice("kitsjo KITSJO.\n" + ODD) for _ in range(rng.randint(0, 30)))
        for i in range(400)
    }
    folded = FoldedTexts({eid: fold(t) for eid, t in texts.items()})
    for words in [("kit",), ("Jo", "sis"), ("t",), ("kitsjokitsjo",), ("o.",)]:
        want = {eid for eid, t in texts.items() if may_contain(fold(t), words)}
        assert folded.mentioning(words) == want, words


def test_mentioning_cannot_tell_for_words_outside_ascii() -> None:
    assert FoldedTexts({"a": "zoë"}).mentioning(("Zoë",)) is None
    assert FoldedTexts({"a": "x"}).mentioning(("",)) is None
    assert FoldedTexts({}).mentioning(("kit",)) == set()


def test_a_word_start_pattern_matches_where_a_leading_look_behind_does() -> None:
    rng = random.Random(13)
    for _ in range(5_000):
        text = "".join(rng.choice("jo_x9 é-.") for _ in range(rng.randint(0, 14)))
        want = [m.span() for m in re.finditer(r"(?<!\w)jo", text)]
        assert [m.span() for m in re.finditer(word_start("jo"), text)] == want, text


def test_the_folded_name_pattern_finds_what_the_case_blind_one_finds_at_the_same_offsets() -> None:
    rng = random.Random(17)
    names = ("Kit", "Sis", "Ilka", "Jo")
    fast = folded_name_pattern(names)
    assert fast is not None
    slow = name_pattern(names)
    # pieces of names, marks and the odd characters, so that many texts hold a match
    pieces = ["ki", "KIT", "t", "s", "Si", "jo", "JO", "ilka", "Ilk", "'s", "’", "-", "_"]
    pieces += [" ", ".", "é", "9", *ODD]
    matched = 0
    for _ in range(20_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 10)))
        want = [m.span() for m in slow.finditer(text)]
        assert [m.span() for m in fast.finditer(fold(text))] == want, text
        matched += bool(want)
    assert matched > 1_000


def test_a_name_outside_ascii_keeps_the_case_blind_pattern() -> None:
    assert folded_name_pattern(("Zoë",)) is None
    assert folded_name_pattern(("Zoe", "Inês")) is None
