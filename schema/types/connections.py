"""Relay-style connections over the core's keyset pages; cursors are opaque to clients."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from carecore.errors import ValidationFailed
from carecore.pagination import DEFAULT_PAGE_SIZE, Page, PageRequest

T = TypeVar("T")
D = TypeVar("D")


@strawberry.type
class PageInfo:
    has_next_page: bool
    # Forward paging only: a page asked for `after` a cursor has items before it.
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [e.node for e in self.edges]


def encode(cursor: str) -> str:
    return base64.urlsafe_b64encode(cursor.encode()).decode()


def page_request(first: int | None, after: str | None) -> PageRequest:
    size = DEFAULT_PAGE_SIZE if first is None else first  # `first: 0` asks for no items, not the default
    if after is None:
        return PageRequest(first=size)
    try:
        decoded = base64.urlsafe_b64decode(after.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("Invalid cursor.", field="after") from exc
    return PageRequest(first=size, after=decoded)


def connection(page: Page[D], convert: Callable[[D], T], *, after: str | None) -> Connection[T]:
    """`after` is the client's cursor argument, as given."""
    edges = [Edge(cursor=encode(c), node=convert(item)) for c, item in page.edges]
    info = PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info)
