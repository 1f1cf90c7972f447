"""Readings as a caregiver records them, and what the alert pipeline made of a health incident."""

from __future__ import annotations

from datetime import datetime

from carecore.alerts.router import route_due
from carecore.health.models import DIASTOLIC, SYSTOLIC, Component, Metric, Modality, Reading
from carecore.incidents.models import Incident
from carecore.ports import Ports


def bp_reading(
    person_id: str,
    at: datetime,
    systolic: float,
    diastolic: float,
    *,
    device: str | None = "cuff-1",
    data_point: str | None = None,
    unit: str = "mm[Hg]",
) -> Reading:
    return Reading(
        person_id=person_id,
        metric=Metric.BLOOD_PRESSURE,
        components=(Component(SYSTOLIC, systolic), Component(DIASTOLIC, diastolic)),
        unit=unit,
        effective_at=at,
        modality=Modality.SENSED,
        device_id=device,
        source_data_point_id=data_point,
    )


async def health_incidents(ports: Ports, person_id: str) -> list[Incident]:
    docs = await ports.store.db["incidents"].find({"person_id": person_id}).sort("created_at", 1).to_list()
    found = [await ports.store.incidents.get(d["_id"]) for d in docs]
    return [i for i in found if i is not None]


async def told(ports: Ports, incident_id: str) -> dict[str, set[str]]:
    """Who each of the incident's alert requests reached, by the request's severity, once routed."""
    await route_due(ports, owner="router")
    reached: dict[str, set[str]] = {}
    for request in await ports.store.alert_requests.for_subject(incident_id):
        users = {n.user_id for n in await ports.store.notifications.for_request(request.id)}
        reached.setdefault(request.severity.value, set()).update(users)
    return reached
