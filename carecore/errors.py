"""Domain errors. The GraphQL layer maps each to a typed error; nothing here knows about GraphQL."""

from __future__ import annotations


class DomainError(Exception):
    """An expected failure a caller can act on."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The object does not exist, or lies outside the caller's scope: both answer the same."""

    def __init__(self, kind: str, object_id: str, *, field: str | None = None) -> None:
        super().__init__(f"{kind} not found.", field=field)
        self.kind = kind
        self.object_id = object_id


class ValidationFailed(DomainError):
    """Input that breaks a rule of the domain; nothing was written."""


class DispositionRequired(ValidationFailed):
    """Closing this incident needs a disposition (e.g. whether a health alert was actionable)."""


class VersionConflict(DomainError):
    """The caller edited from a version that is no longer current."""

    def __init__(self, message: str, *, current_revision: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.current_revision = current_revision


class StateConflict(DomainError):
    """The object is not in a state that allows the change (e.g. approving an active plan)."""


class IdempotencyKeyReused(DomainError):
    """The idempotency key already made something for a different request: answering with that first
    result would tell the client its new request succeeded when it never ran."""

    def __init__(self) -> None:
        super().__init__(
            "This idempotency key was already used for a different request; use a new key for each new request.",
            field="idempotencyKey",
        )


class Unauthenticated(DomainError):
    """No valid identity: missing, expired or forged token, or no active profile."""


class Forbidden(DomainError):
    """The caller's role may never do this, whatever the object."""


class Unavailable(Exception):
    """A service the request needs (the database, Firebase Auth) did not answer in time: retry later.

    Not a DomainError: nothing is wrong with the request or the caller, and a client must not sign
    its user out or show a validation message for it.
    """

    def __init__(self, message: str = "The service is unavailable right now; try again shortly.") -> None:
        super().__init__(message)
        self.message = message


class AlreadyExists(Exception):
    """An insert hit an existing id: with idempotency keys, the earlier request already created it."""
