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
    if after is None:
        return PageRequest(first=first or DEFAULT_PAGE_SIZE)
    try:
        decoded = base64.urlsafe_b64decode(after.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("Invalid cursor.", field="after") from exc
    return PageRequest(first=first or DEFAULT_PAGE_SIZE, after=decoded)


def connection(page: Page[D], convert: Callable[[D], T]) -> Connection[T]:
    edges = [Edge(cursor=encode(c), node=convert(item)) for c, item in page.edges]
    end = encode(page.end_cursor) if page.end_cursor else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=end))
