"""A bulk export killed at each of its writes (kick-off and the worker's): after recovery (another
instance runs `fhir-exports`) the manifest lists every type once, each file holds exactly the export's
resources, and no chunk of a half-written file is left behind."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecore.access.principal import Principal
from carecore.fhir import export
from carecore.fhir.export import clean_up_exports, run_exports, start_export
from carecore.fhir.mapping import ndjson_line
from carecore.fhir.models import ExportStatus
from carecore.fhir.resources import EXPORT_TYPES, AgencyResources
from carecore.health.models import Component, Metric, Modality, Observation, ObservationStatus, Reading
from carecore.ids import new_id
from carecore.ports import Ports
from carecore.storage.fhir_exports import BUCKET
from carecore.users.service import principal_for
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover

READINGS = 450  # more than two lease renewals' worth, and several GridFS chunks, in the Observation file


async def many_readings(ports: Ports, world: World) -> None:
    now = ports.clock.now()
    for i in range(READINGS):
        at = now - timedelta(minutes=10 * i)
        values = (Component("8480-6", 110 + i % 30), Component("8462-4", 70 + i % 15))
        reading = Reading(
            world.minji.id, Metric.BLOOD_PRESSURE, values, "mm[Hg]", at, Modality.SENSED, "cuff-1", str(i)
        )
        observation = Observation(new_id(), world.agency.id, reading, ObservationStatus.ACCEPTED, now, "gateway")
        await ports.store.observations.insert(observation, evaluate_due_at=None)


async def expected_files(ports: Ports, actor: Principal) -> dict[str, bytes]:
    out = {}
    for t in EXPORT_TYPES:
        out[t] = b"".join([ndjson_line(r) async for r in AgencyResources(ports, actor).of_type(t)])
    return out


async def test_an_export_killed_at_any_write_is_finished_by_another_instance_with_a_complete_manifest(
    crash_points: CrashPoints, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PART_BYTES", 128 * 1024)  # Observations in several files
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        await many_readings(run.ports, world)
        coordinator = await principal_for(run.ports, world.coordinator)
        async with run.armed():
            await start_export(
                run.ports, coordinator, world.agency.id, types=EXPORT_TYPES, since=None, request_url="kick-off"
            )
            await run_exports(run.ports, "instance-1")
        await recover(run)
        if await run.store.db["fhir_exports"].count_documents({}) == 0:
            # Died before the job was stored: the client got no 202 and kicks off again (Bulk Data IG).
            await start_export(
                run.ports, coordinator, world.agency.id, types=EXPORT_TYPES, since=None, request_url="kick-off"
            )
            await recover(run)

        [doc] = await run.store.db["fhir_exports"].find().to_list()
        job = await run.store.fhir_exports.get(doc["_id"])
        assert job is not None and job.status is ExportStatus.DONE, run.writes
        assert list(dict.fromkeys(f.type for f in job.files)) == list(EXPORT_TYPES), run.writes
        assert len([f for f in job.files if f.type == "Observation"]) > 1, run.writes
        expected = await expected_files(run.ports, coordinator)
        written: dict[str, bytes] = dict.fromkeys(EXPORT_TYPES, b"")
        for f in job.files:
            content = b"".join([c async for c in run.store.fhir_exports.read_file(f.file_id)])
            assert f.count == len(content.splitlines()), run.writes
            written[f.type] += content
        assert written == expected, run.writes
        file_ids = {f.file_id for f in job.files}
        chunk_owners = set(await run.store.db[f"{BUCKET}.chunks"].distinct("files_id"))
        assert chunk_owners == file_ids - {f.file_id for f in job.files if f.count == 0}, run.writes
        # Write-ahead: an entry for the export whatever happened (PENDING if its request died after it).
        audit = await run.store.db["audit"].find({"action": "fhir.export", "object_id": job.id}).to_list()
        assert [a["outcome"] for a in audit] in (["pending"], ["done"]), run.writes


async def test_the_clean_up_deletes_an_export_and_its_files_a_day_later(ports: Ports, world: World) -> None:
    coordinator = await principal_for(ports, world.coordinator)
    await many_readings(ports, world)
    job = await start_export(
        ports, coordinator, world.agency.id, types=("Observation",), since=None, request_url="kick-off"
    )
    await run_exports(ports, "instance-1")
    ports.clock.advance(timedelta(hours=23))  # type: ignore[attr-defined]
    assert await clean_up_exports(ports, "instance-1") == 0

    ports.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]

    assert await clean_up_exports(ports, "instance-1") == 1
    assert await ports.store.fhir_exports.get(job.id) is None
    assert await ports.store.db[f"{BUCKET}.chunks"].count_documents({}) == 0
    assert await ports.store.db[f"{BUCKET}.files"].count_documents({}) == 0
