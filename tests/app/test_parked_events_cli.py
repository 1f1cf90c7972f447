"""Operators list parked events from the command line."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from app.cli import main
from carecore.events.cleanup import delete_old_events
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import new_id
from carecore.ports import Ports


async def test_parked_events_lists_each_with_the_consumers_that_owe_it(
    ports: Ports,
    mongo_uri: str,
    database_name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    at = ports.clock.now() - timedelta(days=2)
    event = DomainEvent(id=new_id(), agency_id="a", kind="shift.missed", subject_type="Shift", subject_id="s", at=at)
    await publish(ports, event)
    await delete_old_events(ports)
    for name, value in {"CARECORE_ENV": "test", "MONGODB_URI": mongo_uri, "CARECORE_DATABASE": database_name}.items():
        monkeypatch.setenv(name, value)

    await asyncio.to_thread(main, ["parked-events"])

    out = capsys.readouterr().out
    assert f"{event.id} shift.missed Shift s" in out and "still owed to incidents" in out
    assert "1 parked event(s)." in out
