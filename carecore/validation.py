"""Input limits shared by every service: a clear error naming the field, before anything is written."""

from __future__ import annotations

from collections.abc import Sized

from carecore.errors import ValidationFailed

MAX_NAME = 100
MAX_TEXT = 2000
MAX_ITEMS = 100


def text(value: str, field: str, *, max_len: int = MAX_TEXT, required: bool = False) -> str:
    """Trims and checks a text value; returns the trimmed value."""
    trimmed = value.strip()
    if required and not trimmed:
        raise ValidationFailed(f"{field} must not be empty.", field=field)
    if len(trimmed) > max_len:
        raise ValidationFailed(f"{field} must be at most {max_len} characters.", field=field)
    return trimmed


def optional_text(value: str | None, field: str, *, max_len: int = MAX_TEXT) -> str | None:
    return None if value is None else text(value, field, max_len=max_len) or None


def items(values: Sized, field: str, *, max_items: int = MAX_ITEMS) -> None:
    if len(values) > max_items:
        raise ValidationFailed(f"{field} may hold at most {max_items} entries.", field=field)


def in_range(value: float, field: str, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValidationFailed(f"{field} must be between {low:g} and {high:g}.", field=field)


def weekdays(values: tuple[int, ...], field: str) -> None:
    if not values or any(not 0 <= d <= 6 for d in values) or len(set(values)) != len(values):
        raise ValidationFailed(f"{field} must list distinct weekdays 0 (Monday) to 6.", field=field)
