"""A local FCM server per test and the real firebase-admin client pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import firebase_admin
import pytest
from firebase_admin import credentials

from notifications.fcm import FcmSender
from tests.notifications.fcm_server import PROJECT, FcmServer


@pytest.fixture
def fcm_server() -> Iterator[FcmServer]:
    with FcmServer() as server:
        yield server


@pytest.fixture
async def fcm(fcm_server: FcmServer) -> AsyncIterator[FcmSender]:
    app = firebase_admin.initialize_app(
        credentials.Certificate(fcm_server.service_account()),
        options={"projectId": PROJECT},
        name=f"fcm-test-{uuid.uuid4().hex}",
    )
    sender = FcmSender(app, endpoint=fcm_server.url)
    yield sender
    await sender.aclose()
