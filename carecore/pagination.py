"""Keyset pagination shared by every list: stable under inserts, one query per page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from carecore.errors import ValidationFailed

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None  # the cursor of the last item already seen

    def __post_init__(self) -> None:
        # 0 is a valid request (Relay: no edges; hasNextPage still tells whether there are any).
        if not 0 <= self.first <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"first must be between 0 and {MAX_PAGE_SIZE}.", field="first")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    edges: list[tuple[str, T]]  # (cursor, item)
    has_next_page: bool

    @property
    def items(self) -> list[T]:
        return [item for _, item in self.edges]

    @property
    def end_cursor(self) -> str | None:
        return self.edges[-1][0] if self.edges else None
