"""What every mutation does alike: run the core, return its payload or a typed UserError."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import UnionType
from typing import Annotated, TypeVar, Union, get_args, get_origin

from typing_extensions import TypeForm, TypeIs

from carecore.errors import DomainError
from schema.context import Info
from schema.errors import UserError, to_user_error

__all__ = ["Info", "attempt", "member_of"]

T = TypeVar("T")
R = TypeVar("R")


async def attempt(
    result: TypeForm[R],
    action: Callable[[], Awaitable[T]],
    wrap: Callable[[T], R],
    *,
    refuse: Callable[[DomainError], UserError] = to_user_error,
) -> R:
    """Runs the core and answers with a member of the mutation's result union (`result`, as its resolver declares it).

    A refusal the union does not name is raised again, so it is masked like any internal error rather than
    handed to GraphQL as an object of the wrong type.
    """
    try:
        return wrap(await action())
    except DomainError as exc:
        error = refuse(exc)
        if member_of(error, result):
            return error
        raise


def member_of(value: object, result: TypeForm[R]) -> TypeIs[R]:
    """Whether `value` is an instance of one of the classes in a result union (`Annotated[A | B, union]`)."""
    return isinstance(value, _classes(result))


def _classes(form: object) -> tuple[type, ...]:
    origin = get_origin(form)
    if origin is Annotated:
        return _classes(get_args(form)[0])
    if origin is Union or origin is UnionType:
        return tuple(c for arg in get_args(form) for c in _classes(arg))
    if isinstance(form, type):
        return (form,)
    raise TypeError(f"not a result union member: {form!r}")
