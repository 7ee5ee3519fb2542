"""Episodes: trigger → feeling → response → outcome, each part a quote from one entry.

"What do I usually do when I feel betrayed?" is a question about a habit, and a habit
is something counted across episodes, not read from the single closest passage. An
episode is built from the labels the tagger stored for an entry's sentences: the
feeling is the sentence that shows a trust emotion, the responses are the sentences
that show a defensive pattern (or a repair signal), the trigger is where the story
starts (the first sentence that is not itself a response), and the outcome is the
sentence after the last response. Every part is an exact span of the entry's text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingest.chunking import sentence_spans
from ingest.episodes_store import StoredEpisode
from ingest.labels_store import EntryLabels, LabelSpan
from service.insight.quotes import whole_sentences
from service.schemas import Citation

RESPONSE_GROUPS = ("patterns", "repair")


@dataclass(frozen=True)
class Part:
    role: str  # trigger | feeling | response | outcome
    quote: str
    start: int
    end: int
    label: str | None = None


@dataclass
class Episode:
    entry_id: str
    date: str
    era: str
    labels: set[str]  # every positive label of the entry (corrections applied)
    trigger: Part | None = None
    feeling: Part | None = None
    responses: list[Part] = field(default_factory=list)
    outcome: Part | None = None
    by: str | None = None  # who let the writer down, when the episode detector found it

    def response(self, label: str) -> Part | None:
        return next((p for p in self.responses if p.label == label), None)

    def citation(self, part: Part) -> Citation:
        return Citation(entry_id=self.entry_id, date=self.date, quote=part.quote)

    def as_dict(self) -> dict[str, object]:
        def p(x: Part | None) -> dict[str, object] | None:
            return None if x is None else {"label": x.label, "quote": x.quote}

        return {
            "entry_id": self.entry_id,
            "date": self.date,
            "era": self.era,
            "trigger": p(self.trigger),
            "feeling": p(self.feeling),
            "responses": [p(r) for r in self.responses],
            "outcome": p(self.outcome),
            "by": self.by,
        }


def _part(role: str, text: str, start: int, end: int, label: str | None = None) -> Part:
    # Quoted as whole sentences of five words or more (a label's span may be a fragment).
    quote = whole_sentences(text, start, end)
    return Part(role=role, quote=quote, start=start, end=end, label=label)


def extract_episode(
    entry_id: str, text: str, labels: EntryLabels, spans: Iterable[LabelSpan]
) -> Episode | None:
    """The episode an entry tells, or None when it shows no feeling and no response."""
    hits = [s for s in spans if s.end > s.start]
    # The entry-level labels already have corrections applied: a rejected label is gone
    # from them and a confirmed one is present, so they decide which hits count.
    hits = [s for s in hits if s.label in labels.labels]
    for name, s in labels.labels.items():
        if not any(h.label == name for h in hits) and s.end > s.start:
            hits.append(s)
    feelings = [s for s in hits if s.group == "emotions"]
    responses = [s for s in hits if s.group in RESPONSE_GROUPS]
    if not feelings and not responses:
        return None
    ep = Episode(
        entry_id=entry_id,
        date=labels.date.isoformat(),
        era=labels.era,
        labels=set(labels.labels),
    )
    if feelings:
        f = max(feelings, key=lambda s: s.score)
        ep.feeling = _part("feeling", text, f.start, f.end, f.label)
    best: dict[str, LabelSpan] = {}
    for s in responses:
        if s.label not in best or s.score > best[s.label].score:
            best[s.label] = s
    ep.responses = [
        _part("response", text, s.start, s.end, s.label)
        for s in sorted(best.values(), key=lambda s: s.start)
    ]
    sentences = sentence_spans(text)
    response_starts = {p.start for p in ep.responses}
    first = next((s for s in sentences if s.start not in response_starts), None)
    if first is not None:
        ep.trigger = _part("trigger", text, first.start, first.end)
    if ep.responses:
        last_end = max(p.end for p in ep.responses)
        after = next((s for s in sentences if s.start >= last_end), None)
        if after is not None:
            ep.outcome = _part("outcome", text, after.start, after.end)
    return ep


def extract_episodes(
    labels: dict[str, EntryLabels], spans: dict[str, list[LabelSpan]], texts: dict[str, str]
) -> list[Episode]:
    out = []
    for eid, el in labels.items():
        if eid not in texts:
            continue
        ep = extract_episode(eid, texts[eid], el, spans.get(eid, []))
        if ep is not None:
            out.append(ep)
    return sorted(out, key=lambda e: (e.date, e.entry_id))


@dataclass
class Behaviour:
    """One response counted over the episodes of a trigger."""

    pattern: str
    count: int
    of: int
    citations: list[Citation]


def count_behaviours(
    episodes: list[Episode],
    triggers: Iterable[str],
    max_citations: int | None = None,
    among: Iterable[str] | None = None,
) -> tuple[list[Episode], list[Behaviour]]:
    """Episodes set off by any of ``triggers``, and how often each response occurs in them.

    A trigger is a label of the entry (usually a feeling, e.g. betrayal; it may be a
    pattern, e.g. "when I start checking up on people"); the trigger label itself is not
    counted as a response to itself. With ``among``, the episodes are those entries
    (however they were found) and ``of`` counts all of them, with a response or not.
    Each count carries one citation per episode it counts (all of them unless
    ``max_citations`` is set), so every count can be checked.
    """
    wanted = set(triggers)
    if among is None:
        matching = [e for e in episodes if e.labels & wanted]
        total = len(matching)
    else:
        # The episodes were found another way (the habit question's retrieval, which
        # matches the trigger in the person's own words): count responses within them.
        ids = set(among)
        matching = [e for e in episodes if e.entry_id in ids]
        total = len(ids)
    counts: dict[str, list[Episode]] = {}
    for e in matching:
        for r in e.responses:
            if r.label and r.label not in wanted:
                counts.setdefault(r.label, []).append(e)
    behaviours = []
    for label, eps in counts.items():
        cites = []
        for e in eps[:max_citations]:
            part = e.response(label)
            assert part is not None
            cites.append(e.citation(part))
        behaviours.append(Behaviour(pattern=label, count=len(eps), of=total, citations=cites))
    behaviours.sort(key=lambda b: (-b.count, b.pattern))
    return matching, behaviours


def from_stored(
    stored: Iterable[StoredEpisode],
    texts: dict[str, str],
    dates: dict[str, str],
    labels: dict[str, EntryLabels],
    era_at: Callable[[str, int], str | None],
) -> list[Episode]:
    """The episodes found at ingest (``ingest/episodes.py``: what someone did, what the
    writer did about it and how it ended, each a span of the entry), as quotes. These are
    the episodes a habit question counts, so ``/v1/episodes`` shows the same ones."""
    out = []
    for e in sorted(stored, key=lambda e: (e.date, e.entry_id, e.trigger)):
        text = texts.get(e.entry_id)
        if text is None:
            continue
        el = labels.get(e.entry_id)
        response = (
            [_part("response", text, *e.response, label=e.response_label)] if e.response else []
        )
        out.append(
            Episode(
                entry_id=e.entry_id,
                date=dates[e.entry_id],
                era=era_at(e.entry_id, e.trigger[0]) or (el.era if el else "present"),
                labels=set(el.labels) if el else set(),
                trigger=_part("trigger", text, *e.trigger),
                responses=response,
                outcome=_part("outcome", text, *e.outcome) if e.outcome else None,
                by=e.by,
            )
        )
    return out
