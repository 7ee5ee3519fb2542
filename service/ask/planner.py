"""The question planner: what a question asks of the journal, about whom, and whether the
journal mentions that at all. Pure and fast: regular expressions and word lists from one
versioned asset (``prompts/planner/<version>/planner.yaml``), no model, no I/O beyond
loading that file once.

Kinds, and what each is for (each is answered differently downstream):

- ``habit``: what the person tends to do in a situation ("what do I usually do when
  someone lets me down?"). Answered by gathering every episode of the situation and
  counting the responses, so the plan carries the situation (``trigger``) and whether it
  is being let down (``feeling="let_down"``), the commonest trigger in a trust journal.
- ``origin``: where a pattern began ("when did I first learn not to count on people?"):
  answered from formative, early entries.
- ``progress``: change over time ("am I getting better at ...", "how have things changed
  between me and X"): answered by comparing early and recent entries.
- ``person``: one person's story ("tell me about X and me"): everything about X, in order.
- ``pattern``: one behaviour ("do I push people away before they can leave me?"): the
  taxonomy ``labels`` it names select the tagged episodes.
- ``past_present``: "am I reacting to now or to then?": answered by reflection, setting
  present situations beside the past ones they echo.
- ``lookup``: anything else, a plain look-up ("what did dad get me for christmas?").

Rules, in the order they are applied:

0. The question is read with straight quotes, single spaces and chat spellings spelled out
   ("wat do i do wen ppl ..."). Patterns are matched on the lower-cased text.
1. Kinds are tried in the order past_present, origin, progress, habit, person, pattern;
   the first that matches wins, ``lookup`` is the rest. A when-clause or a comparison can
   sit inside several kinds; the earlier kind is the more specific question. Time
   expressions ("last winter", "since June") are left to ``service/ask/periods.py`` and
   are set aside before the kind is chosen, except that a comparison ("than a year ago")
   still makes a progress question.
2. ``habit``: a "what do I (usually) do when" / "how do I react/handle/deal" frame. A
   past-tense frame ("how did I handle ...", "what did I do when ...") is a habit only when
   the situation is generic ("people letting me down") or habitual ("usually"); about one
   named episode ("what did I do when Priya cancelled on me?") it is a look-up. Without a
   when-clause the situation is what comes before the frame ("who let me down and what did
   I do about it?": whoever did, a habit), and ``feeling`` is read on the whole question.
   ``trigger`` is the leading when-clause up to its comma, else what follows
   when/whenever/if/after, else the object of handle/deal with/cope with/react to, less any
   time expression. ``feeling`` is ``let_down`` when the trigger matches the let-down
   lexicon (let down, betrayed, cancels, forgets, lies, is late, doesn't answer, takes
   credit, tells my business, leaves me out, doesn't pay back, drops the ball, ...).
3. ``person``: a "tell me about X and me" / "what's the deal with" / "how are things
   between" frame; "what happened with X" / "how is X" only when X is a person of the
   question (not "what happened with the money I lent Sam").
4. ``pattern``: a yes/no, "when have I" or terse frame that names a trust label (or says
   always/keep/tend to). ``labels`` are the labels whose cues (this lexicon's and the
   taxonomy's) the question contains (a look-up uses them only when its period holds
   nothing close to its words); for habit and
   past-present questions the situation clause is left out (in "when Tom ignores me" the
   ignoring is Tom's). When a label is the means of another ("kept quiet on purpose to see
   whether someone would notice") only the other is kept.
5. ``people``: the names and roles the question is about, lower-cased and spelled as the
   journal spells them. A role is the writer's own ("my sister", "mum"; not "her sister")
   and is given in the journal's word: the question's own if the journal uses it, else the
   synonym it uses most ("my mother" -> "mum"). A name is a person when the journal names
   it as one (``JournalVocabulary.people``): in a journal that capitalises names, a word
   capitalised mid-sentence and not mostly after the/in/at/to, or only ever seen opening
   a sentence; in a journal written in lowercase, a word seen at least twice where names
   go ("with jas", "jas said") and rarely after an article. A lowercase word in a name slot
   of the question ("me and X", "with X", "when X cancels") counts when the journal uses
   it as names are used.
6. ``subject_missing``: the terms the question is about that the journal never mentions: a
   name or proper noun, a family role the writer never calls their own ("her sister's
   wedding" is not my sister), a pet or car of mine the journal never calls its own, or
   the content words of a noun phrase after my/the/a/about/a possessive ("my driving
   instructor", "the school counsellor"). After a person the journal names only a role or
   pet is judged ("Lwazi's swimming coach", not "Lina's party"), a bare soft role never.
   Never subjects: generic words (things, people, messages, my own read, my trust issues),
   time expressions, idioms ("drops the ball"), the words of a label or let-down cue
   ("breaks a promise"), and roles often written only as a name (partner, boss; a
   therapist only when the journal never mentions therapy at all: ``soft_role_evidence``).
   A multi-word term is mentioned when its words occur in one entry ("the generator
   rebuild" in an entry about rebuilding the generator). An indefinite noun phrase after a
   copula is a predicate that describes, not a subject ("was it a blip", "is this a
   phase").
7. ``search_text`` is the question without its frame words and time expressions.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, get_args

from prompts import chosen_version, load_yaml
from service.ask.schemas import Kind
from service.taxonomy import load_taxonomy

KINDS: tuple[Kind, ...] = get_args(Kind)
LET_DOWN = "let_down"

_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_SENTENCE_BREAK = re.compile(r"[.!?\n:;\"“”]|(?:^|\s)'|'(?:\s|$)")
_POSSESSIVE = re.compile(r"(?:'s|s')$")
# After these, "'s" is "is" or "has" ("something's bothered me", "it's gone", "what's
# happened"), never whose: nothing after them belongs to anyone.
_CONTRACTED = frozenset(
    {
        "something",
        "nothing",
        "everything",
        "anything",
        "it",
        "that",
        "this",
        "what",
        "who",
        "where",
        "there",
        "here",
        "how",
        "he",
        "she",
        "let",
    }
)
_SPACES = re.compile(r"\s+")
_ENTRY_GAP = 50  # positions between entries, so no phrase spans two entries
_NAME_ARTICLE_SHARE = 0.25  # names rarely follow an article; common nouns usually do


# --- words -------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower-cased, straight apostrophes, accents removed ("Sinéad" -> "sinead")."""
    s = text.replace("’", "'").lower()
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _singular(w: str) -> str:
    if not w.isalpha():
        return w
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes", "zes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


