"""The MCP tools' typed inputs (what an assistant sees as each tool's input schema).

The limits are the API's own (``AskRequest``, ``SearchRequest``, ``ReflectRequest``), so
an assistant is held to exactly what a frontend is. Pydantic only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from service.ask.schemas import MAX_QUESTION_CHARS
from service.insight.schemas import MAX_SITUATION_CHARS

Question = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="A question about the person's own journal, in their words, e.g. "
        "'what do I usually do when I feel betrayed?' or 'how did things go with Jonah?'.",
    ),
]
Query = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        description="Words to look for in the person's journal (meaning and exact words).",
    ),
]
K = Annotated[
    int,
    Field(ge=1, le=100, description="How many passages to return (the server may cap it)."),
]
Since = Annotated[
    dt.date | None,
    Field(description="Only entries written on or after this day (YYYY-MM-DD)."),
]
Until = Annotated[
    dt.date | None,
    Field(description="Only entries written on or before this day (YYYY-MM-DD)."),
]
Situation = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SITUATION_CHARS,
        description="A present situation, in the person's own words, e.g. "
        "'Rui is late again and hasn't texted.'",
    ),
]
EntryDate = Annotated[dt.date, Field(description="The day the entry is about (YYYY-MM-DD).")]
EntryText = Annotated[
    str, Field(min_length=1, description="The entry, exactly as the person wrote it.")
]
EntryId = Annotated[str, Field(description="The entry's id, as citations give it (e.g. m002).")]
