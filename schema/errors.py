"""Expected failures as schema types; authentication and authorization as coded GraphQL errors."""

from __future__ import annotations

import logging
from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from carecore.errors import (
    DomainError,
    Forbidden,
    NotFound,
    StateConflict,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    VersionConflict,
)

logger = logging.getLogger(__name__)


@strawberry.interface(description="A failure the user can act on; `field` names the input at fault.")
class UserError:
    message: str
    field: str | None


@strawberry.type(description="The input breaks a rule; nothing was changed.")
class ValidationError(UserError):
    pass


@strawberry.type(description="No such object, or it is outside what you may see.")
class NotFoundError(UserError):
    pass


@strawberry.type(description="You edited from an outdated revision; reload and try again.")
class VersionConflictError(UserError):
    current_revision: int


@strawberry.type(description="The object is not in a state that allows this change.")
class StateConflictError(UserError):
    pass


ERROR_TYPES = (ValidationError, NotFoundError, VersionConflictError, StateConflictError)


def coded_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def to_user_error(exc: DomainError) -> UserError:
    """Maps a domain error to its schema type; access errors become coded GraphQL errors instead."""
    logger.info("refused: %s (field %s)", type(exc).__name__, exc.field or "-")  # never the message: it may name things
    match exc:
        case Unauthenticated():
            raise coded_error(exc.message, "UNAUTHENTICATED") from exc
        case Forbidden():
            raise coded_error(exc.message, "FORBIDDEN") from exc
        case NotFound():
            return NotFoundError(message=exc.message, field=exc.field)
        case VersionConflict():
            return VersionConflictError(message=exc.message, field=exc.field, current_revision=exc.current_revision)
        case StateConflict():
            return StateConflictError(message=exc.message, field=exc.field)
        case ValidationFailed():
            return ValidationError(message=exc.message, field=exc.field)
    return ValidationError(message=exc.message, field=exc.field)


def should_mask(error: GraphQLError) -> bool:
    """Hide unexpected exceptions; keep validation errors and the coded access errors we raise."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


_CODES: dict[type[DomainError], str] = {
    Unauthenticated: "UNAUTHENTICATED",
    Forbidden: "FORBIDDEN",
    NotFound: "NOT_FOUND",
}


IsOutage = Callable[[BaseException], bool]


def raised_unavailable(exc: BaseException) -> bool:
    """The schema's own view of an outage; the app adds the database driver's (carecore.storage.database.is_outage)."""
    return isinstance(exc, Unavailable)


class MaskUnexpectedErrors(MaskErrors):
    """Masks unexpected exceptions; a domain error raised by a query resolver keeps its message
    and gains an `extensions.code` (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND or BAD_USER_INPUT).
    A service that did not answer (`is_outage`) is UNAVAILABLE: the client retries later and keeps
    its user signed in; it is logged in one line, without a traceback."""

    def __init__(self, is_outage: IsOutage = raised_unavailable) -> None:
        super().__init__(should_mask_error=should_mask)
        self._is_outage = is_outage

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and self._is_outage(original):
            logger.warning("Unavailable in %s (%s)", error.path, type(original).__name__)
            return GraphQLError(
                "The service is unavailable right now; try again shortly.",
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": "UNAVAILABLE"},
            )
        if isinstance(original, DomainError):
            code = _CODES.get(type(original), "BAD_USER_INPUT")
            logger.info("GraphQL refused: %s at %s", code, error.path)  # expected: one line, no traceback
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": code, "field": original.field},
            )
        logger.error("Unexpected error in %s", error.path, exc_info=original)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked
