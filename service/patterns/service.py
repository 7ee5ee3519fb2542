"""The person's trust patterns, counted from the labels stored at ingest, and their
corrections of those labels.

Everything here reads through ``UserLabels`` (bound to one user). Counts are per entry:
an entry shows a pattern when any of its chunks does, after the person's corrections.
Every example is a verbatim sentence of the entry it names.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from ingest.indexing import Indexer
from ingest.labels_store import EntryLabels, UserLabels, known_labels
from ingest.store import UserEntries
from service.errors import NotFound, UnknownLabel

MAX_EXAMPLES = 3
PATTERN_GROUPS = ("patterns", "repair")


def pattern_labels() -> list[str]:
    """The nine labels a patterns report counts: seven patterns, then two repair signals."""
    return [name for name, group in known_labels().items() if group in PATTERN_GROUPS]


def _example(e: EntryLabels, name: str, text: str) -> dict[str, str]:
    span = e.labels[name]
    return {
        "entry_id": e.entry_id,
        "date": e.date.isoformat(),
        "quote": text[span.start : span.end],
    }


class PatternsService:
    """The person's patterns report and their label corrections (one user per call)."""

    def __init__(self, sessions: sessionmaker[Session], indexer: Indexer):
        self.sessions = sessions
        self.indexer = indexer

    def ensure_tagged(self, user_id: str) -> None:
        """Tag entries indexed before tagging existed (re-indexing reuses their vectors)."""
        with self.sessions() as session:
            pks = UserLabels(session, user_id).untagged()
        if pks:
            self.indexer.index_entries(user_id, pks)

    def patterns_report(self, user_id: str) -> dict[str, Any]:
        """``{"patterns": {label: {count, entries, examples}}, "entries": {id: [labels]}}``."""
        self.ensure_tagged(user_id)
        names = pattern_labels()
        with self.sessions() as session:
            labels = UserLabels(session, user_id).entry_labels()
            texts = {e.entry_id: e.text for e in UserEntries(session, user_id).all()}
        ordered = sorted(labels.values(), key=lambda e: (e.date, e.entry_id))
        patterns: dict[str, Any] = {}
        for name in names:
            hits = [e for e in ordered if name in e.labels]
            best = sorted(hits, key=lambda e: (-e.labels[name].score, e.date, e.entry_id))
            patterns[name] = {
                "count": len(hits),
                "entries": [e.entry_id for e in hits],
                "examples": [_example(e, name, texts[e.entry_id]) for e in best[:MAX_EXAMPLES]],
            }
        entries = {e.entry_id: [n for n in names if n in e.labels] for e in ordered}
        return {"patterns": patterns, "entries": entries}

    def entry_labels(self, user_id: str, entry_id: str) -> dict[str, Any]:
        """One entry's era and labels (with quotes and sources) and the person's verdicts."""
        self.ensure_tagged(user_id)
        with self.sessions() as session:
            store = UserLabels(session, user_id)
            found = store.entry_labels([entry_id])
            if entry_id not in found:
                raise NotFound(f"no entry {entry_id!r} for this user")
            e = found[entry_id]
            text = store.entries.get(entry_id).text  # type: ignore[union-attr]
            verdicts = store.verdicts([entry_id]).get(entry_id, {})
        return {
            "entry_id": entry_id,
            "date": e.date.isoformat(),
            "era": e.era,
            "labels": [
                {
                    "label": s.label,
                    "group": s.group,
                    "score": s.score,
                    "source": s.source,
                    "quote": text[s.start : s.end],
                    "start": s.start,
                    "end": s.end,
                }
                for s in sorted(e.labels.values(), key=lambda s: (s.group, s.label))
            ],
            "corrections": [{"label": k, "verdict": v} for k, v in sorted(verdicts.items())],
        }

    def correct(
        self,
        user_id: str,
        entry_id: str,
        label: str,
        verdict: Literal["confirm", "reject"] | None,
    ) -> dict[str, Any]:
        """Record (or, with ``None``, clear) a verdict, then re-index the entry so the
        index metadata follows it (stored vectors are reused: nothing is embedded)."""
        with self.sessions() as session:
            store = UserLabels(session, user_id)
            try:
                if verdict is None:
                    store.clear_correction(entry_id, label)
                else:
                    store.correct(entry_id, label, verdict)
            except KeyError as e:
                raise NotFound(str(e.args[0])) from None
            except ValueError as e:
                raise UnknownLabel(str(e)) from None
            pk = store.entries.get(entry_id).pk  # type: ignore[union-attr]
            session.commit()
        self.indexer.index_entries(user_id, [pk])
        return self.entry_labels(user_id, entry_id)
