"""The demo agency with something of every exported type: the golden export's scene.

Deterministic: the demo's ids derive from names, every other write goes through the core on a fixed
clock with idempotency keys, so two builds in two databases export the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.background import core_jobs
from carecore.health.models import Component, Metric, Modality, Reading
from carecore.health.service import ingest_observations
from carecore.incidents.ingestion import report_incident
from carecore.incidents.models import HumanReport, IncidentType, Safeguarding, SafeguardingKind
from carecore.ports import Ports
from carecore.shifts.models import Location
from carecore.shifts.visits import check_in, check_out
from carecore.users.service import principal_for
from fixtures.demo import DEMO_TIMEZONE, demo_ids, load_demo
from fixtures.demo_people import person_id, user_id
from fixtures.demo_shifts import late_visit_id
from tests.support import FakeClock

SCENE_START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # tests.support.FakeClock's start
ACCUSED_UID = "demo-coordinator-2"  # a coordinator named in an abuse report: must never see it


def reading(metric: Metric, at: datetime, *values: tuple[str, float], point: str) -> tuple[str, Reading]:
    components = tuple(Component(code, value) for code, value in values)
    unit = {"85354-9": "mm[Hg]", "8867-4": "/min", "59408-5": "%", "29463-7": "kg", "8310-5": "Cel"}
    units = unit | {"80404-7": "ms", "carecore-stress-index": "{score}"}
    r = Reading("", metric, components, units[metric.value], at, Modality.SENSED, "gateway-07", point)
    return "WC-0001", r


def vitals(at: datetime) -> list[tuple[str, Reading]]:
    """One reading of each metric for the seizure person (WC-0001), the BP one high enough to alert."""
    return [
        reading(Metric.BLOOD_PRESSURE, at, ("8480-6", 184), ("8462-4", 112), point="bp-1"),
        reading(Metric.HEART_RATE, at, ("8867-4", 72), point="hr-1"),
        reading(Metric.SPO2, at, ("59408-5", 97), point="spo2-1"),
        reading(Metric.BODY_WEIGHT, at, ("29463-7", 61.4), point="wt-1"),
        reading(Metric.BODY_TEMPERATURE, at, ("8310-5", 36.6), point="temp-1"),
        reading(Metric.HRV_SDNN, at, ("80404-7", 41), point="hrv-1"),
        reading(Metric.STRESS_INDEX, at, ("carecore-stress-index", 38), point="stress-1"),
    ]


async def build_scene(ports: Ports, clock: FakeClock) -> None:
    """Loads the demo, then readings, an abuse report, a visit checked in and out, and the alerts they raise."""
    now = ports.clock.now()
    await load_demo(ports.store, now)
    ids = demo_ids()
    ai_service = await ports.store.ai_services.get(ids.ai_service)
    ai_user = await ports.store.users.get(ids.ai_service)
    assert ai_service is not None and ai_user is not None
    await ingest_observations(ports, await principal_for(ports, ai_user), ai_service, vitals(now - timedelta(hours=1)))

    reporter = await ports.store.users.get(ids.coordinator)
    assert reporter is not None
    abuse = HumanReport(
        person_id("person-02"),
        IncidentType.OTHER,
        "팔에 멍 자국, 설명이 일치하지 않음",
        safeguarding=Safeguarding(SafeguardingKind.ABUSE, user_id(ACCUSED_UID)),
    )
    await report_incident(ports, await principal_for(ports, reporter), abuse, idempotency_key="golden-abuse-1")

    shift = await ports.store.shifts.get(late_visit_id(now, ZoneInfo(DEMO_TIMEZONE)))
    assert shift is not None and shift.caregiver_id is not None
    caregiver = await ports.store.users.get(shift.caregiver_id)
    assert caregiver is not None
    actor = await principal_for(ports, caregiver)
    await check_in(ports, actor, shift.id, location=Location(37.2636, 127.0286, 12.0))
    await run_jobs(ports)
    clock.advance(timedelta(minutes=5))  # short: later shifts start late, with ids of their own
    await check_out(ports, actor, shift.id, location=Location(37.2636, 127.0286, 12.0), reason="약은 보호자가 챙김")
    await run_jobs(ports)


async def run_jobs(ports: Ports) -> None:
    for _ in range(10):
        done = 0
        for job in core_jobs():
            done += await job.run(ports, "golden")
        if done == 0:
            return
