"""The composition root runs alert delivery: with or without push credentials, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.server import build_app
from app.settings import Settings, SettingsError
from carecore.alerts.models import Audience
from carecore.alerts.service import request_alert
from carecore.ids import new_id
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.fcm_server import PROJECT, FcmServer
from tests.notifications.support import incident_alert, put_device


def app_settings(mongo_uri: str, database_name: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "mongodb_uri": mongo_uri,
        "database": database_name,
        "firebase_project_id": PROJECT,
        "auth_emulator_host": None,
        "graphiql": False,
        "introspection": False,
        "worker_poll_seconds": 0.05,
    }
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the background loops did not get there in time")


async def test_without_firebase_credentials_the_app_runs_says_push_is_off_and_fills_the_inbox(
    mongo_uri: str, database_name: str, ports: Ports, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(app_settings(mongo_uri, database_name))
    request = incident_alert(world, datetime.now(UTC), audiences=(Audience.GUARDIANS,))
    caplog.set_level(logging.INFO, logger="carecore")

    async with app.router.lifespan_context(app):
        await request_alert(ports, request)
        await eventually(lambda: _routed(ports, request.id))

    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("push is off") for m in messages) == 1
    assert sum(m.startswith("second channel (SMS and voice) is off") for m in messages) == 1
    [n] = await ports.store.notifications.for_request(request.id)
    assert n.user_id == world.guardian.id and n.state.value == "QUEUED"  # waits in the outbox


async def test_with_credentials_the_background_loops_push_a_new_alert(
    mongo_uri: str, database_name: str, ports: Ports, world: World, tmp_path: Path
) -> None:
    with FcmServer() as fcm:
        key_file = tmp_path / "service-account.json"
        key_file.write_text(json.dumps(fcm.service_account()))
        settings = app_settings(mongo_uri, database_name, fcm_credentials=str(key_file))
        app = build_app(settings)
        phone = await put_device(ports.store, world.guardian, datetime.now(UTC), address=f"fid-{new_id()}")
        request = incident_alert(world, datetime.now(UTC), audiences=(Audience.GUARDIANS,))

        async with app.router.lifespan_context(app):
            await request_alert(ports, request)
            await eventually(lambda: _delivered(fcm, phone.address))

    [n] = await ports.store.notifications.for_request(request.id)
    assert fcm.delivered_to(phone.address)[0]["data"]["notificationId"] == n.id


async def _routed(ports: Ports, request_id: str) -> bool:
    return bool(await ports.store.notifications.for_request(request_id))


async def _delivered(fcm: FcmServer, address: str) -> bool:
    return bool(fcm.delivered_to(address))


def test_a_redirected_twilio_endpoint_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/")
    monkeypatch.setenv("FIREBASE_PROJECT_ID", "carecore-prod")
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("CARECORE_ENV", "production")
    monkeypatch.setenv("CARECORE_TWILIO_API_BASE", "http://127.0.0.1:9/")
    with pytest.raises(SettingsError, match="not production"):
        Settings.from_env()
