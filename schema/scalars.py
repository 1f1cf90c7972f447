"""Date, DateTime and Time as the API accepts them: strict, bounded, and with texts of our own.

Strawberry's own scalars pass Python's parser messages to the client ("Invalid isoformat string: 'x'"),
accept a time without an offset (whose meaning then depends on the server), and accept years 1 and
9999, where adding a time zone, a shift week or a search window overflows inside a resolver. Every
date and time argument of the schema goes through these instead: years 1900-2199 leave centuries of
room for any arithmetic the core does, and a refused value names its reason by a key of
schema/error_codes.py's TEXTS, which the error formatter renders in the caller's language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from strawberry.types.scalar import ScalarDefinition

from schema.error_codes import text

MIN_YEAR, MAX_YEAR = 1900, 2199


class InvalidScalar(ValueError):
    """A value that does not fit its scalar; `key` is its reason in error_codes.TEXTS."""

    def __init__(self, key: str) -> None:
        super().__init__(text(key, "en"))
        self.key = key


def _parse_date(value: object) -> date:
    try:
        parsed = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidScalar("date")
    return parsed


def _parse_datetime(value: object) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    # The offset is required: a bare local time would mean whatever the server's zone is.
    if parsed is None or parsed.utcoffset() is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise InvalidScalar("datetime")
    return parsed


def _parse_time(value: object) -> time:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidScalar("time")


def _isoformat(value: date | datetime | time) -> str:
    return value.isoformat()


def _definition(name: str, description: str, origin: type, parse: Callable[[object], object]) -> ScalarDefinition:
    return ScalarDefinition(
        name=name,
        description=description,
        specified_by_url=None,
        serialize=_isoformat,
        parse_value=parse,
        parse_literal=None,  # the default parses a literal's value with parse_value
        origin=origin,
    )


SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    date: _definition("Date", "Date (isoformat)", date, _parse_date),
    datetime: _definition("DateTime", "Date with time (isoformat)", datetime, _parse_datetime),
    time: _definition("Time", "Time (isoformat)", time, _parse_time),
}
