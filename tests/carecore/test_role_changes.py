"""Role changes under crashes (issue 9, failure 8): the Firebase claims follow the profile after
recovery, so a refreshed token authenticates again without anybody retrying.

The claims go through the app's own gateway (app/firebase.py) to the Auth emulator, and are read back
the way the app meets them: in a freshly signed-in ID token, checked by the same gateway."""

from __future__ import annotations

import pytest

from carecore.access.principal import Role
from carecore.audit.models import AuditOutcome
from carecore.errors import VersionConflict
from carecore.ports import Ports
from carecore.users import service
from carecore.users.models import UserFields
from tests.conftest import Accounts, World, build_world
from tests.crashes import CrashPoints, recover
from tests.support import FakeClock


async def test_a_role_change_publishes_the_claims_and_records_their_revision(
    firebase_ports: Ports, world: World, accounts: Accounts
) -> None:
    ports = firebase_ports
    target = world.caregiver_off_team
    account = accounts.open(target.firebase_uid)
    updated = await service.update_user(
        ports, world.coordinator.principal(), target.id, expected_revision=1, fields=UserFields(role=Role.FAMILY)
    )

    assert await accounts.claims(account) == {"role": "family", "agency": world.agency.id}
    doc = await ports.store.db["users"].find_one({"_id": target.id})
    assert doc is not None and (doc["claims_revision"], doc["claims_due_at"]) == (updated.revision, None)
    principal = await service.authenticate_token(ports, accounts.token(account))
    assert principal.role is Role.FAMILY


async def test_a_change_that_leaves_the_role_publishes_nothing(
    firebase_ports: Ports, world: World, accounts: Accounts
) -> None:
    account = accounts.open(world.guardian.firebase_uid)
    await service.update_user(
        firebase_ports,
        world.coordinator.principal(),
        world.guardian.id,
        expected_revision=1,
        fields=UserFields(locale="en"),
    )
    assert await accounts.claims(account) == {}


async def test_a_role_change_killed_at_each_write_leaves_the_claims_following_the_profile(
    firebase_crash_points: CrashPoints, accounts: Accounts
) -> None:
    positions = 0
    async for run in firebase_crash_points():
        world = await build_world(run.store, run.clock)
        target = world.caregiver_off_team
        account = accounts.open(target.firebase_uid)
        async with run.armed():
            await service.update_user(
                run.ports,
                world.coordinator.principal(),
                target.id,
                expected_revision=1,
                fields=UserFields(role=Role.FAMILY),
            )
        await recover(run)

        user = await run.store.users.get(target.id)
        assert user is not None
        if user.role is Role.FAMILY:
            # The profile changed: the claims follow it, and a refreshed token is accepted again.
            assert await accounts.claims(account) == user.claims(), run.writes
            principal = await service.authenticate(run.ports, target.firebase_uid, await accounts.claims(account))
            assert principal.role is Role.FAMILY
            entries = [e for e in await run.store.audit.for_object(target.id) if e.action == "user.update"]
            assert len(entries) == 1, run.writes  # I6
        else:
            assert await accounts.claims(account) in ({}, user.claims()), run.writes
        doc = await run.store.db["users"].find_one({"_id": target.id})
        assert doc is not None and doc.get("claims_due_at") is None, run.writes  # nothing left lagging
        positions += 1
    assert positions >= 5


async def test_claims_published_for_an_older_revision_are_published_again(
    firebase_ports: Ports, world: World, clock: FakeClock, accounts: Accounts
) -> None:
    ports = firebase_ports
    coordinator = world.coordinator.principal()
    target = world.caregiver_off_team
    account = accounts.open(target.firebase_uid)
    await service.update_user(ports, coordinator, target.id, expected_revision=1, fields=UserFields(role=Role.FAMILY))
    # A role change whose process died after the profile: claims lag behind revision 3.
    now = clock.now()
    changed = await ports.store.users.update(
        target.id, {"role": "coordinator"}, expected_revision=2, now=now, claims_due_at=now
    )
    assert changed is not None
    stale = await ports.store.users.claim_claims(target.id, now=now, owner="slow", lease=service.CLAIMS_LEASE)
    assert stale is not None
    # ... and the profile moves on while a publisher holds the claim: its record must not say "published".
    await ports.store.users.update(target.id, {"role": "caregiver"}, expected_revision=3, now=now, claims_due_at=now)
    await ports.claims.set_claims(stale.firebase_uid, stale.claims())
    assert not await ports.store.users.claims_published(target.id, revision=stale.revision, owner="slow")

    assert await service.publish_lagging_claims(ports, "job") == 1

    latest = await ports.store.users.get(target.id)
    assert latest is not None and await accounts.claims(account) == latest.claims()
    assert latest.role is Role.CAREGIVER


async def test_a_stale_role_change_is_audited_refused_and_publishes_nothing(
    firebase_ports: Ports, world: World, accounts: Accounts
) -> None:
    ports = firebase_ports
    target = world.caregiver_off_team
    account = accounts.open(target.firebase_uid)
    coordinator = world.coordinator.principal()
    await service.update_user(ports, coordinator, target.id, expected_revision=1, fields=UserFields(locale="en"))

    with pytest.raises(VersionConflict):
        await service.update_user(
            ports, coordinator, target.id, expected_revision=1, fields=UserFields(role=Role.FAMILY)
        )

    assert await accounts.claims(account) == {}
    entries = [e for e in await ports.store.audit.for_object(target.id) if e.action == "user.update"]
    assert sorted(e.outcome for e in entries) == sorted([AuditOutcome.DONE, AuditOutcome.REFUSED])
