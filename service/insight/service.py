"""The insight engine's read path for one user: labels, texts and retrieval, put together.

Every feature here reads the same three things: the person's entries (the source of
truth), the labels the tagger stored for them (with the person's corrections applied)
and, for anything about a new situation, the user-bound retriever. They are read through
the user-scoped accessors only, so the features cannot see another person's writing.
"""

from __future__ import annotations

from langchain_core.documents import Document
from sqlalchemy.orm import Session, sessionmaker

from ingest.experiments_store import UserExperiments
from ingest.store import UserEntries
from service.answer.grounding import check_citations
from service.errors import check_free_text
from service.insight.episodes import (
    Behaviour,
    Episode,
    count_behaviours,
    extract_episodes,
    from_stored,
)
from service.insight.followups import followups
from service.insight.journal import Journal, Journals
from service.insight.practices import load_practice, personalise, practice_names
from service.insight.progress import build_progress
from service.insight.reflect import Candidate, reflect
from service.insight.schemas import (
    EpisodesPublic,
    Followup,
    PracticeResponse,
    PracticesPublic,
    PracticeSummary,
    ProgressReport,
    ReflectResponse,
)
from service.retrieval.factory import Retrievers
from service.safety.gate import SafetyGate

RETRIEVE_K = 30


class InsightService:
    """Reflect, follow-ups, practices, episodes, behaviours and progress for one person at a
    time, from their entries, their labels (corrections applied) and a retriever bound
    to them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        retrievers: Retrievers,
        gate: SafetyGate,
        max_situation_chars: int,
        journals: Journals | None = None,
    ):
        self.sessions = sessions
        self.journals = journals or Journals(sessions)
        self.max_situation_chars = max_situation_chars
        self.retrievers = retrievers
        self.gate = gate

    def journal(self, user_id: str) -> Journal:
        """The person's journal as the store holds it now (``Journals``: read per entry
        version, so a write costs the next question only what it changed)."""
        return self.journals.read(user_id)

    # ---------------------------------------------------------------- episodes
    def episodes_public(self, user_id: str) -> EpisodesPublic:
        data = [e.as_dict() for e in self.stored_episodes(user_id)]
        return EpisodesPublic(data=data, count=len(data))

    def stored_episodes(self, user_id: str) -> list[Episode]:
        """The episodes found at ingest, oldest first (what a habit question counts)."""
        j = self.journal(user_id)
        return from_stored(j.episodes, j.texts, j.dates, j.labels, j.era_at)

    def episodes(self, user_id: str, journal: Journal | None = None) -> list[Episode]:
        j = journal or self.journal(user_id)
        return extract_episodes(j.labels, j.spans, j.texts)

    def behaviours(
        self, user_id: str, triggers: tuple[str, ...], among: list[str] | None = None
    ) -> tuple[list[Episode], list[Behaviour]]:
        """Counted responses to ``triggers`` (within the entries ``among``, if given);
        each citation re-checked against the store."""
        j = self.journal(user_id)
        matching, behaviours = count_behaviours(self.episodes(user_id, j), triggers, among=among)
        checked = []
        for b in behaviours:
            cites = check_citations(b.citations, j.texts, j.dates)
            if len(cites) == b.count:  # every counted episode must stay backed
                b.citations = cites
                checked.append(b)
        return matching, checked

    # ------------------------------------------------------- past versus present
    def candidates(self, user_id: str, text: str) -> tuple[list[Candidate], Journal]:
        j = self.journal(user_id)
        docs: list[Document] = self.retrievers.for_user(user_id).invoke(text, k=RETRIEVE_K)
        out = []
        for d in docs:
            m = d.metadata
            eid = str(m["entry_id"])
            out.append(
                Candidate(
                    entry_id=eid,
                    start=int(m["start"]),
                    end=int(m["end"]),
                    similarity=float(m["similarity"]),
                    era=j.era_at(eid, int(m["start"])),
                )
            )
        return out, j

    def reflect(self, user_id: str, situation: str) -> ReflectResponse:
        check_free_text("situation", situation, self.max_situation_chars)
        safety = self.gate.check(situation, "situation", user_id)
        if safety is not None and safety.level == "crisis":  # resources, and no insight
            return ReflectResponse(
                situation=situation,
                echoes=[],
                same=[],
                different=[],
                questions=[],
                abstained=True,
                safety=safety,
            )
        cands, j = self.candidates(user_id, situation)
        out = reflect(situation, cands, j.labels, j.texts)
        # concern: the resources beside the reflection, which is still given
        return out.model_copy(update={"safety": safety}) if safety else out

    # -------------------------------------------------------------- follow-ups
    def followups(self, user_id: str, entry_id: str) -> list[Followup]:
        with self.sessions() as session:
            entry = UserEntries(session, user_id).get(entry_id)
            if entry is None:
                return []
            text, date = entry.text, entry.date
        cands, j = self.candidates(user_id, text)
        return followups(entry_id, date, j.labels.get(entry_id), cands, j.labels, j.texts)

    # --------------------------------------------------------------- practices
    def practices(self) -> PracticesPublic:
        """The guided practices there are (name, title, purpose)."""
        data = []
        for name in practice_names():
            p = load_practice(name)
            data.append(PracticeSummary(name=p.name, title=p.title, purpose=p.purpose))
        return PracticesPublic(data=data, count=len(data))

    def practice(self, user_id: str, name: str) -> PracticeResponse:
        practice = load_practice(name)
        j = self.journal(user_id)
        return personalise(practice, j.labels, j.texts)

    # ---------------------------------------------------------------- progress
    def progress(self, user_id: str) -> ProgressReport:
        j = self.journal(user_id)
        with self.sessions() as session:
            experiments = UserExperiments(session, user_id).all()
        return build_progress(j.labels, experiments)
