"""Expected failures as schema types; authentication and authorization as coded GraphQL errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors

from carecore.errors import (
    DispositionRequired,
    DomainError,
    Forbidden,
    IdempotencyKeyReused,
    NotFound,
    StateConflict,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
    VersionConflict,
)
from schema.error_codes import DEFAULT_LOCALE, Code, text
from schema.scalars import InvalidScalar

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


@strawberry.type(description="Closing this incident needs a disposition: say whether the alert was actionable.")
class DispositionRequiredError(UserError):
    pass


@strawberry.type(description="The object is not in a state that allows this change.")
class StateConflictError(UserError):
    pass


ERROR_TYPES = (ValidationError, NotFoundError, VersionConflictError, StateConflictError, DispositionRequiredError)


def coded_error(message: str, code: Code | str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code(code).value})


def to_user_error(exc: DomainError) -> UserError:
    """Maps a domain error to its schema type; access errors become coded GraphQL errors instead."""
    logger.info("refused: %s (field %s)", type(exc).__name__, exc.field or "-")  # never the message: it may name things
    match exc:
        case Unauthenticated():
            raise coded_error(exc.message, Code.UNAUTHENTICATED) from exc
        case Forbidden():
            raise coded_error(exc.message, Code.FORBIDDEN) from exc
        case IdempotencyKeyReused():  # a client's bug, like FORBIDDEN: no result type fits it
            raise GraphQLError(
                exc.message, extensions={"code": Code.IDEMPOTENCY_KEY_REUSED.value, "field": exc.field}
            ) from exc
        case NotFound():
            return NotFoundError(message=exc.message, field=exc.field)
        case VersionConflict():
            return VersionConflictError(message=exc.message, field=exc.field, current_revision=exc.current_revision)
        case StateConflict():
            return StateConflictError(message=exc.message, field=exc.field)
        case DispositionRequired():
            return DispositionRequiredError(message=exc.message, field=exc.field)
        case ValidationFailed():
            return ValidationError(message=exc.message, field=exc.field)
    return ValidationError(message=exc.message, field=exc.field)


_CODES: dict[type[DomainError], Code] = {
    Unauthenticated: Code.UNAUTHENTICATED,
    Forbidden: Code.FORBIDDEN,
    NotFound: Code.NOT_FOUND,
    VersionConflict: Code.CONFLICT,
    StateConflict: Code.CONFLICT,
    IdempotencyKeyReused: Code.IDEMPOTENCY_KEY_REUSED,
}

# graphql-core's variable coercion messages quote values with Python's repr ("found: {'zz': 1}",
# "not to be None"): they are rewritten from their variable name and path only.
_VARIABLE = re.compile(r"^Variable '\$(?P<name>\w+)' has invalid value(?: at (?P<at>[^:]+))?:")
_LITERAL_DETAIL = re.compile(r"(, but encountered error|; ).*$", re.DOTALL)
# graphql-core's literal checks print a missing value as Python does ("not to be None").
_PYTHON_LITERALS = {"None": "null", "True": "true", "False": "false"}
_PYTHON_LITERAL = re.compile(r"\b(None|True|False)\b")


def _as_graphql(message: str) -> str:
    return _PYTHON_LITERAL.sub(lambda m: _PYTHON_LITERALS[m[1]], message)


def _invalid_scalar(error: BaseException | None) -> InvalidScalar | None:
    """The scalar refusal at the root of a chain of wrapped errors, if that is what it is."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, InvalidScalar):
            return error
        error = error.original_error if isinstance(error, GraphQLError) else error.__cause__
        seen += 1
    return None


def _request_error(error: GraphQLError, locale: str) -> tuple[str, Code]:
    """Message and code of an error raised before execution: parse, validation, variable coercion."""
    if isinstance(error, GraphQLSyntaxError):
        return error.message, Code.GRAPHQL_PARSE_FAILED
    scalar = _invalid_scalar(error)
    if (variable := _VARIABLE.match(error.message)) is not None:
        name, at = variable["name"], variable["at"]
        if "non-null type" in error.message and at is None:
            return text("variable_missing", locale, name=name), Code.BAD_USER_INPUT
        where = f" ({at.strip()})" if at else ""
        if scalar is not None:
            return text("variable_invalid_because", locale, name=name, at=where, reason=text(scalar.key, locale)), (
                Code.BAD_USER_INPUT
            )
        return text("variable_invalid", locale, name=name, at=where), Code.BAD_USER_INPUT
    if error.original_error is not None or scalar is not None:
        # A literal refused by a scalar: keep GraphQL's "Expected value of type 'DateTime!'", drop the rest.
        head = _LITERAL_DETAIL.sub("", error.message).rstrip(".")
        if scalar is None:
            return f"{_as_graphql(head)}.", Code.GRAPHQL_VALIDATION_FAILED
        return f"{head}: {text(scalar.key, locale)}", Code.BAD_USER_INPUT  # the value is at fault, not the shape
    return _as_graphql(error.message), Code.GRAPHQL_VALIDATION_FAILED


IsOutage = Callable[[BaseException], bool]


def raised_unavailable(exc: BaseException) -> bool:
    """The schema's own view of an outage; the app adds the database driver's (carecore.storage.database.is_outage)."""
    return isinstance(exc, Unavailable)


def coded(error: GraphQLError, locale: str, is_outage: IsOutage = raised_unavailable) -> GraphQLError:
    """The error as the client sees it: a code from error_codes.Code, and no Python in its message.

    A service that did not answer (`is_outage`) is UNAVAILABLE: the client retries later and keeps its
    user signed in; it is logged in one line, without a traceback."""
    extensions = dict(error.extensions or {})
    original = error.original_error
    message = error.message
    if "code" in extensions:
        pass  # raised coded on purpose (coded_error, the input guard)
    elif original is not None and is_outage(original):
        logger.warning("Unavailable in %s (%s)", error.path, type(original).__name__)
        message, extensions = text("unavailable", locale), {"code": Code.UNAVAILABLE.value}
    elif isinstance(original, DomainError):
        message = original.message
        extensions = {"code": _CODES.get(type(original), Code.BAD_USER_INPUT).value, "field": original.field}
        logger.info("GraphQL refused: %s at %s", extensions["code"], error.path)  # expected: one line, no traceback
    elif error.path is None:
        message, code = _request_error(error, locale)
        extensions["code"] = code.value
    else:
        # Raised during execution by anything but the domain or our own coded errors: a bug to log, never to show.
        logger.error("Unexpected error in %s", error.path, exc_info=original or error)
        message, extensions = text("internal", locale), {"code": Code.INTERNAL_SERVER_ERROR.value}
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class MaskUnexpectedErrors(MaskErrors):
    """Gives every error its `extensions.code` from the one table (schema/error_codes.py) and masks
    unexpected exceptions; the boundary's own texts follow the caller's language (Context.locale)."""

    def __init__(self, is_outage: IsOutage = raised_unavailable) -> None:
        super().__init__(should_mask_error=lambda _: True)  # every error passes through `coded`
        self._is_outage = is_outage

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        return coded(error, getattr(context, "locale", DEFAULT_LOCALE), self._is_outage)
