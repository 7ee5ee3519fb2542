"""Every table of trustlens, registered on one metadata: the schema Alembic owns.

Importing this module is what makes a table known; ``service/db/migrations`` compares
against ``metadata`` and the migrations reproduce it. A new table goes in its store
module and is imported here, and gets a migration (``trustlens db revision``).
"""

from __future__ import annotations

from ingest.episodes_store import EpisodeRow
from ingest.experiments_store import TrustExperiment
from ingest.index_queue import IndexQueueItem
from ingest.labels_store import ChunkLabel, LabelCorrection
from ingest.people_store import PeopleEdits
from ingest.store import ApiKey, Base, Chunk, Entry, IndexState, User, UserKey

metadata = Base.metadata

TABLES = (
    User,
    UserKey,
    ApiKey,
    Entry,
    Chunk,
    IndexState,
    ChunkLabel,
    LabelCorrection,
    TrustExperiment,
    EpisodeRow,
    IndexQueueItem,
    PeopleEdits,
)
