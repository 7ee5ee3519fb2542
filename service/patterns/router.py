"""Pattern routes: the person's own patterns and their corrections of entry labels."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from ingest.labels_store import known_labels
from service.deps import CurrentUser, PatternsDep
from service.patterns.schemas import VerdictBody

router = APIRouter(tags=["patterns"])

EntryId = Annotated[str, Path(description="Your id for the entry.", examples=["m002"])]
LabelName = Annotated[
    str,
    Path(
        description="A taxonomy label, e.g. a pattern.",
        examples=["avoidance"],
        # Documented as the taxonomy's labels, so clients (and schemathesis) know them;
        # the check itself stays in the label store, with its message naming them all.
        json_schema_extra={"enum": list(known_labels())},
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such entry of yours"}}
BAD_LABEL: dict[int | str, dict[str, Any]] = {422: {"description": "Unknown label"}}


@router.get("/v1/patterns", summary="Your trust patterns, counted per entry, with quotes")
def get_patterns(patterns: PatternsDep, user: CurrentUser) -> dict[str, Any]:
    return patterns.patterns_report(user.id)


@router.get("/v1/entries/{entry_id}/labels", summary="One entry's labels", responses=NOT_FOUND)
def get_entry_labels(entry_id: EntryId, patterns: PatternsDep, user: CurrentUser) -> dict:
    return patterns.entry_labels(user.id, entry_id)


@router.put(
    "/v1/entries/{entry_id}/labels/{label}",
    summary="Confirm or reject a label on one of your entries",
    responses={**NOT_FOUND, **BAD_LABEL},
)
def put_label(
    entry_id: EntryId,
    label: LabelName,
    body: VerdictBody,
    patterns: PatternsDep,
    user: CurrentUser,
) -> dict[str, Any]:
    return patterns.correct(user.id, entry_id, label, body.verdict)


@router.delete(
    "/v1/entries/{entry_id}/labels/{label}",
    summary="Clear your verdict on a label (the model decides again)",
    responses={**NOT_FOUND, **BAD_LABEL},
)
def delete_label(
    entry_id: EntryId, label: LabelName, patterns: PatternsDep, user: CurrentUser
) -> dict[str, Any]:
    return patterns.correct(user.id, entry_id, label, None)
