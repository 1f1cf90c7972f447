"""What every mutation does alike: run the core, return its payload or a typed UserError."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from carecore.errors import DomainError
from schema.context import Info
from schema.errors import UserError, to_user_error

__all__ = ["Info", "attempt"]

T = TypeVar("T")
P = TypeVar("P")


async def attempt(action: Callable[[], Awaitable[T]], wrap: Callable[[T], P]) -> P | UserError:
    try:
        return wrap(await action())
    except DomainError as exc:
        return to_user_error(exc)
