"""Object ids: 24 hex characters, time-ordered, generated in the core so it needs no bson."""

from __future__ import annotations

import hashlib
import os
import re
import time

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def new_id() -> str:
    # Seconds first so ids sort roughly by creation, like ObjectIds; 64 random bits make clashes moot.
    return f"{int(time.time()):08x}{os.urandom(8).hex()}"


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))


def id_for_key(*parts: str) -> str:
    """A stable id for an idempotency key, so a retried create finds what the first attempt made."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