@lru_cache(maxsize=1 << 16)
def normalise(word: str) -> str:
    """The vocabulary key of a word: folded, without possessive or apostrophes, singular."""
    w = _POSSESSIVE.sub("", _fold(word)).replace("'", "")
    return _singular(w)


@dataclass(frozen=True)
class _Token:
    text: str  # as written
    lower: str  # lower-cased, possessive removed, accents kept ("sinéad", "jas")
    norm: str  # vocabulary key
    start: int
    end: int
    cap: bool  # starts with a capital (and is not all capitals)
    initial: bool  # first word of a sentence
    possessive: bool  # "Joan's", "dog's"

    @property
    def has_digit(self) -> bool:
        return any(c.isdigit() for c in self.text)


def _tokens(text: str, titles: frozenset[str] = frozenset()) -> list[_Token]:
    out: list[_Token] = []
    for m in _WORD.finditer(text):
        raw = m.group().replace("’", "'")
        prev = out[-1] if out else None
        gap = text[prev.end : m.start()] if prev else ""
        initial = prev is None or (
            bool(_SENTENCE_BREAK.search(gap)) and not (prev.norm in titles and gap == ". ")
        )
        out.append(
            _Token(
                text=raw,
                lower=_POSSESSIVE.sub("", raw.lower()).replace("'", ""),
                norm=normalise(raw),
                start=m.start(),
                end=m.end(),
                cap=raw[0].isupper() and not (len(raw) > 1 and raw.isupper()),
                initial=initial,
                possessive="'" in raw
                and bool(_POSSESSIVE.search(raw.lower()))
                and _POSSESSIVE.sub("", raw.lower()) not in _CONTRACTED,
            )
        )
    return out


def _term_parts(term: str) -> list[str]:
    parts: list[str] = []
    for m in _WORD.finditer(term):
        parts.extend(normalise(p) for p in m.group().split("-") if p)
    return [p for p in parts if p]


# --- the lexicon ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexicon:
    kinds: dict[str, tuple[re.Pattern[str], ...]]
    trigger: tuple[re.Pattern[str], ...]  # leading clause, when-clause, object
    let_down: tuple[re.Pattern[str], ...]
    labels: dict[str, tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]]
    precedence: dict[str, frozenset[str]]
    family: dict[str, str]  # member -> its group's name ("mother" -> "mum")
    family_groups: dict[str, tuple[str, ...]]
    words: dict[str, frozenset[str]]  # the word lists, normalised
    strong_slots: tuple[re.Pattern[str], ...]
    weak_slots: tuple[re.Pattern[str], ...]
    time: tuple[re.Pattern[str], ...]
    idioms: tuple[re.Pattern[str], ...]
    chat: dict[str, str]  # chat spellings: "wat" -> "what"
    soft_role_evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def has(self, listname: str, word: str) -> bool:
        return word in self.words[listname]

    def any_of(self, word: str, *listnames: str) -> bool:
        return any(word in self.words[n] for n in listnames)

    @cached_property
    def cues(self) -> tuple[re.Pattern[str], ...]:
        return tuple(c for cues, _ in self.labels.values() for c in cues)


_WORD_LISTS = (
    "soft_roles",
    "hard_roles",
    "owned_things",
    "titles",
    "determiners",
    "modifiers",
    "place_words",
    "time_words",
    "generic",
    "stopwords",
    "common",
    "filler",
    "journal_place_words",
    "activity_verbs",
    "copulas",
    "any_situation",
)


def _compile(patterns: Iterable[str], macros: Mapping[str, str]) -> tuple[re.Pattern[str], ...]:
    """The patterns, as one alternation when none names a group (one search instead of
    many: the planner runs a few dozen pattern lists per question)."""
    expanded = []
    for p in patterns:
        for name, value in macros.items():
            p = p.replace(f"<{name}>", value)
        expanded.append(p)
    if not expanded:
        return ()
    if any("(?P<" in p for p in expanded):
        return tuple(re.compile(p) for p in expanded)
    return (re.compile("|".join(f"(?:{p})" for p in expanded)),)


def _word_set(words: Iterable[Any]) -> frozenset[str]:
    return frozenset(normalise(str(w).replace("-", "")) for w in words)


def _label_cues(data: Mapping[str, Any], macros: Mapping[str, str]) -> dict[str, Any]:
    """This lexicon's cues and ``unless`` patterns, plus the taxonomy's cue stems."""
    labels: dict[str, Any] = {}
    tax = {n: lab for n, lab in load_taxonomy().items() if lab.group in ("patterns", "repair")}
    for name in [*data, *(n for n in tax if n not in data)]:
        spec = data.get(name) or {}
        stems = [r"\b" + re.escape(c) for c in (tax[name].cues if name in tax else ())]
        cues = _compile([*spec.get("cues", []), *stems], macros)
        labels[name] = (cues, _compile(spec.get("unless", []), macros))
    return labels


