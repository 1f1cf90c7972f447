"""A local FCM server per test and the real firebase-admin client, unmodified, reaching it (tests/network.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from firebase_admin import credentials

from notifications.fcm import FcmSender, push_app
from tests.notifications.fcm_server import PROJECT, FcmServer


@pytest.fixture
def fcm_server() -> Iterator[FcmServer]:
    with FcmServer() as server:
        yield server


@pytest.fixture
async def fcm(fcm_server: FcmServer) -> AsyncIterator[FcmSender]:
    app = push_app(credentials.Certificate(fcm_server.service_account()), PROJECT, f"fcm-test-{uuid.uuid4().hex}")
    sender = FcmSender(app)
    yield sender
    await sender.aclose()
