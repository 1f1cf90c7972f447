"""The in-app inbox: newest first, unread filter, read and acknowledged state, subject acknowledgement."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.server import build_app
from app.settings import Settings
from carecore.alerts.inbox import acknowledge_notification, list_notifications, mark_read
from carecore.alerts.models import Audience, Notification
from carecore.alerts.router import route_request
from carecore.errors import NotFound
from carecore.incidents.ingestion import ingest_flag
from carecore.incidents.models import AiService, Incident, IncidentStatus, TimelineAction
from carecore.pagination import PageRequest
from carecore.ports import Ports
from tests.carecore.incidents.conftest import ai, flag
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.support import FakeClock, RecordingClaims, RefusingTokens

__all__ = ["ai"]

UNUSED_SETTINGS = Settings(
    environment="test",
    mongodb_uri="mongodb://127.0.0.1:1/",
    database="unused",
    firebase_project_id="demo-unused",
    auth_emulator_host=None,
    graphiql=False,
    introspection=False,
)

CARE = (Audience.CARE_TEAM, Audience.GUARDIANS)


async def incident_notifications(ports: Ports, world: World, ai: AiService) -> tuple[Incident, dict[str, Notification]]:
    """A real CRITICAL incident for minji, and its alert to her care team and guardians, by recipient."""
    incident = (await ingest_flag(ports, world.ai_service.principal(), ai, flag())).incident
    request = incident_alert(world, ports.clock.now(), audiences=CARE, subject_id=incident.id)
    return incident, {n.user_id: n for n in await route_request(ports, request)}


async def test_the_inbox_lists_newest_first_in_pages_and_filters_unread(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    me = world.guardian.principal()
    ids = []
    for _ in range(5):
        [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
        ids.append(n.id)
        clock.advance(timedelta(minutes=1))
    await mark_read(ports, me, ids[3])

    first = await list_notifications(ports, me, PageRequest(first=2), unread_only=False)
    rest = await list_notifications(ports, me, PageRequest(first=10, after=first.end_cursor), unread_only=False)
    unread = await list_notifications(ports, me, PageRequest(first=10), unread_only=True)

    assert [n.id for n in first.items + rest.items] == ids[::-1]
    assert first.has_next_page and not rest.has_next_page
    assert [n.id for n in unread.items] == [ids[4], ids[2], ids[1], ids[0]]


async def test_nobody_reads_or_acknowledges_someone_elses_notification(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    [n] = await route_request(ports, incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS,)))
    intruder = world.caregiver_on_team.principal()

    with pytest.raises(NotFound):
        await mark_read(ports, intruder, n.id)
    with pytest.raises(NotFound):
        await acknowledge_notification(ports, intruder, n.id)
    assert (await list_notifications(ports, intruder, PageRequest(), unread_only=False)).items == []


async def test_an_eligible_responder_acknowledges_the_incident_for_everyone(
    ports: Ports, world: World, clock: FakeClock, ai: AiService
) -> None:
    incident, notes = await incident_notifications(ports, world, ai)
    clock.advance(timedelta(seconds=40))

    ack = await acknowledge_notification(
        ports, world.caregiver_on_team.principal(), notes[world.caregiver_on_team.id].id
    )

    assert ack.subject_acknowledged
    assert ack.notification.acknowledged_at == clock.now() and ack.notification.read_at == clock.now()
    acknowledged = await ports.store.incidents.get(incident.id)
    assert acknowledged is not None and acknowledged.status is IncidentStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == world.caregiver_on_team.id
    guardians_copy = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert guardians_copy is not None and guardians_copy.subject_acknowledged_at == clock.now()


async def test_a_guardians_acknowledgement_is_theirs_alone_and_the_incident_stays_open(
    ports: Ports, world: World, clock: FakeClock, ai: AiService
) -> None:
    incident, notes = await incident_notifications(ports, world, ai)
    clock.advance(timedelta(seconds=40))

    ack = await acknowledge_notification(ports, world.guardian.principal(), notes[world.guardian.id].id)

    assert not ack.subject_acknowledged and ack.notification.acknowledged_at == clock.now()
    seen = await ports.store.incidents.get(incident.id)
    assert seen is not None and seen.status is IncidentStatus.OPEN and seen.acknowledged_by is None
    assert seen.timeline[-1].action is TimelineAction.SEEN_BY_GUARDIAN  # recorded, the ladder goes on
    caregivers_copy = await ports.store.notifications.get(notes[world.caregiver_on_team.id].id)
    assert caregivers_copy is not None and caregivers_copy.subject_acknowledged_at is None


async def test_a_staff_acknowledgement_after_a_guardians_still_acknowledges_the_incident(
    ports: Ports, world: World, clock: FakeClock, ai: AiService
) -> None:
    incident, notes = await incident_notifications(ports, world, ai)
    await acknowledge_notification(ports, world.guardian.principal(), notes[world.guardian.id].id)

    ack = await acknowledge_notification(
        ports, world.caregiver_on_team.principal(), notes[world.caregiver_on_team.id].id
    )

    assert ack.subject_acknowledged
    acknowledged = await ports.store.incidents.get(incident.id)
    assert acknowledged is not None and acknowledged.status is IncidentStatus.ACKNOWLEDGED


async def test_without_an_acknowledger_for_its_subject_type_a_notification_acknowledges_nothing_else(
    ports: Ports, world: World, clock: FakeClock, ai: AiService, claims: RecordingClaims
) -> None:
    """Fail closed: ports wired without the incidents' acknowledger (or any app built earlier in this
    process) never let a recipient's word silence everyone else's alerts."""
    incident, notes = await incident_notifications(ports, world, ai)
    build_app(UNUSED_SETTINGS)  # before issue 9, building an app registered its acknowledgers process-wide
    unwired = Ports(store=ports.store, clock=clock, claims=claims, tokens=RefusingTokens())

    caregiver = world.caregiver_on_team
    ack = await acknowledge_notification(unwired, caregiver.principal(), notes[caregiver.id].id)

    assert not ack.subject_acknowledged and ack.notification.acknowledged_at is not None
    untouched = await ports.store.incidents.get(incident.id)
    assert untouched is not None and untouched.status is IncidentStatus.OPEN
    guardians_copy = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert guardians_copy is not None and guardians_copy.subject_acknowledged_at is None