@lru_cache(maxsize=4)
def _load(version: str) -> _Lexicon:
    data = load_yaml("planner", "planner.yaml", version)
    macros = {str(k): str(v) for k, v in (data.get("macros") or {}).items()}
    groups = {
        str(g): tuple(normalise(str(m).replace("-", "")) for m in members)
        for g, members in data["family_roles"].items()
    }
    trig = data["trigger"]
    return _Lexicon(
        kinds={k: _compile(v, macros) for k, v in data["kinds"].items()},
        trigger=tuple(
            p for key in ("leading", "clause", "object") for p in _compile([trig[key]], macros)
        ),
        let_down=_compile(data["let_down"], macros),
        labels=_label_cues(data["labels"], macros),
        precedence={k: frozenset(v) for k, v in (data.get("label_precedence") or {}).items()},
        family={m: g for g, members in groups.items() for m in members},
        family_groups=groups,
        words={
            # Lists a version added later are empty in the versions before it.
            **{name: _word_set(data.get(name) or []) for name in _WORD_LISTS},
            "name_before": _word_set(data["name_contexts"]["before"]),
            "name_after": _word_set(data["name_contexts"]["after"]),
        },
        strong_slots=_compile(data["name_slots"]["strong"], macros),
        weak_slots=_compile(data["name_slots"]["weak"], macros),
        time=_compile(data["time_expressions"], macros),
        idioms=_compile(data["idioms"], macros),
        chat={str(k).lower(): str(v) for k, v in (data.get("chat_spellings") or {}).items()},
        soft_role_evidence={
            str(k): tuple(str(w) for w in v)
            for k, v in (data.get("soft_role_evidence") or {}).items()
        },
    )


def lexicon(version: str | None = None) -> _Lexicon:
    """The planner lexicon, loaded once per version: the one asked for, else the one
    settings choose (``TRUSTLENS_ASSET_VERSIONS``), else the latest."""
    return _load(version or chosen_version("planner"))


# --- the journal's vocabulary ----------------------------------------------------------------


@dataclass(frozen=True)
class JournalVocabulary:
    """What a journal says, as far as the planner needs it: which words occur (``words``,
    normalised), where (``positions``, for multi-word terms), and who the writer writes
    about (``people``: capitalised names and the roles the writer calls their own)."""

    words: Counter[str]  # normalised tokens of all entries
    people: frozenset[str]  # lower-cased names/roles the journal uses for people
    positions: Mapping[str, Sequence[int]] = field(default_factory=dict, repr=False, compare=False)
    proper: frozenset[str] = frozenset()  # capitalised mid-sentence: names, places, things
    spellings: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    owned: frozenset[str] = frozenset()  # things seen after my/our/the ("my dog")
    articled: Counter[str] = field(default_factory=Counter, repr=False, compare=False)
    lowered: frozenset[str] = frozenset()  # written in lowercase mid-sentence at least once
    lowercase: bool = False  # written without capitals: names can't be told by case
    entry_starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> JournalVocabulary:
        builder = VocabularyBuilder(lexicon())
        for text in texts:
            builder.add(text)
        return builder.build()

    def mentions(self, term: str) -> bool:
        """Whether the journal uses the term in any form: plural, possessive, accents,
        hyphen/space/joined variants ("check-up", "check up", "checkup"). The words of a
        multi-word term must occur in one entry: a question's noun phrase often joins
        words the entry spreads out ("the generator rebuild": "rebuild the generator")."""
        parts = _term_parts(term)
        if not parts:
            return False
        if normalise("".join(parts)) in self.words:
            return True
        if len(parts) == 1:
            return self._split_compound(parts[0])
        return self._near(parts)

    @cached_property
    def things(self) -> frozenset[str]:
        """Capitalised words that are not people: places, brands, titles of things."""
        return self.proper - self.people

    def spelling(self, norm: str) -> str:
        """The journal's own spelling of a normalised word (lower-cased); a hyphenated
        name is spelled part by part ("marc-andre" -> "marc-andré")."""
        if norm not in self.spellings and "-" in norm:
            return "-".join(self.spellings.get(p, p) for p in norm.split("-"))
        return self.spellings.get(norm, norm)

    def name_like(self, norm: str) -> bool:
        """Used as names are. In a journal written in lowercase: rarely after an article
        ("the", "a", "my"). Otherwise: never written in lowercase mid-sentence (a name only
        seen opening sentences: "Tom took credit for my slides.")."""
        n = self.words.get(norm, 0)
        if n == 0:
            return False
        if self.lowercase:
            return self.articled.get(norm, 0) / n < _NAME_ARTICLE_SHARE
        return norm not in self.lowered

    def _split_compound(self, word: str) -> bool:
        for i in range(3, len(word) - 2):
            a, b = word[:i], normalise(word[i:])
            if a in self.words and b in self.words and self._near([a, b]):
                return True
        return False

    def _near(self, parts: Sequence[str]) -> bool:
        if not all(p in self.words for p in parts):
            return False
        if not self.positions:
            return True
        rest = [self.positions.get(p, ()) for p in parts[1:]]
        for p in self.positions.get(parts[0], ()):
            lo, hi = self._entry_span(p)
            if all(_has_between(pos, lo, hi) for pos in rest):
                return True
        return False

    def _entry_span(self, position: int) -> tuple[int, int]:
        """The first and last positions of the entry holding ``position`` (the gap between
        entries on either side when entry bounds are unknown)."""
        starts = self.entry_starts
        if not starts:
            return position - _ENTRY_GAP, position + _ENTRY_GAP
        k = bisect_right(starts, position) - 1
        end = starts[k + 1] - 1 if k + 1 < len(starts) else position + 10**9
        return starts[max(k, 0)], end


def _has_between(sorted_positions: Sequence[int], lo: int, hi: int) -> bool:
    i = bisect_left(sorted_positions, lo)
    return i < len(sorted_positions) and sorted_positions[i] <= hi


