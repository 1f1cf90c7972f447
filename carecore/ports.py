"""What services need from the outside world, bundled so the composition root wires it once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from carecore.access.principal import Principal
from carecore.clock import Clock
from carecore.storage.store import Store


class ClaimsPublisher(Protocol):
    """Writes a user's role and agency into their Firebase custom claims."""

    async def set_claims(self, firebase_uid: str, claims: dict[str, str]) -> None: ...


class TokenVerifier(Protocol):
    """Checks an ID token's signature and expiry; returns (uid, claims) or raises Unauthenticated."""

    async def verify(self, token: str) -> tuple[str, dict[str, object]]: ...


class SubjectAcknowledger(Protocol):
    """Acknowledges what a notification is about (e.g. an incident) through the domain that owns it.

    Returns True only when the subject is now acknowledged by an eligible responder (by this call or
    before), i.e. its ladder is stopped; False when the actor's word changes nothing for the others
    (e.g. a guardian of a CRITICAL incident). It decides eligibility itself and does not raise for it.
    """

    async def __call__(self, ports: Ports, actor: Principal, subject_id: str, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class Ports:
    store: Store
    clock: Clock
    claims: ClaimsPublisher
    tokens: TokenVerifier
    # Subject type (e.g. "Incident") -> its domain's acknowledger, wired by the composition root so the
    # alerts core imports no domain that raises alerts. A type not here acknowledges nothing (fail
    # closed): only the owning domain may say that someone's acknowledgement stopped its ladder.
    acknowledgers: Mapping[str, SubjectAcknowledger] = field(default_factory=dict)
