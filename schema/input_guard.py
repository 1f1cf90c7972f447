"""One check of every field's arguments before its resolver runs, for what GraphQL's own types let through.

GraphQL's String and Float are the specified scalars, which a schema cannot replace, and they accept
values that break later, inside a resolver, as masked internal errors after GraphQL has said yes:
- a string with a lone UTF-16 surrogate (JSON allows "\\ud800"): BSON cannot encode it;
- a float that is not finite, or huge (a literal `1e400` is infinity; `1e308` minutes is no timedelta).
This guard walks the coerced arguments (input objects, lists, scalars) of each field once, whatever
the transport, and refuses the first such value as BAD_USER_INPUT naming its field, before anything runs.
Dates and times are bounded by their own scalars (schema/scalars.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.types.base import has_object_definition
from strawberry.utils.await_maybe import AwaitableOrValue
from strawberry.utils.str_converters import to_camel_case

from schema.error_codes import DEFAULT_LOCALE, Code, text

MAX_MAGNITUDE = 1e9  # no quantity in this domain comes near; timedelta and datetime stay far from overflow


def problem_in(value: object, path: str) -> tuple[str, str] | None:
    """(field path, reason key) of the first value the guard refuses, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "surrogate"
        return None
    if isinstance(value, bool | int | Enum) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) and abs(value) <= MAX_MAGNITUDE else (path, "number")
    if isinstance(value, dict):
        return _first((problem_in(v, _join(path, str(k))) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return _first(problem_in(v, path) for v in value)
    if has_object_definition(value):
        definition = value.__strawberry_definition__
        return _first(
            problem_in(getattr(value, f.python_name, None), _join(path, f.graphql_name or to_camel_case(f.python_name)))
            for f in definition.fields
        )
    return None


def _first(found: Any) -> tuple[str, str] | None:
    return next((f for f in found if f is not None), None)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class InputGuard(SchemaExtension):
    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: str, **kwargs: Any
    ) -> AwaitableOrValue[object]:
        if kwargs and (found := problem_in(kwargs, "")) is not None:
            field, reason = found[0].removeprefix("input."), found[1]  # as UserError.field names it
            locale = getattr(info.context, "locale", DEFAULT_LOCALE)
            raise GraphQLError(
                text("argument_invalid", locale, field=field, reason=text(reason, locale)),
                extensions={"code": Code.BAD_USER_INPUT.value, "field": field},
            )
        resolved: AwaitableOrValue[object] = _next(root, info, *args, **kwargs)
        return resolved
