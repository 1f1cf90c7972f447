"""The crash-point harness itself: it visits every write, its death is uncatchable, and recovery
waits out every lease the core takes."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta

import pytest

import carecore
from carecore.ports import Ports
from tests.crashes import RECOVERY_AFTER, CrashPoints, Killed, recover


async def _three_writes(ports: Ports) -> None:
    for i in range(3):
        await ports.store.db["scratch"].insert_one({"_id": i})


async def test_each_write_of_a_flow_is_a_crash_point_and_the_last_run_completes(crash_points: CrashPoints) -> None:
    seen: list[tuple[int, bool, int]] = []
    async for run in crash_points():
        async with run.armed():
            await _three_writes(run.ports)
        stored = await run.store.db["scratch"].count_documents({})
        seen.append((run.position, run.crashed, stored))

    assert seen == [(1, True, 0), (2, True, 1), (3, True, 2), (4, False, 3)]


async def test_a_dead_process_is_not_caught_by_ordinary_handlers(crash_points: CrashPoints) -> None:
    async for run in crash_points():
        async with run.armed():
            try:
                await _three_writes(run.ports)
            except Exception:  # noqa: BLE001 - the point: this handler must not see the death
                pytest.fail("Killed was caught as an Exception")
        if run.crashed:
            with pytest.raises(Killed):  # the dead process writes nothing more until recovery
                await run.store.db["scratch"].insert_one({"_id": "late"})
            await recover(run)
            await run.store.db["scratch"].insert_one({"_id": "after-recovery"})


def test_recovery_waits_longer_than_every_lease_in_the_core() -> None:
    leases: dict[str, timedelta] = {}
    for module in pkgutil.walk_packages(carecore.__path__, "carecore."):
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if name.endswith("LEASE") and isinstance(value, timedelta):
                leases[f"{module.name}.{name}"] = value
    assert leases, "no lease constants found"
    assert {k: v for k, v in leases.items() if v >= RECOVERY_AFTER} == {}
