"""Domain errors: what a service can refuse, with the HTTP status and problem type it maps to.

Services raise these; one exception handler (``service.problems``) turns every one into
an ``application/problem+json`` response, and the CLI prints ``detail`` and exits with
``exit_code``. Routers therefore never translate errors themselves, and a new error needs
no new mapping anywhere: it carries its own status.

``detail`` is shown to the person who made the request, so it may name their ids and
fields, but never quotes journal text (it is also safe to log the class name).
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status: ClassVar[int] = 400
    type: ClassVar[str] = "about:blank"
    exit_code: ClassVar[int] = 2

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail

    @property
    def extra(self) -> dict[str, object]:
        """Members the problem document carries besides the standard ones."""
        return {}


class NotFound(DomainError):
    """Absent, or not the caller's: the two are never told apart."""

    status = 404
    exit_code = 1


class Invalid(DomainError):
    """A request field with a value the service cannot take; ``field`` names it."""

    status = 422

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class TooLarge(DomainError):
    """Over one of the documented size limits."""

    status = 413


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class Unavailable(DomainError):
    """A dependency (the database, the index) does not answer; ``checks`` says which."""

    status = 503
    exit_code = 1

    def __init__(self, detail: str, checks: dict[str, str]):
        super().__init__(detail)
        self.checks = checks

    @property
    def extra(self) -> dict[str, object]:
        return {"checks": self.checks}


class InsufficientStorage(DomainError):
    """The disk under the stores is full: nothing was saved; retry once space returns."""

    status = 507
    exit_code = 1

    def __init__(self, detail: str, checks: dict[str, str] | None = None):
        super().__init__(detail)
        self.checks = checks or {"storage": "full"}

    @property
    def extra(self) -> dict[str, object]:
        return {"checks": self.checks}


class PreconditionFailed(DomainError):
    """An ``If-Match`` that no longer names the entry's current version."""

    status = 412


# --------------------------------------------------------------------- named errors


class EntryNotFound(NotFound):
    def __init__(self, entry_id: str):
        super().__init__(f"No entry {entry_id!r} in your journal.")
        self.entry_id = entry_id


class EntryInvalid(Invalid):
    """An entry field that the import rules refuse (the same rules as file import)."""


class CursorInvalid(Invalid):
    def __init__(self, reason: str = "not a cursor this API returned"):
        super().__init__("cursor", reason)


class UnknownPattern(Invalid):
    def __init__(self, reason: str):
        super().__init__("pattern", reason)


class UnknownLabel(Invalid):
    def __init__(self, reason: str):
        super().__init__("label", reason)
        # The label store's message already names the field and the known labels.
        self.detail = reason


class UnknownPractice(NotFound):
    pass


class ExperimentNotFound(NotFound):
    def __init__(self, experiment_id: str):
        super().__init__(f"No experiment {experiment_id!r}.")
        self.experiment_id = experiment_id


class IndexUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__(
            "The search index does not answer; try again shortly.", {"index": "unreachable"}
        )


class EntryChanged(PreconditionFailed):
    def __init__(self, entry_id: str):
        super().__init__(
            f"Entry {entry_id!r} changed since that version (If-Match): read it again."
        )
        self.entry_id = entry_id


class UserExistsError(Conflict):
    pass


class UserNotFound(NotFound):
    pass


def check_free_text(field: str, value: str, limit: int) -> None:
    """The one check for a free-text request field (a question, a search query, a
    situation): not longer than the configured limit, not blank."""
    if len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")
    if not value.strip():
        raise Invalid(field, "is empty")
