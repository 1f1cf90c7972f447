"""A profile's role and agency reach its Firebase account as custom claims, through the app's own
gateway (app/firebase.py) to the Auth emulator, and nothing reaches it when the change is refused."""

from __future__ import annotations

import pytest

from carecore.access.principal import Role
from carecore.errors import Forbidden, ValidationFailed
from carecore.ids import new_id
from carecore.ports import Ports
from carecore.users import service
from carecore.users.models import UserFields
from tests.conftest import Accounts, World


async def test_a_new_profile_s_claims_reach_its_account_and_its_next_token_signs_in_as_that_profile(
    firebase_ports: Ports, world: World, accounts: Accounts
) -> None:
    uid = f"u-{new_id()}"
    account = accounts.open(uid)

    created = await service.create_user(
        firebase_ports,
        world.coordinator.principal(),
        firebase_uid=uid,
        fields=UserFields(display_name="새 요양보호사", role=Role.CAREGIVER),
    )

    assert await accounts.claims(account) == {"role": "caregiver", "agency": world.agency.id}
    principal = await service.authenticate_token(firebase_ports, accounts.token(account))
    assert (principal.user_id, principal.role) == (created.id, Role.CAREGIVER)


async def test_a_profile_for_a_uid_without_a_firebase_account_is_refused_and_nothing_is_written(
    firebase_ports: Ports, world: World
) -> None:
    uid = f"u-{new_id()}"  # no account in Firebase

    with pytest.raises(ValidationFailed) as refused:
        await service.create_user(
            firebase_ports,
            world.coordinator.principal(),
            firebase_uid=uid,
            fields=UserFields(display_name="새 요양보호사", role=Role.CAREGIVER),
        )

    assert refused.value.field == "firebaseUid"
    assert await firebase_ports.store.users.get_by_firebase_uid(uid) is None


async def test_a_caregiver_cannot_change_a_role_and_the_account_s_claims_stay_as_they_were(
    firebase_ports: Ports, world: World, accounts: Accounts
) -> None:
    target = world.caregiver_off_team
    account = accounts.open(target.firebase_uid)

    with pytest.raises(Forbidden):
        await service.update_user(
            firebase_ports,
            world.caregiver_on_team.principal(),
            target.id,
            expected_revision=1,
            fields=UserFields(role=Role.COORDINATOR),
        )

    assert await accounts.claims(account) == {}