class VocabularyBuilder:
    """Counts words, positions, capitalisation and ownership over a journal's entries.

    Every count is a sum over entries, in any order (an entry's words only need positions
    of their own), so a journal's builder can be copied and given just the entries
    written since (``service.ask.people``) instead of reading the journal again."""

    def __init__(self, lex: _Lexicon):
        self.lex = lex
        self.words: Counter[str] = Counter()
        # Arrays of machine integers, not lists: a copy per revision (``copy``, ``build``)
        # is one memory copy per word instead of a reference per position (1.4M positions
        # at 20k entries: 160 ms as lists).
        self.positions: defaultdict[str, array[int]] = defaultdict(_positions)
        self.surface: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.cap_mid: Counter[str] = Counter()
        self.low_mid: Counter[str] = Counter()
        self.thing_mid: Counter[str] = Counter()
        self.articled: Counter[str] = Counter()
        self.roles: set[str] = set()
        self.owned: set[str] = set()
        self.name_evidence: Counter[str] = Counter()
        self.initial_caps = [0, 0]  # sentence-initial words capitalised, all
        self.pos = 0
        self.entry_starts: list[int] = []

    def copy(self) -> VocabularyBuilder:
        """An independent builder with the same counts (a built vocabulary keeps using
        the containers of the builder it came from, so those are never changed)."""
        out = VocabularyBuilder(self.lex)
        out.words = Counter(self.words)
        out.positions = defaultdict(_positions, {n: p[:] for n, p in self.positions.items()})
        out.surface = defaultdict(Counter, {n: Counter(c) for n, c in self.surface.items()})
        out.cap_mid = Counter(self.cap_mid)
        out.low_mid = Counter(self.low_mid)
        out.thing_mid = Counter(self.thing_mid)
        out.articled = Counter(self.articled)
        out.roles = set(self.roles)
        out.owned = set(self.owned)
        out.name_evidence = Counter(self.name_evidence)
        out.initial_caps = list(self.initial_caps)
        out.pos = self.pos
        out.entry_starts = list(self.entry_starts)
        return out

    def add(self, text: str) -> None:
        toks = _tokens(text, self.lex.words["titles"])
        self.entry_starts.append(self.pos)
        for i, t in enumerate(toks):
            self._count(t)
            self._case(toks, i)
            self._ownership(toks, i)
            self._name_context(toks, i)
        self.pos += _ENTRY_GAP

    def _count(self, t: _Token) -> None:
        parts = [p for p in t.lower.split("-") if p]
        if len(parts) > 1:
            self.words[normalise("".join(parts))] += 1
        for part in parts:
            n = normalise(part)
            self.words[n] += 1
            self.positions[n].append(self.pos)
            self.surface[n][part] += 1
            self.pos += 1

    def _case(self, toks: list[_Token], i: int) -> None:
        t = toks[i]
        if t.initial:
            self.initial_caps[0] += t.text[0].isupper()
            self.initial_caps[1] += 1
            return
        if i and self.lex.has("determiners", toks[i - 1].norm):
            self.articled[t.norm] += 1
        if not t.cap:
            self.low_mid[t.norm] += not t.text.isupper()
            return
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt.cap and _is_role(_role_key(t), self.lex):
            return  # a title ("Sister Grace", "Uncle Keoni"): not the writer's sister
        self.cap_mid[t.norm] += 1
        if not t.possessive and _after_place_word(toks, i, self.lex, "journal_place_words"):
            self.thing_mid[t.norm] += 1

    def _name_context(self, toks: list[_Token], i: int) -> None:
        """Count a word seen where names go: "with jas", "jas said"."""
        before = i > 0 and self.lex.has("name_before", toks[i - 1].norm)
        after = i + 1 < len(toks) and self.lex.has("name_after", toks[i + 1].norm)
        if before or after:
            self.name_evidence[toks[i].norm] += 1

    def _ownership(self, toks: list[_Token], i: int) -> None:
        key = _role_key(toks[i])
        lex = self.lex
        is_role = _is_role(key, lex)
        if not (is_role or lex.has("owned_things", key)):
            return
        prev = _before_modifiers(toks, i, lex)
        if prev is not None and prev.norm in ("my", "our", "the"):
            self.owned.add(key)
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if is_role and toks[i].cap and nxt is not None and nxt.cap:
            return  # a title ("Sister Grace said"), not the writer's sister
        if is_role and _writers_own(prev, lex):
            self.roles.add(key)

    def _is_name(self, n: str) -> bool:
        lex = self.lex
        caps, things = self.cap_mid[n], self.thing_mid[n]
        return (
            caps > 0
            and caps >= self.low_mid[n]
            and caps - things >= things
            and len(n) > 1
            and not any(c.isdigit() for c in n)
            and not lex.any_of(n, "stopwords", "generic", "common", "time_words", "titles")
        )

    def _lowercase_names(self) -> set[str]:
        """Names in a journal written in lowercase: seen twice where names go, rarely
        after an article, not a common word."""
        lex = self.lex
        return {
            n
            for n, c in self.name_evidence.items()
            if c >= 2
            and self.articled[n] / self.words[n] < _NAME_ARTICLE_SHARE
            and len(n) > 1
            and not n.endswith("ing")
            and not any(ch.isdigit() for ch in n)
            and not lex.any_of(n, "stopwords", "generic", "common", "time_words", "modifiers")
        }

    def build(self) -> JournalVocabulary:
        proper = frozenset(
            n
            for n, c in self.cap_mid.items()
            if c >= self.low_mid[n] and not self.lex.any_of(n, "stopwords", "time_words")
        )
        names = {n for n in self.cap_mid if self._is_name(n)}
        capitalised, initial = self.initial_caps
        lowercase = initial > 0 and capitalised / initial < 0.5
        if lowercase:
            names |= self._lowercase_names()
        return JournalVocabulary(
            words=self.words,
            people=frozenset(names | self.roles),
            positions={n: p[:] for n, p in self.positions.items()},  # its own copies
            proper=proper,
            spellings={n: _spelling(n, c) for n, c in self.surface.items()},
            owned=frozenset(self.owned),
            articled=self.articled,
            lowered=frozenset(n for n, c in self.low_mid.items() if c),
            lowercase=lowercase,
            entry_starts=tuple(self.entry_starts),
        )


def _positions() -> array[int]:
    return array("q")


def _is_role(key: str, lex: _Lexicon) -> bool:
    return key in lex.family or lex.any_of(key, "soft_roles", "hard_roles")


def _spelling(norm: str, surfaces: Counter[str]) -> str:
    """The commonest way the journal writes a word, preferring its plain form ("nan"
    over "nans", a possessive written without its apostrophe)."""
    plain = [s for s in surfaces if _fold(s) == norm]
    return max(plain or surfaces, key=lambda s: (surfaces[s], -len(s)))


