"""Types and models shared by several features' schemas (kept light: pydantic only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field


def _utc(value: dt.datetime) -> dt.datetime:
    """Stored times are UTC; SQLite hands them back without a zone, so add it."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]
"""A timestamp always serialised with its zone (RFC 3339 ``date-time``)."""


# The one way any response quotes the person: their entry, its date, a verbatim span.
# (A comment, not a docstring: the OpenAPI document keeps the description it had.)
class Citation(BaseModel):
    entry_id: str = Field(description="The id of the person's own entry.")
    date: str = Field(description="The entry's date, YYYY-MM-DD.")
    quote: str = Field(description="An exact substring of that entry's text.")
