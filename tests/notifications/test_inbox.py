"""The in-app inbox: newest first, unread filter, read and acknowledged state, subject acknowledgement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from carecore.access.principal import Principal
from carecore.alerts.acknowledgement import register_acknowledger, unregister_acknowledger
from carecore.alerts.inbox import acknowledge_notification, list_notifications, mark_read
from carecore.alerts.models import Audience
from carecore.alerts.router import route_request
from carecore.errors import Forbidden, NotFound
from carecore.pagination import PageRequest
from carecore.ports import Ports
from tests.conftest import World
from tests.notifications.support import incident_alert
from tests.support import FakeClock

CARE = (Audience.CARE_TEAM, Audience.GUARDIANS)


@pytest.fixture
def incident_acks() -> Iterator[list[tuple[str, str]]]:
    """Stands in for the incidents branch's acknowledge_incident: guardians are not eligible."""
    calls: list[tuple[str, str]] = []

    async def acknowledge(ports: Ports, actor: Principal, incident_id: str) -> None:
        if actor.role.value == "family":
            raise Forbidden("Family members cannot acknowledge incidents.")
        calls.append((actor.user_id, incident_id))

    register_acknowledger("Incident", acknowledge)
    yield calls
    unregister_acknowledger("Incident")


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
    ports: Ports, world: World, clock: FakeClock, incident_acks: list[tuple[str, str]]
) -> None:
    request = incident_alert(world, clock.now(), audiences=CARE)
    notes = {n.user_id: n for n in await route_request(ports, request)}
    clock.advance(timedelta(seconds=40))

    ack = await acknowledge_notification(
        ports, world.caregiver_on_team.principal(), notes[world.caregiver_on_team.id].id
    )

    assert ack.subject_acknowledged
    assert ack.notification.acknowledged_at == clock.now() and ack.notification.read_at == clock.now()
    assert incident_acks == [(world.caregiver_on_team.id, request.subject_id)]
    guardians_copy = await ports.store.notifications.get(notes[world.guardian.id].id)
    assert guardians_copy is not None and guardians_copy.subject_acknowledged_at == clock.now()


async def test_a_recipient_who_may_not_respond_acknowledges_only_their_notification(
    ports: Ports, world: World, clock: FakeClock, incident_acks: list[tuple[str, str]]
) -> None:
    request = incident_alert(world, clock.now(), audiences=CARE)
    notes = {n.user_id: n for n in await route_request(ports, request)}

    ack = await acknowledge_notification(ports, world.guardian.principal(), notes[world.guardian.id].id)

    assert not ack.subject_acknowledged and ack.notification.acknowledged_at is not None
    assert incident_acks == []
    caregivers_copy = await ports.store.notifications.get(notes[world.caregiver_on_team.id].id)
    assert caregivers_copy is not None and caregivers_copy.subject_acknowledged_at is None
