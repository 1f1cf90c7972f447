"""The webhook signature is exactly the documented scheme, so services can implement it from the docs."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import pytest

from carecore.errors import Unauthenticated
from carecore.incidents.ai_services import authenticate_webhook, signed_headers
from carecore.incidents.models import AiService
from carecore.ports import Ports
from tests.carecore.incidents.conftest import SECRET
from tests.conftest import World
from tests.support import FakeClock

BODY = b'{"externalId": "e-1"}'


def documented(secret: str, timestamp: str, body: bytes) -> str:
    """X-Carecore-Signature: "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body))."""
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


async def test_a_request_signed_as_documented_is_accepted_within_five_minutes(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    timestamp = str(int(clock.now().timestamp()))
    clock.advance(timedelta(minutes=4, seconds=59))

    actor, service = await authenticate_webhook(ports, ai.user_id, timestamp, documented(SECRET, timestamp, BODY), BODY)

    assert actor.user_id == world.ai_service.id and service.service == ai.service
    assert signed_headers(ai.user_id, SECRET, BODY, at=int(timestamp))["X-Carecore-Signature"] == documented(
        SECRET, timestamp, BODY
    )


async def test_a_timestamp_from_the_future_beyond_five_minutes_is_refused(
    ports: Ports, ai: AiService, clock: FakeClock
) -> None:
    timestamp = str(int((clock.now() + timedelta(minutes=6)).timestamp()))
    with pytest.raises(Unauthenticated):
        await authenticate_webhook(ports, ai.user_id, timestamp, documented(SECRET, timestamp, BODY), BODY)


async def test_a_deactivated_service_account_is_refused_like_a_wrong_signature(
    ports: Ports, world: World, ai: AiService, clock: FakeClock
) -> None:
    await ports.store.db["users"].update_one({"_id": world.ai_service.id}, {"$set": {"active": False}})
    timestamp = str(int(clock.now().timestamp()))

    with pytest.raises(Unauthenticated) as refused:
        await authenticate_webhook(ports, ai.user_id, timestamp, documented(SECRET, timestamp, BODY), BODY)

    assert refused.value.message == "Invalid signature for this service."