def _role_key(t: _Token) -> str:
    return normalise(t.lower.replace("-", "")) if "-" in t.lower else t.norm


def _before_modifiers(toks: Sequence[_Token], i: int, lex: _Lexicon) -> _Token | None:
    """The word before position i, skipping up to two modifiers ("my own sister")."""
    j = i - 1
    while j >= 0 and j >= i - 2 and lex.has("modifiers", toks[j].norm):
        j -= 1
    return toks[j] if j >= 0 and not toks[j + 1].initial else None


def _writers_own(prev: _Token | None, lex: _Lexicon) -> bool:
    """A role is the writer's after my/our/the or with no determiner ("Mum said"), not
    after his/her/their/your/a or a possessive ("her sister's wedding")."""
    if prev is None:
        return True
    if prev.possessive:
        return False
    return prev.norm in ("my", "our", "the") or not lex.has("determiners", prev.norm)


def _after_place_word(toks: Sequence[_Token], i: int, lex: _Lexicon, extra: str = "") -> bool:
    """A capitalised word (or run: "the Good Housekeeping") after the/in/at/from..."""
    j = i
    while j > 0 and toks[j - 1].cap and not toks[j].initial:
        j -= 1

    def place(t: _Token) -> bool:
        return lex.has("place_words", t.norm) or (bool(extra) and lex.has(extra, t.norm))

    if j != i and place(toks[j]):
        return True
    return j > 0 and not toks[j].initial and place(toks[j - 1])


# --- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    kind: Kind
    people: tuple[str, ...]
    labels: tuple[str, ...]
    trigger: str | None
    feeling: str | None
    # The trigger when it is narrower than being let down by anyone ("goes quiet on me",
    # "takes credit for my work"): a habit answer counts only the episodes it describes.
    situation: str | None
    subject_missing: tuple[str, ...]
    search_text: str  # the question without filler, for retrieval


@dataclass
class _Question:
    """One question being planned: its text, words and what has been found in it."""

    text: str
    low: str  # lower-cased, same length
    toks: list[_Token]
    vocab: JournalVocabulary
    lex: _Lexicon
    caps: bool  # capitals carry meaning (not an all-caps or Title Case question)
    people: list[str] = field(default_factory=list)
    named: set[str] = field(default_factory=set)  # question words naming someone
    missing: list[str] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)
    blocked: set[int] = field(default_factory=set)  # in an idiom or a time expression
    timed: set[int] = field(default_factory=set)  # in a time expression
    cued: set[int] = field(default_factory=set)  # in a label or let-down cue: not a subject

    def add_person(self, i: int, person: str) -> None:
        self.consumed.add(i)
        self.named.add(self.toks[i].norm)
        if person not in self.people:
            self.people.append(person)

    def add_missing(self, term: str, i: int | None = None) -> None:
        if i is not None:
            self.consumed.add(i)
            self.named.add(self.toks[i].norm)
        if term not in self.missing:
            self.missing.append(term)


def plan_question(question: str, vocab: JournalVocabulary) -> Plan:
    """Plan one question against the vocabulary of the asker's own journal."""
    lex = lexicon()
    text = _respell(_SPACES.sub(" ", question.replace("’", "'")).strip(), lex)
    q = _new_question(text, vocab, lex)
    _find_people(q)
    _find_missing_subjects(q)
    core = _Text(text).without(lex.time)  # "last winter" is for periods.py, not the kind
    kind = _classify(q.low, core.low, q.named, lex)
    trigger = _trigger(core, lex) if kind == "habit" else None
    # Without a situation clause ("who let me down and what did I do about it?") the
    # let-down is told anywhere in the question.
    told = trigger.lower() if trigger else core.low if kind == "habit" else ""
    feeling = LET_DOWN if told and _any(lex.let_down, told) else None
    return Plan(
        kind=kind,
        people=tuple(q.people),
        labels=_labels(_without_situation(core, kind, lex), lex),
        trigger=trigger,
        feeling=feeling,
        situation=_narrow(trigger, q) if trigger else None,
        subject_missing=tuple(q.missing),
        search_text=_search_text(q),
    )


@dataclass(frozen=True)
class _Text:
    """A text and its lower-cased form, of the same length: patterns (all lower-case)
    are matched on ``low``, and what they find is cut from ``text`` as written."""

    text: str

    @cached_property
    def low(self) -> str:
        low = self.text.lower()
        if len(low) == len(self.text):
            return low
        return "".join(c.lower() if len(c.lower()) == 1 else c for c in self.text)

    def cut(self, start: int, end: int) -> _Text:
        """Without text[start:end]."""
        return _Text(_SPACES.sub(" ", self.text[:start] + " " + self.text[end:]).strip())

    def without(self, patterns: Iterable[re.Pattern[str]]) -> _Text:
        out = self
        for p in patterns:
            for m in reversed(list(p.finditer(out.low))):
                out = out.cut(*m.span())
        return out


def _respell(text: str, lex: _Lexicon) -> str:
    """Chat spellings read as the words they stand for ("wat do i do wen ...")."""
    return _WORD.sub(lambda m: lex.chat.get(m.group().lower(), m.group()), text)


def _lowered(question: str, lex: _Lexicon) -> str:
    return _respell(_SPACES.sub(" ", question.replace("’", "'")).strip(), lex).lower()


def tells_let_down(question: str) -> bool:
    """Whether the question names being let down anywhere ("who let me down last winter
    and what did I do about it?"), not only in a habit question's situation."""
    lex = lexicon()
    return _any(lex.let_down, _lowered(question, lex))


def asks_what_i_did(question: str) -> bool:
    """Whether the question asks what the writer did or how they took something ("what
    did I do last autumn when things fell apart at the practice?"): over one period, a
    question about the writer's own responses, whatever the situation."""
    lex = lexicon()
    return _any(lex.kinds["habit_past"], _lowered(question, lex))


