"""People: scope, stale edits, idempotent creation, guardians, care teams and the audit trail."""

from __future__ import annotations

import asyncio

import pytest

from carecore.errors import NotFound, ValidationFailed, VersionConflict
from carecore.pagination import PageRequest
from carecore.people import service
from carecore.people.models import ExternalRef, GuardianPermission, PersonProfile
from carecore.ports import Ports
from tests.conftest import World


async def test_an_edit_from_a_stale_revision_is_a_conflict_and_changes_nothing(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    await service.update_person(
        ports, coordinator, world.minji.id, expected_revision=1, profile=PersonProfile("최민지A")
    )

    with pytest.raises(VersionConflict) as conflict:
        await service.update_person(ports, coordinator, world.minji.id, expected_revision=1, profile=PersonProfile("B"))

    assert conflict.value.current_revision == 2
    stored = await ports.store.people.get(world.minji.id)
    assert stored is not None and stored.name == "최민지A"


async def test_concurrent_edits_from_one_revision_let_exactly_one_through(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    results = await asyncio.gather(
        *(
            service.update_person(
                ports, coordinator, world.minji.id, expected_revision=1, profile=PersonProfile(f"이름{i}")
            )
            for i in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, VersionConflict) for r in results if isinstance(r, BaseException))


async def test_a_retried_create_with_the_same_idempotency_key_creates_one_person(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    created = await asyncio.gather(
        *(
            service.create_person(ports, coordinator, PersonProfile("김하늘"), idempotency_key="phone-retry-7")
            for _ in range(3)
        )
    )
    assert len({p.id for p in created}) == 1
    assert await ports.store.db["people"].count_documents({"name": "김하늘"}) == 1


async def test_an_external_reference_names_one_person_only(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    ref = (ExternalRef("wellness-call", "WC-0001"),)
    await service.update_person(
        ports, coordinator, world.minji.id, expected_revision=1, profile=PersonProfile("최민지", external_refs=ref)
    )
    with pytest.raises(ValidationFailed) as refused:
        await service.create_person(ports, coordinator, PersonProfile("다른 사람", external_refs=ref))
    assert refused.value.field == "externalRefs"


async def test_only_family_members_can_be_guardians_and_only_caregivers_on_a_care_team(
    ports: Ports, world: World
) -> None:
    coordinator = world.coordinator.principal()
    with pytest.raises(ValidationFailed):
        await service.link_guardian(
            ports,
            coordinator,
            world.minji.id,
            user_id=world.caregiver_off_team.id,
            relationship="이모",
            permissions=frozenset({GuardianPermission.PLAN}),
        )
    with pytest.raises(ValidationFailed):
        await service.set_care_team(ports, coordinator, world.minji.id, user_ids=[world.guardian.id])
    with pytest.raises(NotFound):
        await service.set_care_team(ports, coordinator, world.minji.id, user_ids=[world.other_agency_coordinator.id])


async def test_relinking_a_guardian_replaces_their_permissions(ports: Ports, world: World) -> None:
    updated = await service.link_guardian(
        ports,
        world.coordinator.principal(),
        world.minji.id,
        user_id=world.guardian.id,
        relationship="어머니",
        permissions=frozenset({GuardianPermission.ALERTS}),
    )
    links = [g for g in updated.guardians if g.user_id == world.guardian.id]
    assert [g.permissions for g in links] == [frozenset({GuardianPermission.ALERTS})]


async def test_a_caregiver_lists_only_the_people_they_serve(ports: Ports, world: World) -> None:
    page = await service.list_people(ports, world.caregiver_on_team.principal(), PageRequest(first=10))
    assert [p.name for p in page.items] == ["최민지"]
    assert (await service.list_people(ports, world.ai_service.principal(), PageRequest(first=10))).items == []


async def test_pages_follow_one_another_without_gaps_or_repeats(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    for i in range(7):
        await service.create_person(ports, coordinator, PersonProfile(f"가나다 {i}"))
    seen: list[str] = []
    after = None
    while True:
        page = await service.list_people(ports, coordinator, PageRequest(first=3, after=after), search="가나다")
        seen += [p.name for p in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == sorted(f"가나다 {i}" for i in range(7))


async def test_reads_and_changes_are_audited_without_the_data(ports: Ports, world: World) -> None:
    await service.get_person_or_raise(ports, world.guardian.principal(), world.minji.id)
    await service.update_person(
        ports, world.coordinator.principal(), world.minji.id, expected_revision=1, profile=PersonProfile("최민지")
    )
    entries = await ports.store.audit.for_object(world.minji.id)
    assert {(e.actor_id, e.action) for e in entries} >= {
        (world.guardian.id, "person.read"),
        (world.coordinator.id, "person.update"),
    }
    raw = await ports.store.db["audit"].find_one({"object_id": world.minji.id})
    assert raw is not None and set(raw) == {
        "_id",
        "agency_id",
        "actor_id",
        "actor_role",
        "action",
        "object_type",
        "object_id",
        "at",
        "outcome",  # pending / done / refused: never the data either
    }
