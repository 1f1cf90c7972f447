"""An export whose every attempt dies stops after a few and says so, instead of being retried forever."""

from __future__ import annotations

import pytest

from carecore.fhir import export
from carecore.fhir.export import EXPORT_LEASE, MAX_ATTEMPTS, clean_up_exports, get_export, run_exports, start_export
from carecore.fhir.models import ExportStatus
from carecore.fhir.resources import EXPORT_TYPES
from carecore.ports import Ports
from carecore.users.service import principal_for
from tests.conftest import World
from tests.support import FakeClock


async def test_an_export_failing_at_every_attempt_ends_failed_and_its_files_go_with_the_clean_up(
    ports: Ports, world: World, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise RuntimeError("a resource that cannot be mapped")

    monkeypatch.setattr(export, "_write_type", broken)
    coordinator = await principal_for(ports, world.coordinator)
    job = await start_export(ports, coordinator, world.agency.id, types=EXPORT_TYPES, since=None, request_url="k")

    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(RuntimeError):
            await run_exports(ports, "instance")
        clock.advance(EXPORT_LEASE)
    assert (await get_export(ports, coordinator, job.id)).status is ExportStatus.RUNNING

    await run_exports(ports, "instance")  # the attempt after the last allowed one gives up

    failed = await get_export(ports, coordinator, job.id)
    assert failed.status is ExportStatus.FAILED and failed.attempts == MAX_ATTEMPTS + 1
    assert await run_exports(ports, "instance") == 0  # nothing left to retry
    clock.advance(export.KEEP_FOR)
    assert await clean_up_exports(ports, "instance") == 1