def _new_question(text: str, vocab: JournalVocabulary, lex: _Lexicon) -> _Question:
    toks = _tokens(text, lex.words["titles"])
    # Capitals tell names only in ordinary writing: not in ALL CAPS or Title Case, where
    # most function words past the first are capitalised too.
    small = [t for t in toks[1:] if lex.has("stopwords", t.norm) and t.norm != "i"]
    title_case = len(small) > 1 and sum(t.text[0].isupper() for t in small) * 2 > len(small)
    caps = any(c.islower() for c in text) and not title_case
    low = _Text(text).low
    q = _Question(text=text, low=low, toks=toks, vocab=vocab, lex=lex, caps=caps)
    q.timed = _covered(toks, lex.time, low)
    q.blocked = q.timed | _covered(toks, lex.idioms, low)
    q.cued = _covered(toks, (*lex.cues, *lex.let_down), low)
    return q


def _covered(toks: Sequence[_Token], patterns: Iterable[re.Pattern[str]], text: str) -> set[int]:
    """The tokens inside a match of any of the patterns."""
    out: set[int] = set()
    for p in patterns:
        for m in p.finditer(text):
            s, e = m.span()
            out.update(i for i, t in enumerate(toks) if s <= t.start and t.end <= e)
    return out


def _any(patterns: Iterable[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


# --- kinds -----------------------------------------------------------------------------------


def _classify(text: str, core: str, named: set[str], lex: _Lexicon) -> Kind:
    """``core`` is the question without time expressions; only a comparison ("than a
    year ago") is read in the full text."""
    if _any(lex.kinds["past_present"], core):
        return "past_present"
    if _any(lex.kinds["origin"], core):
        return "origin"
    if _any(lex.kinds["progress"], core) or _any(lex.kinds["progress"], text):
        return "progress"
    if _is_habit(core, lex):
        return "habit"
    if _is_person(core, named, lex):
        return "person"
    if _any(lex.kinds["pattern"], core) and (
        _labels(core, lex) or _any(lex.kinds["pattern_adverbs"], core)
    ):
        return "pattern"
    return "lookup"


def _is_habit(text: str, lex: _Lexicon) -> bool:
    if _any(lex.kinds["habit"], text):
        return True
    if not _any(lex.kinds["habit_past"], text):
        return False
    m = _situation(text, lex)
    situation = m.group("t").strip(" ,.?!;:") if m else _before_frame(text, lex)
    return _any(lex.kinds["generic_situation"], situation) or bool(
        re.search(r"\b(usually|normally|generally|typically|always|tend)\b", text)
    )


def _before_frame(text: str, lex: _Lexicon) -> str:
    """Without a when-clause, what happened is told before the frame: "who let me down
    and what did I do about it?" is about whoever did, a habit over the period."""
    starts = [m.start() for p in lex.kinds["habit_past"] for m in [p.search(text)] if m]
    return text[: min(starts)] if starts else ""


def _is_person(text: str, named: set[str], lex: _Lexicon) -> bool:
    if _any(lex.kinds["person"], text):
        return True
    for pattern in lex.kinds["person_if_named"]:
        for m in pattern.finditer(text):
            who = re.sub(r"^(?:my|our) ", "", m.group("who"))
            if normalise(who) in named:
                return True
    return False


def _situation(low: str, lex: _Lexicon) -> re.Match[str] | None:
    """The situation clause: a leading when-clause, else a trailing one, else the object
    of handle/deal with/cope with/react to."""
    for pattern in lex.trigger:
        m = pattern.search(low)
        if m and m.group("t").strip(" ,.?!;:"):
            return m
    return None


def _trigger(core: _Text, lex: _Lexicon) -> str | None:
    """The situation as the person wrote it; ``core`` has no time expressions."""
    m = _situation(core.low, lex)
    return core.text[m.start("t") : m.end("t")].strip(" ,.?!;:") or None if m else None


def _narrow(trigger: str, q: _Question) -> str | None:
    """The trigger, when a word in it other than a stopword, a name or a word of being let
    down by anyone says what happened ("someone goes quiet on me"); None for "when
    someone lets me down" or "when Tess disappoints me" (the person filter reads Tess)."""
    for m in _WORD.finditer(trigger.lower()):
        word = normalise(m.group())
        if word and word not in q.named and not q.lex.any_of(word, "stopwords", "any_situation"):
            return trigger
    return None


def _without_situation(core: _Text, kind: Kind, lex: _Lexicon) -> str:
    """For habit and past-present questions, labels name what the asker does, not the
    situation others create ("when Tom ignores me, am I reacting to him or to Dad?")."""
    if kind == "habit":
        m = _situation(core.low, lex)
    elif kind == "past_present":
        m = lex.trigger[0].search(core.low)  # only a leading when-clause
    else:
        m = None
    return core.low[: m.start("t")] + core.low[m.end("t") :] if m else core.low


def _labels(text: str, lex: _Lexicon) -> tuple[str, ...]:
    named = [
        name
        for name, (cues, unless) in lex.labels.items()
        if _any(cues, text) and not _any(unless, text)
    ]
    dropped = {
        d
        for name in named
        for d in lex.precedence.get(name, frozenset())
        if d in named and not _alternatives(text, lex.labels[name][0], lex.labels[d][0])
    }
    return tuple(n for n in named if n not in dropped)


_OR = re.compile(r"\b(?:or|and/or|nor)\s*$")


def _alternatives(
    text: str, first: Iterable[re.Pattern[str]], second: Iterable[re.Pattern[str]]
) -> bool:
    """Two behaviours asked as alternatives ("go quiet on somebody or cut them off"): "or"
    between their cues. Precedence (one is the means of the other: "kept quiet on
    purpose to see whether someone would notice") does not hold then; both are asked."""
    a = [m.span() for p in first for m in p.finditer(text)]
    b = [m.span() for p in second for m in p.finditer(text)]
    for s1, e1 in a:
        for s2, e2 in b:
            gap = text[e1:s2] if e1 <= s2 else text[e2:s1] if e2 <= s1 else ""
            if _OR.search(gap) and len(gap) <= 40:  # the later cue right after "or"
                return True
    return False


# --- people --------------------------------------------------------------------------------


def _find_people(q: _Question) -> None:
    strong, weak = _slots(q)
    for i in range(len(q.toks)):
        if i in q.consumed:
            continue
        if not _role(q, i) and not _capitalised(q, i, strong):
            _lowercase_word(q, i, strong, weak)


def _slots(q: _Question) -> tuple[set[int], set[int]]:
    """Token positions that sit where a name goes ("me and X", "with X", "when X texts")."""

    def at(patterns: Iterable[re.Pattern[str]]) -> set[int]:
        starts = {m.start("n") for p in patterns for m in p.finditer(q.text)}
        return {i for i, t in enumerate(q.toks) if t.start in starts}

    return at(q.lex.strong_slots), at(q.lex.weak_slots)


def _role(q: _Question, i: int) -> bool:
    """A role word: the writer's own ("my sister", "mum") is a person or, when the journal
    never gives the writer one, a missing subject. Others' ("her sister") are left alone."""
    lex, t = q.lex, q.toks[i]
    key = _role_key(t)
    soft = lex.has("soft_roles", key)
    if key not in lex.family and not soft and not lex.has("hard_roles", key):
        return False
    nxt = q.toks[i + 1] if i + 1 < len(q.toks) else None
    if nxt is not None and (
        (nxt.cap and q.caps and not nxt.initial)
        # lowercase ("me and uncle keoni"): the next word is a name the journal uses
        or (nxt.norm in q.vocab.people and not _is_role(_role_key(nxt), lex))
    ):
        q.consumed.add(i)  # a title: "Auntie Neela", the name follows
        return True
    if not _writers_own(_before_modifiers(q.toks, i, lex), lex) or _noun_modifier(q, i):
        return False
    form = _journal_role(q, key)
    if form is not None:
        q.add_person(i, form)
    elif soft and not _no_trace(q, key):
        q.consumed.add(i)
    else:
        q.add_missing(key, i)
    return True


_PREPOSITIONS = frozenset({"at", "to", "in", "on", "for", "during", "from", "into"})


def _noun_modifier(q: _Question, i: int) -> bool:
    """A role word that qualifies the noun after it, right after a preposition ("at family
    gatherings", "to team meetings"): a kind of occasion, not someone of the writer's."""
    if i == 0 or i + 1 >= len(q.toks) or q.toks[i - 1].norm not in _PREPOSITIONS:
        return False
    nxt = q.toks[i + 1]
    return (
        nxt.lower.endswith("s")
        and nxt.lower != nxt.norm
        and not q.lex.any_of(nxt.norm, "stopwords", "generic", "time_words")
        and not (nxt.cap and q.caps)
    )


def _no_trace(q: _Question, key: str) -> bool:
    """A soft role with evidence words (a therapist: therapy, counselling, ...) that the
    journal never uses: someone the writer may name only by name, but whose work would
    show. Without such a list a soft role is never missing."""
    evidence = q.lex.soft_role_evidence.get(key, ())
    return bool(evidence) and not any(q.vocab.mentions(w) for w in evidence)


def _journal_role(q: _Question, key: str) -> str | None:
    """The journal's word for a role: the question's own when the journal uses it, else
    the synonym the journal uses most ("my mother" -> "mum")."""
    vocab = q.vocab
    if key in vocab.people:
        return vocab.spelling(key)
    group = [m for m in q.lex.family_groups.get(q.lex.family.get(key, ""), ()) if m in vocab.people]
    if group:
        return vocab.spelling(max(group, key=lambda m: vocab.words.get(m, 0)))
    if key not in q.lex.family and q.lex.has("hard_roles", key) and q.vocab.mentions(key):
        return q.vocab.spelling(key)
    return None


def _not_a_name(q: _Question, t: _Token) -> bool:
    return (
        t.has_digit
        or len(t.norm) < 2
        or q.lex.any_of(t.norm, "stopwords", "generic", "common", "time_words", "titles")
    )


def _capitalised(q: _Question, i: int, strong: AbstractSet[int] = frozenset()) -> bool:
    """A capitalised word: a person the journal names, a place or thing it mentions, or
    (when the journal never mentions it) a missing subject. In a strong name slot ("tell
    me about X and me") a word the journal mentions is a person even when the journal's
    own contexts were ambiguous ("handed it to Priyanka" reads like a place)."""
    t, vocab = q.toks[i], q.vocab
    if not (q.caps and t.cap) or _not_a_name(q, t) or i in q.blocked:
        return False
    if t.initial and t.norm not in vocab.people:
        return False
    if t.norm in vocab.people or (i in strong and vocab.mentions(t.text)):
        q.add_person(i, vocab.spelling(t.norm))
    elif _after_place_word(q.toks, i, q.lex) or t.norm in vocab.things:
        if not vocab.mentions(t.text):
            q.add_missing(t.lower, i)
    elif vocab.name_like(t.norm):
        q.add_person(i, vocab.spelling(t.norm))
    elif not vocab.mentions(t.text):
        q.add_missing(t.lower, i)
    q.consumed.add(i)
    return True


def _lowercase_word(q: _Question, i: int, strong: set[int], weak: set[int]) -> None:
    """A word not capitalised: a person the journal names (in a journal that capitalises
    names, one it never writes in lowercase), or a word in a name slot that the journal
    uses as names are used; a word in a strong slot the journal never uses is missing."""
    t, vocab = q.toks[i], q.vocab
    if (t.cap and q.caps) or _not_a_name(q, t) or t.norm.endswith("ing") or t.norm in vocab.things:
        return
    known = t.norm in vocab.people and (vocab.lowercase or t.norm not in vocab.lowered)
    if known or ((i in strong or i in weak) and vocab.name_like(t.norm)):
        q.add_person(i, vocab.spelling(t.norm))
    elif i in strong and not vocab.mentions(t.text):
        q.add_missing(t.lower, i)


# --- subjects ----------------------------------------------------------------------------------


def _find_missing_subjects(q: _Question) -> None:
    """Noun phrases after my/the/about/a possessive, and what is played ("play golf"),
    whose words the journal never uses. What belongs to a person the journal names is
    not judged: the journal may call "Lina's party" "the night at Lina's". The people
    and pets around them are (``_belongs_to_named``)."""
    i = 0
    while i < len(q.toks):
        t = q.toks[i]
        how_did = t.norm in _HOW_AUX and i > 0 and q.toks[i - 1].norm == "how"
        opens = (
            q.lex.has("determiners", t.norm)
            or t.norm == "about"
            or t.possessive
            or q.lex.has("activity_verbs", t.norm)
            or how_did
        )
        if not opens or i in q.blocked:
            i += 1
            continue
        after = i + 1
        words, i = _noun_phrase(q, after, t.norm)
        if how_did:
            # "how did golf go", "how is choir going": the thing asked about, a bare
            # noun; "how did I", "how did things go" open nothing (stopwords, generic).
            words = [w for w in words if w.norm not in _GO]
            if words and not any(w.cap for w in words):
                _judge(q, words, owner="")
            continue
        known_owner = t.possessive and t.norm in q.vocab.people
        if known_owner:
            _belongs_to_named(q, after)
        elif words and not _predicate(q, words[0], t.norm):
            _judge(q, words, owner="" if t.possessive else t.norm)


_HOW_AUX = frozenset({"did", "does", "do", "is", "was", "are", "were"})
_GO = frozenset({"go", "going", "went", "gone", "goes"})


def _belongs_to_named(q: _Question, start: int) -> None:
    """Someone or something of a person the journal names ("Lwazi's swimming coach",
    "Sam's dentist", "Lina's dog"): a role or pet is written as such when it matters, so
    when the journal never mentions the phrase it is missing. A bare soft role ("Lina's
    teacher") may be written only by name and a family role ("Lina's mum") is judged
    elsewhere; neither is missing here."""
    lex, phrase = q.lex, list[_Token]()
    for k in range(start, min(start + 4, len(q.toks))):
        t = q.toks[k]
        if k in q.blocked or lex.any_of(t.norm, "stopwords", "determiners", "generic"):
            return
        if not phrase and lex.has("modifiers", t.norm):
            continue
        phrase.append(t)
        key = _role_key(t)
        if key in lex.family or t.possessive:
            return
        if _is_role(key, lex) or lex.has("owned_things", key):
            bare_soft = len(phrase) == 1 and lex.has("soft_roles", key)
            term = " ".join(w.lower for w in phrase)
            if not bare_soft and not q.vocab.mentions(term):
                q.add_missing(term)
            return


def _predicate(q: _Question, first: _Token, opener: str) -> bool:
    """An indefinite noun phrase after a copula in its sentence describes something the
    question already names ("was last year's programme a blip", "is it a phase"): no
    subject of its own. "Was there a ..." introduces one, and a role or an owned thing
    ("is he a dentist", "do I have a dog") is judged as such elsewhere."""
    if opener not in ("a", "an"):
        return False
    head_key = _role_key(first)
    if _is_role(head_key, q.lex) or q.lex.has("owned_things", head_key):
        return False
    before = q.low[: first.start]
    clause = _SENTENCE_BREAK.split(before)[-1]
    words = _WORD.findall(clause)
    for k, w in enumerate(words):
        if w in q.lex.words["copulas"]:
            return not (k + 1 < len(words) and words[k + 1] == "there")
    return False


def _noun_phrase(q: _Question, start: int, opener: str = "") -> tuple[list[_Token], int]:
    """The words of the noun phrase from ``start`` (leading modifiers skipped) and where
    scanning goes on: after it, or at a possessive that opens the next one."""
    words: list[_Token] = []
    k = start
    while k < len(q.toks) and len(words) < 4:
        t = q.toks[k]
        stop = _ends_phrase(q, k, words)
        if stop:
            return words, k if (t.possessive or q.lex.has("determiners", t.norm)) else k + 1
        if t.has_digit or (not words and q.lex.has("modifiers", t.norm)):
            k += 1
            continue
        if not words and opener == "about" and t.norm.endswith(("ing", "ed")):
            return words, k  # "about not being able to", "about being left": not a thing
        words.append(t)
        if t.possessive:
            return words, k
        if _is_role(_role_key(t), q.lex):
            return words, k + 1  # a role is a head: "a friend lies to me"
        k += 1
    return words, k


def _ends_phrase(q: _Question, k: int, words: list[_Token]) -> bool:
    t, lex = q.toks[k], q.lex
    if k in q.blocked or k in q.consumed or k in q.cued:
        return True
    if lex.any_of(t.norm, "stopwords", "determiners", "generic", "time_words"):
        return True
    if words and t.norm.endswith(("ed", "ing")):
        return True
    gap = q.text[q.toks[k - 1].end : t.start] if k else ""
    return bool(words) and gap.strip() != ""


def _judge(q: _Question, words: list[_Token], owner: str) -> None:
    head = words[-1]
    lex, vocab = q.lex, q.vocab
    if lex.has("soft_roles", _role_key(head)) or lex.has("generic", head.norm):
        return
    if lex.has("owned_things", head.norm) and owner in ("my", "our"):
        if head.norm not in vocab.owned:
            q.add_missing(head.lower)
        return
    term = " ".join(w.lower for w in words)
    if len(words) == 1 and head.lower.count("-") >= 2:
        return  # a phrase made into one word ("this whole not-counting-on-people thing")
    if not vocab.mentions(term):
        q.add_missing(term)


# --- search text -----------------------------------------------------------------------------


def _search_text(q: _Question) -> str:
    kept = [
        t.text for i, t in enumerate(q.toks) if i not in q.timed and not q.lex.has("filler", t.norm)
    ]
    return " ".join(kept) or q.text


__all__ = [
    "KINDS",
    "LET_DOWN",
    "JournalVocabulary",
    "Kind",
    "Plan",
    "asks_what_i_did",
    "lexicon",
    "plan_question",
    "tells_let_down",
]
