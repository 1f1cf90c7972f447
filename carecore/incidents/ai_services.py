"""AI service accounts: the service name people's external references use, and signed webhook calls.

Webhook signature (POST /ingest/flags), documented for the services that call it:
    X-Carecore-Service:   the AI service account's user id
    X-Carecore-Timestamp: Unix time in whole seconds when the request was signed
    X-Carecore-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body bytes))
A request more than 5 minutes away from the server's clock is refused, so a captured request cannot be
replayed later; within the window a replay is a duplicate flag (same external id) and changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import timedelta

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audited
from carecore.errors import NotFound, Unauthenticated, ValidationFailed
from carecore.ids import is_valid_id
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.users.service import principal_for

REPLAY_WINDOW = timedelta(minutes=5)
SIGNATURE_PREFIX = "sha256="
MIN_SECRET_LENGTH = 32
MAX_SECRET_LENGTH = 256
_BAD_SIGNATURE = "Invalid signature for this service."


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Carecore-Signature value for a body signed at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(service_id: str, secret: str, body: bytes, *, at: int) -> dict[str, str]:
    """The three headers a service sends with `body`, signed at Unix time `at` (for clients and tests)."""
    timestamp = str(at)
    return {
        "X-Carecore-Service": service_id,
        "X-Carecore-Timestamp": timestamp,
        "X-Carecore-Signature": sign(secret, timestamp, body),
    }


async def authenticate_webhook(
    ports: Ports, service_id: str, timestamp: str, signature: str, body: bytes
) -> tuple[Principal, AiService]:
    """The calling service if the signature is its and fresh; Unauthenticated otherwise, before anything is stored."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        raise Unauthenticated("X-Carecore-Timestamp must be Unix time in seconds.") from None
    skew = abs(ports.clock.now().timestamp() - signed_at)
    if skew > REPLAY_WINDOW.total_seconds():
        raise Unauthenticated("The timestamp is more than 5 minutes from the server's time; sign with the time now.")
    service, user = None, None
    if is_valid_id(service_id):  # the service's configuration is keyed by its account's user id
        service, user = await asyncio.gather(ports.store.ai_services.get(service_id), ports.store.users.get(service_id))
    if service is None or user is None or not user.active or user.role is not Role.AI_SERVICE:
        raise Unauthenticated(_BAD_SIGNATURE)  # the same answer as a wrong signature: no probing for ids
    if not hmac.compare_digest(sign(service.secret, timestamp, body), signature):
        raise Unauthenticated(_BAD_SIGNATURE)
    return await principal_for(ports, user), service


async def service_of(ports: Ports, actor: Principal) -> AiService:
    """The calling AI service account's configuration."""
    require_role(actor, Role.AI_SERVICE)
    service = await ports.store.ai_services.get(actor.user_id)
    if service is None or service.agency_id != actor.agency_id:
        raise ValidationFailed("No service is configured for this account; ask a coordinator.", field="personRef")
    return service


async def configure_ai_service(ports: Ports, actor: Principal, user_id: str, *, service: str, secret: str) -> AiService:
    """Sets the service name and webhook secret of an AI service account; the secret is never shown again."""
    require_role(actor, Role.COORDINATOR)
    user = await ports.store.users.get(user_id) if is_valid_id(user_id) else None
    if user is None or user.agency_id != actor.agency_id:
        raise NotFound("User", user_id, field="userId")
    if user.role is not Role.AI_SERVICE:
        raise ValidationFailed(f"{user.display_name} is not an AI service account.", field="userId")
    name = validation.text(service, "service", max_len=validation.MAX_NAME, required=True)
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValidationFailed(f"secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters.", field="secret")
    configured = AiService(user.id, user.agency_id, name, secret, ports.clock.now())
    async with audited(ports, actor, "ai_service.configure", "User", [user.id]):
        await ports.store.ai_services.put(configured)
    return configured
