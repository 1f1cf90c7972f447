"""Who sees which shifts and people: caregivers by their shifts, families by their `visits` permission."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecore.access.principal import Principal, Role
from carecore.errors import Forbidden, NotFound
from carecore.pagination import PageRequest
from carecore.people import service as people
from carecore.people.models import GuardianPermission
from carecore.ports import Ports
from carecore.shifts import queries
from carecore.users.models import User
from carecore.users.service import authenticate
from tests.shifts.conftest import Shifts
from tests.support import link, user


async def signed_in(ports: Ports, u: User) -> Principal:
    """The principal a request by `u` gets: authentication finds the people they serve by shifts."""
    return await authenticate(ports, u.firebase_uid, u.claims())


async def test_a_caregiver_sees_a_person_they_have_a_shift_with_until_seven_days_after_it(
    shifts: Shifts, ports: Ports
) -> None:
    stranger = shifts.world.caregiver_off_team  # not on minji's care team
    shift = await shifts.schedule(stranger, shifts.local(10, 9), shifts.local(10, 13))
    before = await people.list_people(ports, stranger.principal(), PageRequest())
    assert shifts.world.minji.id not in {p.id for p in before.items}

    me = await signed_in(ports, stranger)
    assert (await people.get_person_or_raise(ports, me, shifts.world.minji.id)).id == shifts.world.minji.id
    assert [p.id for p in (await people.list_people(ports, me, PageRequest())).items] == [shifts.world.minji.id]

    shifts.clock.current = shift.end + timedelta(days=6, hours=23)
    me = await signed_in(ports, stranger)
    await people.get_person_or_raise(ports, me, shifts.world.minji.id)

    shifts.clock.current = shift.end + timedelta(days=7, minutes=1)
    me = await signed_in(ports, stranger)
    with pytest.raises(NotFound):
        await people.get_person_or_raise(ports, me, shifts.world.minji.id)


async def test_a_caregiver_more_than_fourteen_days_before_the_shift_does_not_see_the_person_yet(
    shifts: Shifts, ports: Ports
) -> None:
    stranger = shifts.world.caregiver_off_team
    await shifts.schedule(stranger, shifts.local(20, 9), shifts.local(20, 13))

    with pytest.raises(NotFound):
        await people.get_person_or_raise(ports, await signed_in(ports, stranger), shifts.world.minji.id)


async def test_a_family_member_without_visits_gets_not_found_for_the_persons_shifts(
    shifts: Shifts, ports: Ports
) -> None:
    world = shifts.world
    shift = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    relative = user(world.agency.id, Role.FAMILY, "최민호", now=shifts.clock.now())  # may see the plan only
    await ports.store.users.insert(relative)
    await link(ports.store, world.minji, relative, frozenset({GuardianPermission.PLAN}), shifts.clock.now())
    minji = await ports.store.people.get(world.minji.id)
    assert minji is not None

    with pytest.raises(NotFound):
        await queries.get_shift(ports, relative.principal(), shift.id)
    period = (shifts.local(0, 0), shifts.local(7, 0))
    assert (await queries.person_shifts(ports, relative.principal(), minji, *period, PageRequest())).items == []

    allowed = await queries.person_shifts(ports, world.guardian_visits_only.principal(), minji, *period, PageRequest())
    assert [s.id for s in allowed.items] == [shift.id]
    assert (await queries.get_shift(ports, world.guardian_visits_only.principal(), shift.id)).id == shift.id


async def test_caregivers_list_only_their_own_shifts_and_coordinators_all(shifts: Shifts, ports: Ports) -> None:
    world = shifts.world
    mine = await shifts.schedule(world.caregiver_on_team, shifts.local(1, 9), shifts.local(1, 13))
    theirs = await shifts.schedule(world.caregiver_off_team, shifts.local(1, 14), shifts.local(1, 18))
    period = (shifts.local(0, 0), shifts.local(7, 0))

    own = await queries.my_shifts(ports, world.caregiver_on_team.principal(), *period, PageRequest())
    everything = await queries.list_shifts(ports, shifts.coordinator, *period, PageRequest())

    assert [s.id for s in own.items] == [mine.id]
    assert [s.id for s in everything.items] == [mine.id, theirs.id]
    with pytest.raises(NotFound):
        await queries.get_shift(ports, world.caregiver_on_team.principal(), theirs.id)
    with pytest.raises(Forbidden):
        await queries.list_shifts(ports, world.caregiver_on_team.principal(), *period, PageRequest())
