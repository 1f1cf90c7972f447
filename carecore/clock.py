"""Time as a port, so rules that depend on it can be tested with a controllable clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        # MongoDB keeps milliseconds; truncating here keeps what we compare equal to what we stored.
        now = datetime.now(UTC)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)
