"""Past versus present: which old episodes a present situation echoes, and what differs.

A present fear often borrows its force from an old wound: "Rui is late" feels like
"my mother never came". Separating the two starts with seeing both side by side, in the
person's own words and dates. The echoes are past entries close in meaning to the
situation; formative ones (era ``origin``) are looked for on purpose, both directly and
through the recent entries the situation resembles (what those entries feel and do is
what the origin is matched on), because an origin story rarely shares words with today.

Then: what is the same (labels the situation's echoes share with the origin), what is
different (time passed, other people, and what the person has done since — trust
experiments and self-trust), and questions that help tell then from now. Every
statement carries quotes; a statement with nothing to quote is left out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from ingest.labels_store import EntryLabels
from prompts import load_yaml
from service.insight.quotes import label_quotes, tidy, whole_sentences
from service.insight.schemas import Echo, Era, ReflectResponse, Statement
from service.schemas import Citation
from service.taxonomy import load_taxonomy

MIN_ECHO_SIMILARITY = 0.25  # below this a past entry is not treated as an echo
# Origin stories are told in other words than today's situation (another person,
# another decade), so a formative entry counts as an echo from a lower similarity.
MIN_ORIGIN_SIMILARITY = 0.15
MAX_ORIGINS = 2
MAX_ECHOES = 5
REPAIR_LABELS = ("trust_experiment", "self_trust")

_PAST_PRESENT = re.compile(
    r"\b(about (my|the) past|my past|old wound|childhood|back then|my history|"
    r"past or (the )?present|then or now|now or then|really about)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,})\b")


def is_past_present_question(question: str) -> bool:
    """'Is my fear about my partner, or about my past?' and the like."""
    return bool(_PAST_PRESENT.search(question))


@dataclass(frozen=True)
class Candidate:
    """A retrieved chunk of a past entry: its span, dense similarity and chunk era."""

    entry_id: str
    start: int
    end: int
    similarity: float
    era: str | None = None


@lru_cache
def _questions() -> dict[str, list[str]]:
    data = load_yaml("reflect", "questions.yaml")
    return {"with_echo": list(data["with_echo"]), "plain": list(data["plain"])}


def _era(value: str | None) -> Era:
    return value if value in ("origin", "recent", "present") else "recent"  # type: ignore[return-value]


def _names(text: str) -> set[str]:
    common = {"The", "This", "That", "Then", "When", "What", "But", "And", "She", "His", "Her"}
    return {m.group(1) for m in _NAME.finditer(text)} - common


def reflect(
    situation: str,
    candidates: list[Candidate],
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    situation_labels: set[str] | None = None,
    today: dt.date | None = None,
) -> ReflectResponse:
    """Build the reflection from retrieved candidates and the person's labelled entries."""

    def era_of(c: Candidate) -> Era:
        return _era(c.era or labels[c.entry_id].era)

    ranked = _ranked(candidates, labels, texts, era_of)
    # What "now" is like: the labels the person named or the tagger found in the
    # situation, else the labels of the entries it most resembles.
    now_labels = set(situation_labels or ())
    if not now_labels:
        for c in ranked[:3]:
            now_labels |= set(labels[c.entry_id].labels)
    picked = _pick_echoes(ranked, labels, texts, now_labels, era_of)
    echoes = [e for e in (_echo(c, labels, texts, now_labels, era_of) for c in picked) if e.quote]
    if not echoes:
        return ReflectResponse(
            situation=situation,
            echoes=[],
            same=[],
            different=[],
            questions=_questions()["plain"][:4],
            abstained=True,
        )
    anchor = next((e for e in echoes if e.era == "origin"), echoes[0])
    questions = [
        tidy(tmpl.format(date=anchor.date, quote=anchor.quote, year=anchor.date[:4]))
        for tmpl in _questions()["with_echo"]
    ]
    return ReflectResponse(
        situation=situation,
        echoes=echoes,
        same=_same(anchor, echoes),
        different=_different(anchor, situation, labels, texts, today or dt.date.today()),
        questions=questions[:5],
        abstained=False,
    )


