"""Alert requests become one stored notification per recipient: the right people, never the excluded."""

from __future__ import annotations

from datetime import time, timedelta

from carecore.access.principal import Role
from carecore.alerts.events import alert_on_events
from carecore.alerts.models import AlertKind, Audience, DeliveryState, Preferences, QuietHours
from carecore.alerts.router import route_due, route_request
from carecore.alerts.service import request_alert
from carecore.incidents.models import Severity
from carecore.ports import Ports
from carecore.shifts.jobs import run_due_jobs
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from tests.conftest import World
from tests.notifications.support import check_in, incident_alert
from tests.support import FakeClock, user


async def recipients(ports: Ports, request_id: str) -> set[str]:
    return {n.user_id for n in await ports.store.notifications.for_request(request_id)}


async def test_a_critical_alert_reaches_the_caregiver_on_shift_coordinators_and_guardians_with_alerts(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await check_in(ports, world, world.caregiver_off_team)
    await route_due(ports, owner="router-1")  # what scheduling the shift itself asked for
    request = incident_alert(world, clock.now())
    await request_alert(ports, request)

    assert await route_due(ports, owner="router-1") == 1

    # Not the care-team caregiver who is off shift, not the guardian whose link lacks `alerts`.
    assert await recipients(ports, request.id) == {
        world.caregiver_off_team.id,
        world.coordinator.id,
        world.guardian.id,
    }
    assert await route_due(ports, owner="router-1") == 0


async def test_someone_the_request_excludes_is_never_told(ports: Ports, world: World, clock: FakeClock) -> None:
    request = incident_alert(
        world, clock.now(), audiences=(Audience.CARE_TEAM, Audience.GUARDIANS), exclude=(world.caregiver_on_team.id,)
    )
    await route_request(ports, request)

    assert await recipients(ports, request.id) == {world.guardian.id}


async def test_routing_again_after_a_crash_writes_no_second_notification(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    request = incident_alert(world, clock.now())
    await request_alert(ports, request)
    claimed = await ports.store.alert_requests.claim_due(now=clock.now(), owner="dies", lease=timedelta(seconds=60))
    assert claimed is not None
    await route_request(ports, claimed)  # ... and the router dies before marking the request routed

    clock.advance(timedelta(seconds=61))
    assert await route_due(ports, owner="router-2") == 1

    notifications = await ports.store.notifications.for_request(request.id)
    assert len(notifications) == len({n.user_id for n in notifications}) == 2
    assert len(await ports.store.db["callouts"].distinct("_id")) == 2


async def test_coordinators_on_duty_are_those_flagged_else_every_coordinator(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    second = user(world.agency.id, Role.COORDINATOR, "박준호", now=clock.now())
    await ports.store.users.insert(second)
    audiences = (Audience.COORDINATORS_ON_DUTY,)
    everyone = incident_alert(world, clock.now(), audiences=audiences)
    await route_request(ports, everyone)
    await ports.store.notification_preferences.replace(Preferences(second.id, on_duty=True), expected_revision=0)
    on_duty = incident_alert(world, clock.now(), audiences=audiences)
    await route_request(ports, on_duty)

    assert await recipients(ports, everyone.id) == {world.coordinator.id, second.id}
    assert await recipients(ports, on_duty.id) == {second.id}


async def test_the_emergency_contact_is_the_agencys_named_user(ports: Ports, world: World, clock: FakeClock) -> None:
    await ports.store.agencies.upsert(
        type(world.agency)(id=world.agency.id, name=world.agency.name, emergency_contact_user_ids=(world.guardian.id,))
    )
    request = incident_alert(world, clock.now(), audiences=(Audience.EMERGENCY_CONTACT,))
    await route_request(ports, request)

    assert await recipients(ports, request.id) == {world.guardian.id}


async def test_users_of_another_agency_or_inactive_ones_are_never_told(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await ports.store.users.update(world.caregiver_on_team.id, {"active": False}, expected_revision=1, now=clock.now())
    request = incident_alert(
        world,
        clock.now(),
        audiences=(Audience.USERS,),
        user_ids=(world.other_agency_coordinator.id, world.caregiver_on_team.id, world.caregiver_off_team.id),
        kind=AlertKind.OPEN_SHIFT_OFFER,
        severity=Severity.MEDIUM,
    )
    await route_request(ports, request)

    assert await recipients(ports, request.id) == {world.caregiver_off_team.id}


async def test_quiet_hours_hold_a_medium_alert_until_they_end_and_let_a_critical_one_through(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    # 00:00 UTC is 09:00 in Seoul; the guardian sleeps 08:00-10:00 Seoul time in this test.
    await ports.store.notification_preferences.replace(
        Preferences(world.guardian.id, quiet_hours=QuietHours(time(8), time(10))), expected_revision=0
    )
    audiences = (Audience.GUARDIANS,)
    medium = incident_alert(world, clock.now(), severity=Severity.MEDIUM, audiences=audiences)
    critical = incident_alert(world, clock.now(), severity=Severity.CRITICAL, audiences=audiences)

    [held] = await route_request(ports, medium)
    [urgent] = await route_request(ports, critical)

    assert held.state is DeliveryState.HELD and held.next_attempt_at == clock.now() + timedelta(hours=1)
    assert urgent.state is DeliveryState.QUEUED and urgent.next_attempt_at == clock.now()


async def test_quiet_hours_follow_the_users_own_time_zone(ports: Ports, world: World, clock: FakeClock) -> None:
    # 00:00 UTC is 09:00 in Seoul (awake) but 00:00 in London, inside 23:00-07:00.
    prefs = Preferences(world.guardian.id, quiet_hours=QuietHours(time(23), time(7)), timezone="Europe/London")
    await ports.store.notification_preferences.replace(prefs, expected_revision=0)

    [n] = await route_request(
        ports, incident_alert(world, clock.now(), severity=Severity.HIGH, audiences=(Audience.GUARDIANS,))
    )

    assert n.state is DeliveryState.HELD and n.next_attempt_at == clock.now() + timedelta(hours=7)


async def test_a_muted_kind_stays_in_the_inbox_only_but_critical_is_never_muted(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    prefs = Preferences(world.guardian.id, muted_kinds=frozenset({AlertKind.INCIDENT}))
    await ports.store.notification_preferences.replace(prefs, expected_revision=0)
    audiences = (Audience.GUARDIANS,)

    [muted] = await route_request(
        ports, incident_alert(world, clock.now(), severity=Severity.HIGH, audiences=audiences)
    )
    [loud] = await route_request(ports, incident_alert(world, clock.now(), audiences=audiences))

    assert muted.state is DeliveryState.SUPPRESSED and muted.next_attempt_at is None
    assert loud.state is DeliveryState.QUEUED


async def test_each_recipient_reads_the_alert_in_their_own_language(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    await ports.store.users.update(world.guardian.id, {"locale": "en"}, expected_revision=1, now=clock.now())
    request = incident_alert(world, clock.now(), audiences=(Audience.GUARDIANS, Audience.CARE_TEAM))

    texts = {n.user_id: (n.title, n.body) for n in await route_request(ports, request)}

    assert texts[world.guardian.id] == ("Urgent alert", "There is an urgent alert about 최민지.")
    assert texts[world.caregiver_on_team.id] == ("긴급 알림", "최민지 님 관련 긴급 알림이 있습니다")


async def test_a_late_visit_alerts_the_coordinators_on_duty_once(ports: Ports, world: World, clock: FakeClock) -> None:
    start = clock.now() + timedelta(minutes=5)
    plan = ShiftPlan(world.minji.id, start, start + timedelta(hours=2), caregiver_id=world.caregiver_on_team.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    clock.advance(timedelta(minutes=16))

    await run_due_jobs(ports, owner="jobs")
    await alert_on_events(ports)  # the shift.late event must not raise a second alert
    await route_due(ports, owner="router")

    late = [r for r in await ports.store.alert_requests.for_subject(shift.id) if r.kind is AlertKind.LATE_VISIT]
    assert len(late) == 1 and late[0].severity is Severity.HIGH
    [n] = await ports.store.notifications.for_request(late[0].id)
    assert n.user_id == world.coordinator.id and n.body == "최민지 님 관련 중요 알림이 있습니다"
