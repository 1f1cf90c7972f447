"""What a role sees of other people's accounts and of AI services' references."""

from __future__ import annotations

from dataclasses import replace

from carecore.people.models import ExternalRef
from carecore.storage.store import Store
from tests.conftest import World
from tests.schema.conftest import Execute

TEAM_AND_GUARDIANS = """
query ($id: ID!) {
  person(id: $id) {
    externalRefs { reference }
    careTeam { displayName phone firebaseUid }
    guardians { user { displayName phone } }
  }
}"""


async def _with_phones(store: Store, world: World) -> None:
    for u in (world.caregiver_on_team, world.guardian, world.guardian_visits_only):
        await store.db["users"].update_one({"_id": u.id}, {"$set": {"phone": "010-0000-0000"}})
    profile = replace(world.minji.profile, external_refs=(ExternalRef("wellness-call", "WC-1"),))
    await store.people.update_profile(world.minji, profile, expected_revision=1, now=world.minji.updated_at)


async def test_a_family_member_sees_caregivers_names_but_not_their_phones(
    execute: Execute, world: World, store: Store
) -> None:
    await _with_phones(store, world)
    result = await execute(TEAM_AND_GUARDIANS, {"id": world.minji.id}, as_user=world.guardian)
    person = result.data["person"]
    assert person["careTeam"] == [{"displayName": "박서준", "phone": None, "firebaseUid": None}]
    assert person["guardians"] == [{"user": {"displayName": "최영희", "phone": "010-0000-0000"}}]
    assert person["externalRefs"] == []


async def test_a_caregiver_sees_the_guardians_phone_for_emergencies(
    execute: Execute, world: World, store: Store
) -> None:
    await _with_phones(store, world)
    result = await execute(TEAM_AND_GUARDIANS, {"id": world.minji.id}, as_user=world.caregiver_on_team)
    person = result.data["person"]
    assert {g["user"]["phone"] for g in person["guardians"]} == {"010-0000-0000"}
    assert person["careTeam"][0]["phone"] == "010-0000-0000"  # their own
    assert person["externalRefs"] == []


async def test_a_coordinator_sees_everything_including_ai_references(
    execute: Execute, world: World, store: Store
) -> None:
    await _with_phones(store, world)
    result = await execute(TEAM_AND_GUARDIANS, {"id": world.minji.id}, as_user=world.coordinator)
    person = result.data["person"]
    assert person["externalRefs"] == [{"reference": "WC-1"}]
    assert person["careTeam"][0]["firebaseUid"] == world.caregiver_on_team.firebase_uid
