"""Devices belong to one user at a time; preferences are the user's own and change by revision."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from carecore.alerts.devices import list_devices, register_device, unregister_device
from carecore.alerts.models import AddressKind, AlertKind, Device, Platform, Preferences, QuietHours
from carecore.alerts.preferences import get_preferences, update_preferences
from carecore.alerts.rules import MAX_DEVICES_PER_USER
from carecore.errors import Forbidden, NotFound, ValidationFailed, VersionConflict
from carecore.ports import Ports
from carecore.users.models import User
from tests.conftest import World
from tests.support import FakeClock

FID = AddressKind.INSTALLATION_ID


async def register(ports: Ports, who: User, address: str, locale: str = "ko") -> Device:
    return await register_device(
        ports,
        who.principal(),
        address_kind=FID,
        address=address,
        platform=Platform.IOS,
        locale=locale,
        app_version="3.2.0",
    )


async def test_a_phone_registered_by_another_user_moves_to_them(ports: Ports, world: World, clock: FakeClock) -> None:
    first = await register(ports, world.caregiver_on_team, "fid-shared-tablet")
    clock.advance(timedelta(hours=8))

    second = await register(ports, world.caregiver_off_team, "fid-shared-tablet", locale="en")

    assert second.id == first.id and second.user_id == world.caregiver_off_team.id
    assert second.last_seen_at == clock.now() and second.registered_at == first.registered_at
    assert await list_devices(ports, world.caregiver_on_team.principal()) == []
    assert [d.locale for d in await list_devices(ports, world.caregiver_off_team.principal())] == ["en"]


async def test_only_the_owner_unregisters_a_device(ports: Ports, world: World) -> None:
    await register(ports, world.guardian, "fid-mine")

    with pytest.raises(NotFound):
        await unregister_device(ports, world.other_guardian.principal(), address_kind=FID, address="fid-mine")
    await unregister_device(ports, world.guardian.principal(), address_kind=FID, address="fid-mine")

    assert await list_devices(ports, world.guardian.principal()) == []


async def test_a_user_keeps_at_most_ten_devices_dropping_the_longest_unseen(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    for i in range(MAX_DEVICES_PER_USER + 1):
        await register(ports, world.guardian, f"fid-{i}")
        clock.advance(timedelta(minutes=1))

    kept = await list_devices(ports, world.guardian.principal())

    assert len(kept) == MAX_DEVICES_PER_USER and "fid-0" not in {d.address for d in kept}


async def test_ai_services_register_no_devices_and_bad_input_names_the_field(ports: Ports, world: World) -> None:
    with pytest.raises(Forbidden):
        await register(ports, world.ai_service, "fid-bot")
    with pytest.raises(ValidationFailed) as error:
        await register(ports, world.guardian, "fid-x", locale="fr")
    assert error.value.field == "locale"
    with pytest.raises(ValidationFailed) as error:
        await register(ports, world.guardian, "  ")
    assert error.value.field == "installationId"


async def test_preferences_change_by_revision_and_only_coordinators_go_on_duty(ports: Ports, world: World) -> None:
    me = world.guardian.principal()
    wanted = Preferences(
        me.user_id, quiet_hours=QuietHours(time(22), time(7)), muted_kinds=frozenset({AlertKind.SHIFT_CHANGE})
    )

    saved = await update_preferences(ports, me, wanted, expected_revision=0)

    assert saved.revision == 1 and (await get_preferences(ports, me)) == saved
    with pytest.raises(VersionConflict):
        await update_preferences(ports, me, wanted, expected_revision=0)
    with pytest.raises(ValidationFailed):
        await update_preferences(ports, me, Preferences(me.user_id, on_duty=True), expected_revision=1)
    with pytest.raises(ValidationFailed):
        await update_preferences(ports, me, Preferences(me.user_id, timezone="Mars/Olympus"), expected_revision=1)
    coordinator = world.coordinator.principal()
    assert (await update_preferences(ports, coordinator, Preferences("", on_duty=True), expected_revision=0)).on_duty
