"""Pattern routes: the person's own patterns and their corrections of entry labels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from ingest.labels_store import known_labels
from service.deps import ContainerDep, CurrentUser
from service.patterns import patterns_service as svc

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


class VerdictBody(BaseModel):
    verdict: Literal["confirm", "reject"] = Field(
        description="confirm: the label is right (kept even if the model drops it); "
        "reject: it is wrong (removed everywhere, including search filters)."
    )


@router.get("/v1/patterns", summary="Your trust patterns, counted per entry, with quotes")
def get_patterns(container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    return svc.patterns_report(container, user.id)


@router.get("/v1/entries/{entry_id}/labels", summary="One entry's labels", responses=NOT_FOUND)
def get_entry_labels(entry_id: EntryId, container: ContainerDep, user: CurrentUser) -> dict:
    try:
        return svc.entry_labels(container, user.id, entry_id)
    except KeyError as e:
        raise HTTPException(404, str(e.args[0])) from e


@router.put(
    "/v1/entries/{entry_id}/labels/{label}",
    summary="Confirm or reject a label on one of your entries",
    responses={**NOT_FOUND, **BAD_LABEL},
)
def put_label(
    entry_id: EntryId,
    label: LabelName,
    body: VerdictBody,
    container: ContainerDep,
    user: CurrentUser,
) -> dict[str, Any]:
    return _correct(container, user.id, entry_id, label, body.verdict)


@router.delete(
    "/v1/entries/{entry_id}/labels/{label}",
    summary="Clear your verdict on a label (the model decides again)",
    responses={**NOT_FOUND, **BAD_LABEL},
)
def delete_label(
    entry_id: EntryId, label: LabelName, container: ContainerDep, user: CurrentUser
) -> dict[str, Any]:
    return _correct(container, user.id, entry_id, label, None)


def _correct(
    container: Any, user_id: str, entry_id: str, label: str, verdict: Any
) -> dict[str, Any]:
    try:
        return svc.correct(container, user_id, entry_id, label, verdict)
    except KeyError as e:
        raise HTTPException(404, str(e.args[0])) from e
    except ValueError as e:
        raise HTTPException(422, str(e)) from e