def _ranked(
    candidates: list[Candidate],
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    era_of: Callable[[Candidate], Era],
) -> list[Candidate]:
    """The best chunk of each entry close enough to echo (origins need less), closest first."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        if c.entry_id not in texts or c.entry_id not in labels:
            continue
        floor = MIN_ORIGIN_SIMILARITY if era_of(c) == "origin" else MIN_ECHO_SIMILARITY
        if c.similarity >= floor and (
            c.entry_id not in best or c.similarity > best[c.entry_id].similarity
        ):
            best[c.entry_id] = c
    return sorted(best.values(), key=lambda c: -c.similarity)


def _pick_echoes(
    ranked: list[Candidate],
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    now_labels: set[str],
    era_of: Callable[[Candidate], Era],
) -> list[Candidate]:
    """Origins first (looked for on purpose), then the closest other entries."""
    echoes: list[Candidate] = []
    origins = [c for c in ranked if era_of(c) == "origin"]
    if origins:
        echoes += origins[:MAX_ORIGINS]
    else:
        # The origin story may share no words with today: match it on what it feels and does.
        linked = [
            (len(set(el.labels) & now_labels), eid)
            for eid, el in labels.items()
            if el.era == "origin" and eid in texts and set(el.labels) & now_labels
        ]
        if linked:
            _, eid = max(linked, key=lambda t: (t[0], labels[t[1]].date))
            span = max(
                (s for s in labels[eid].labels.values() if s.label in now_labels),
                key=lambda s: s.score,
            )
            echoes.append(Candidate(eid, span.start, span.end, 0.0, "origin"))
    for c in ranked:
        if len(echoes) >= MAX_ECHOES:
            break
        if all(c.entry_id != e.entry_id for e in echoes):
            echoes.append(c)
    return echoes


def _echo(
    c: Candidate,
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    now_labels: set[str],
    era_of: Callable[[Candidate], Era],
) -> Echo:
    el = labels[c.entry_id]
    return Echo(
        entry_id=c.entry_id,
        date=el.date.isoformat(),
        era=era_of(c),
        quote=whole_sentences(texts[c.entry_id], c.start, c.end),
        similarity=round(c.similarity, 3),
        shared=sorted(set(el.labels) & now_labels),
    )


def _same(anchor: Echo, echoes: list[Echo]) -> list[Statement]:
    """Each label the anchor shares with now, quoted then and (where found) again."""
    tax = load_taxonomy()
    same: list[Statement] = []
    for label in anchor.shared:
        name = label.replace("_", " ")
        kind = "feeling" if tax.get(label) and tax[label].group == "emotions" else "response"
        same.append(
            Statement(
                statement=f"The same {kind} shows then and now: {name}.",
                citations=[
                    _cite(anchor),
                    *[_cite(e) for e in echoes if e is not anchor and label in e.shared][:2],
                ],
            )
        )
    return same


def _different(
    anchor: Echo,
    situation: str,
    labels: dict[str, EntryLabels],
    texts: dict[str, str],
    today: dt.date,
) -> list[Statement]:
    """How now differs: time passed, other people, and steps of repair taken since."""
    different: list[Statement] = []
    anchor_date = dt.date.fromisoformat(anchor.date)
    years = (today - anchor_date).days // 365
    if anchor.era == "origin" or years >= 1:
        when = f"{years} year{'s' if years != 1 else ''} ago" if years >= 1 else "some time ago"
        different.append(
            Statement(
                statement=(
                    f"You wrote this {when}"
                    + (", about a formative time" if anchor.era == "origin" else "")
                    + "; the situation you describe is happening now."
                ),
                citations=[_cite(anchor)],
            )
        )
    then_names, now_names = _names(anchor.quote), _names(situation)
    if now_names and then_names and not (now_names & then_names):
        different.append(
            Statement(
                statement=(
                    f"Then it was about {', '.join(sorted(then_names))}; now it is about "
                    f"{', '.join(sorted(now_names))}."
                ),
                citations=[_cite(anchor)],
            )
        )
    since = {
        eid: el for eid, el in labels.items() if el.date > anchor_date and eid != anchor.entry_id
    }
    repair = label_quotes(since, texts, REPAIR_LABELS)
    if repair:
        latest = sorted(repair, key=lambda q: q.date, reverse=True)[:2]
        different.append(
            Statement(
                statement="Since then you have also acted differently: "
                + "; ".join(f'{q.date}: "{q.quote}"' for q in latest),
                citations=[q.citation() for q in latest],
            )
        )
    return different


def _cite(e: Echo) -> Citation:
    return Citation(entry_id=e.entry_id, date=e.date, quote=e.quote)
