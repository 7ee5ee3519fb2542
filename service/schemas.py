"""Types and models shared by several features' schemas (kept light: pydantic only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo


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


def until_not_before_since(until: dt.date | None, info: ValidationInfo) -> dt.date | None:
    """The one check of a request's day range, as a field validator of ``until`` (so the
    422 names the field: "until: ...")."""
    since = info.data.get("since")
    if since and until and since > until:
        raise ValueError("since must not be after until")
    return until
