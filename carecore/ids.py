"""Object ids: 24 hex characters, time-ordered, generated in the core so it needs no bson."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

from carecore.errors import IdempotencyKeyReused

_ID_PATTERN = re.compile(r"^[0-9a-f]{24}$")


def new_id() -> str:
    # Seconds first so ids sort roughly by creation, like ObjectIds; 64 random bits make clashes moot.
    return f"{int(time.time()):08x}{os.urandom(8).hex()}"


def is_valid_id(value: str) -> bool:
    return bool(_ID_PATTERN.match(value))


def id_for_key(*parts: str) -> str:
    """A stable id for an idempotency key, so a retried create finds what the first attempt made."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def payload_hash(*parts: object) -> str:
    """A digest of what a request asked for, kept beside what its idempotency key made: a retry carries
    the same one, a reused key with another payload does not. Times and enums count by their text."""
    text = json.dumps(parts, default=str, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_same_request(stored: str | None, wanted: str) -> None:
    """A retry (same payload) may have the first result; another request under the same key may not.
    `stored` is None on what was made before payloads were kept: it is taken as the same request."""
    if stored is not None and stored != wanted:
        raise IdempotencyKeyReused()
