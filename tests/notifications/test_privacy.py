"""Lock screens are public: no template and no generated push carries health data."""

from __future__ import annotations

import dataclasses
import itertools
import re

from carecore.alerts import texts
from carecore.alerts.dispatcher import push_message
from carecore.alerts.models import AddressKind, AlertKind, Audience, Device, Platform
from carecore.alerts.router import route_request
from carecore.incidents.models import IncidentType, Severity
from carecore.people.models import Allergy, CommunicationProfile, Protocol
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.support import FakeClock, person

HEALTH_DATA = (
    [
        "땅콩",
        "아나필락시스",
        "발작",
        "항경련제",
        "119",
        "자해",
        "소리를 지름",
        "seizure",
        "allerg",
        "diagnos",
        "medication",
        "injur",
        "fall",
        "wander",
    ]
    + [t.value.lower() for t in IncidentType]
    + [k.value.lower() for k in AlertKind]
)


def leaks(text: str) -> list[str]:
    lowered = text.lower().replace("_", " ")
    return [w for w in HEALTH_DATA if w.replace("_", " ") in lowered]


def test_no_template_names_a_condition_an_incident_type_or_an_alert_kind() -> None:
    templates = texts.every_template()
    assert len(templates) > 20
    assert [t for t in templates if leaks(t)] == []


async def test_every_generated_push_says_only_whom_and_how_urgent(ports: Ports, world: World, clock: FakeClock) -> None:
    patient = person(
        world.agency.id,
        "한별",
        now=clock.now(),
        allergies=(Allergy("땅콩", "아나필락시스", severe=True),),
        protocols=(Protocol(IncidentType.SEIZURE, "발작 5분 지속 시 119", 5),),
        communication=CommunicationProfile(verbal=False, distress_signs="소리를 지름, 자해"),
    )
    await ports.store.people.insert(patient)
    await ports.store.people.set_care_team(patient.id, [world.caregiver_on_team.id], clock.now())
    for locale, (kind, severity) in itertools.product(("ko", "en", "fr"), itertools.product(AlertKind, Severity)):
        device = Device(
            "d" * 24,
            "u",
            world.agency.id,
            AddressKind.INSTALLATION_ID,
            "fid",
            Platform.IOS,
            locale,
            "1",
            clock.now(),
            clock.now(),
        )
        request = incident_alert(world, clock.now(), kind=kind, severity=severity, audiences=(Audience.CARE_TEAM,))
        request = dataclasses.replace(request, person_id=patient.id)
        for n in await route_request(ports, request):
            message = push_message(n, device)
            visible = [n.title, n.body, message.title, message.body]
            assert [v for v in visible if leaks(v)] == [], visible
            assert "한별" in message.body or kind in texts.SHIFT_KINDS
            assert set(message.data) <= {"notificationId", "kind", "severity", "subjectType", "subjectId", "personId"}
            ids = [v for k, v in message.data.items() if k.endswith("Id")]
            assert all(re.fullmatch(r"[0-9a-f]{24}", v) for v in ids), message.data
