"""Start-up and shutdown release what they opened, however they end."""

from __future__ import annotations

import asyncio

import pytest
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import OperationFailure

from app.server import build_app
from carecore.storage.database import Document
from tests.app.test_alert_delivery import app_settings


async def test_a_start_up_that_fails_leaves_no_database_client_running(
    mongo_uri: str, database_name: str, mongo_client: AsyncMongoClient[Document]
) -> None:
    # An index of the same name on other keys: the app's index build fails after its client connected.
    await mongo_client[database_name]["users"].create_index([("email", ASCENDING)], name="firebase_uid_unique")
    app = build_app(app_settings(mongo_uri, database_name))
    before = asyncio.all_tasks()

    with pytest.raises(OperationFailure):
        async with app.router.lifespan_context(app):
            pytest.fail("the app started")
    await asyncio.sleep(0.2)  # a closed client's monitors end on the next turns of the loop

    left = sorted(t.get_name() for t in asyncio.all_tasks() - before)
    assert not left, f"still running after the failed start: {left}"
