"""Care plan versions: drafting, approval races, stale edits and acknowledgement."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from carecore.care_plans import service
from carecore.care_plans.models import CarePlanStatus, effective_status
from carecore.errors import NotFound, StateConflict, ValidationFailed, VersionConflict
from carecore.pagination import PageRequest
from carecore.ports import Ports
from tests.conftest import World
from tests.support import FakeClock, plan_content


async def test_approving_a_draft_supersedes_the_active_version(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    old_active = world.minji.active_care_plan_id
    draft = await service.create_draft(ports, coordinator, world.minji.id, plan_content("개정안"))

    approved = await service.approve_plan(ports, coordinator, draft.id, expected_revision=draft.revision)

    assert approved.status is CarePlanStatus.ACTIVE
    person = await ports.store.people.get(world.minji.id)
    assert person is not None and person.active_care_plan_id == draft.id
    assert old_active is not None
    previous = await ports.store.care_plans.get(old_active)
    assert previous is not None and previous.status is CarePlanStatus.SUPERSEDED


async def test_two_concurrent_approvals_leave_exactly_one_active_version(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    drafts = [
        await service.create_draft(ports, coordinator, world.minji.id, plan_content(f"초안 {i}")) for i in range(2)
    ]

    results = await asyncio.gather(
        *(service.approve_plan(ports, coordinator, d.id, expected_revision=d.revision) for d in drafts),
        return_exceptions=True,
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == 1 and isinstance(losers[0], VersionConflict)
    person = await ports.store.people.get(world.minji.id)
    assert person is not None
    page = await ports.store.care_plans.list_for_person(world.minji.id, PageRequest(first=10))
    statuses = [effective_status(p, person.active_care_plan_id) for p in page.items]
    assert statuses.count(CarePlanStatus.ACTIVE) == 1
    stored_active = [p for p in page.items if p.status is CarePlanStatus.ACTIVE]
    assert [p.id for p in stored_active] == [person.active_care_plan_id]


async def test_updating_a_draft_from_a_stale_revision_is_a_conflict_and_changes_nothing(
    ports: Ports, world: World
) -> None:
    coordinator = world.coordinator.principal()
    draft = await service.create_draft(ports, coordinator, world.minji.id, plan_content("처음"))
    await service.update_draft(
        ports, coordinator, draft.id, expected_revision=draft.revision, content=plan_content("둘째")
    )

    with pytest.raises(VersionConflict) as conflict:
        await service.update_draft(
            ports, coordinator, draft.id, expected_revision=draft.revision, content=plan_content("덮어쓰기")
        )

    assert conflict.value.current_revision == draft.revision + 1
    stored = await ports.store.care_plans.get(draft.id)
    assert stored is not None and stored.content.summary == "둘째"


async def test_a_draft_started_before_another_approval_cannot_be_approved(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    early = await service.create_draft(ports, coordinator, world.minji.id, plan_content("먼저 시작"))
    later = await service.create_draft(ports, coordinator, world.minji.id, plan_content("나중 시작"))
    await service.approve_plan(ports, coordinator, later.id, expected_revision=later.revision)

    with pytest.raises(VersionConflict):
        await service.approve_plan(ports, coordinator, early.id, expected_revision=early.revision)


async def test_an_approved_version_can_no_longer_be_edited(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    draft = await service.create_draft(ports, coordinator, world.minji.id, None)
    approved = await service.approve_plan(ports, coordinator, draft.id, expected_revision=draft.revision)

    with pytest.raises(StateConflict):
        await service.update_draft(
            ports, coordinator, draft.id, expected_revision=approved.revision, content=plan_content()
        )


async def test_a_draft_without_content_copies_the_active_version(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    active = await ports.store.care_plans.get(world.minji.active_care_plan_id or "")
    draft = await service.create_draft(ports, coordinator, world.minji.id, None)
    assert active is not None
    assert draft.content == active.content
    assert draft.version == active.version + 1
    assert draft.based_on_id == active.id


async def test_a_guardian_acknowledges_the_active_version_once(ports: Ports, world: World) -> None:
    guardian = world.guardian.principal()
    plan_id = world.minji.active_care_plan_id or ""

    first = await service.acknowledge_plan(ports, guardian, plan_id)
    again = await service.acknowledge_plan(ports, guardian, plan_id)

    assert [a.user_id for a in again.acknowledgements] == [world.guardian.id]
    assert again.acknowledgements[0].at == first.acknowledgements[0].at


async def test_a_guardian_without_plan_permission_cannot_see_or_acknowledge_the_plan(
    ports: Ports, world: World
) -> None:
    with pytest.raises(NotFound):
        await service.acknowledge_plan(
            ports, world.guardian_visits_only.principal(), world.minji.active_care_plan_id or ""
        )


async def test_an_idempotency_key_makes_a_retried_draft_the_same_draft(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    first = await service.create_draft(ports, coordinator, world.minji.id, None, idempotency_key="retry-1")
    second = await service.create_draft(ports, coordinator, world.minji.id, None, idempotency_key="retry-1")
    assert first.id == second.id
    assert second.version == first.version


async def test_days_are_the_agencys_days_not_utcs(ports: Ports, world: World, clock: FakeClock) -> None:
    # 16:00 UTC on the 25th is 01:00 on the 26th in Seoul: the 25th is already past there.
    clock.current = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    content = replace(plan_content(), review_date=date(2026, 11, 25))
    with pytest.raises(ValidationFailed) as refused:
        await service.create_draft(ports, world.coordinator.principal(), world.minji.id, content)
    assert refused.value.field == "reviewDate"
