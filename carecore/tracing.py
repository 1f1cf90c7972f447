"""What caused the work in progress, for the logs: a request id, and the caller's user and agency.

A context variable holds one mutable Scope per request (or background pass), so what authentication
learns later in the request (the caller) reaches every line logged after it, in every task the request
starts. Events published inside a scope carry its request id, and the consumers that handle them
later, on any instance, log under that id again. Never personal data: ids only.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Scope:
    request_id: str
    user_id: str | None = None
    agency_id: str | None = None


_current: ContextVar[Scope | None] = ContextVar("carecore_scope", default=None)


def new_request_id() -> str:
    return secrets.token_hex(8)


def current() -> Scope | None:
    return _current.get()


def current_request_id() -> str | None:
    scope = _current.get()
    return scope.request_id if scope else None


@contextlib.contextmanager
def scope(request_id: str | None = None) -> Iterator[Scope]:
    """Work under one request id (a new one when None) until the block ends."""
    opened = Scope(request_id or new_request_id())
    token = _current.set(opened)
    try:
        yield opened
    finally:
        _current.reset(token)


def bind_caller(user_id: str, agency_id: str) -> None:
    """Names the authenticated caller on the lines logged from here to the end of the request."""
    opened = _current.get()
    if opened is not None:
        opened.user_id, opened.agency_id = user_id, agency_id
