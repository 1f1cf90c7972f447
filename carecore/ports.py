"""What services need from the outside world, bundled so the composition root wires it once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from carecore.clock import Clock
from carecore.storage.store import Store


class ClaimsPublisher(Protocol):
    """Writes a user's role and agency into their Firebase custom claims."""

    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None: ...


class TokenVerifier(Protocol):
    """Checks an ID token's signature and expiry; returns (uid, claims) or raises Unauthenticated."""

    async def verify(self, token: str) -> tuple[str, dict[str, object]]: ...


@dataclass(frozen=True, slots=True)
class Ports:
    store: Store
    clock: Clock
    claims: ClaimsPublisher
    tokens: TokenVerifier
