"""Plan approval under crashes (issue 9, failure 7; invariant I5): the active-plan pointer and the stored
statuses agree after recovery, and the active plan never accepts an edit."""

from __future__ import annotations

import pytest

from carecore.audit.models import AuditOutcome
from carecore.care_plans import service
from carecore.care_plans.models import CarePlan, CarePlanStatus
from carecore.errors import StateConflict, VersionConflict
from carecore.ports import Ports
from tests.conftest import World, build_world
from tests.crashes import CrashPoints, recover
from tests.support import FakeClock, plan_content


async def _plans(ports: Ports, person_id: str) -> dict[str, CarePlan]:
    docs = await ports.store.db["care_plans"].find({"person_id": person_id}, projection={"_id": 1}).to_list()
    return await ports.store.care_plans.get_many(d["_id"] for d in docs)


async def _check_pointer_and_statuses_agree(ports: Ports, person_id: str) -> str:
    """I5: the pointer's plan is the one stored ACTIVE, no approval is left half-done; returns the pointer."""
    person = await ports.store.people.get(person_id)
    assert person is not None and person.active_care_plan_id is not None
    plans = await _plans(ports, person_id)
    stored_active = [p.id for p in plans.values() if p.status is CarePlanStatus.ACTIVE]
    assert stored_active == [person.active_care_plan_id]
    assert [p.id for p in plans.values() if p.approving_by is not None] == []
    return person.active_care_plan_id


async def _check_not_editable(ports: Ports, world: World, plan_id: str) -> None:
    coordinator = world.coordinator.principal()
    plan = await ports.store.care_plans.get(plan_id)
    assert plan is not None
    with pytest.raises(StateConflict):
        await service.update_draft(
            ports, coordinator, plan_id, expected_revision=plan.revision, content=plan_content("덮어쓰기")
        )
    with pytest.raises(StateConflict):
        await service.archive_draft(ports, coordinator, plan_id, expected_revision=plan.revision)
    after = await ports.store.care_plans.get(plan_id)
    assert after == plan


async def test_a_plan_whose_approval_stopped_after_the_pointer_refuses_edits(ports: Ports, world: World) -> None:
    # The state a crash left behind before approvals marked their draft first: pointer moved, stored DRAFT.
    coordinator = world.coordinator.principal()
    draft = await service.create_draft(ports, coordinator, world.minji.id, plan_content("개정안"))
    assert await ports.store.people.swap_active_plan(world.minji.id, expected=draft.based_on_id, new=draft.id)

    await _check_not_editable(ports, world, draft.id)


async def test_a_draft_being_approved_refuses_edits_before_the_pointer_moves(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    draft = await service.create_draft(ports, coordinator, world.minji.id, plan_content("개정안"))
    marked = await ports.store.care_plans.begin_approval(
        draft.id, expected_revision=draft.revision, by=coordinator.user_id, due_at=ports.clock.now()
    )
    assert marked is not None

    await _check_not_editable(ports, world, draft.id)


async def test_an_edit_landing_first_makes_the_approval_a_conflict(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    draft = await service.create_draft(ports, coordinator, world.minji.id, plan_content("개정안"))
    await service.update_draft(ports, coordinator, draft.id, expected_revision=draft.revision, content=plan_content())

    with pytest.raises(VersionConflict):
        await service.approve_plan(ports, coordinator, draft.id, expected_revision=draft.revision)

    person = await ports.store.people.get(world.minji.id)
    assert person is not None and person.active_care_plan_id == world.minji.active_care_plan_id


async def test_plan_approval_killed_at_each_write_is_finished_by_recovery(crash_points: CrashPoints) -> None:
    positions = 0
    async for run in crash_points():
        world = await build_world(run.store, run.clock)
        coordinator = world.coordinator.principal()
        before = world.minji.active_care_plan_id
        draft = await service.create_draft(run.ports, coordinator, world.minji.id, plan_content("개정안"))
        async with run.armed():
            await service.approve_plan(run.ports, coordinator, draft.id, expected_revision=draft.revision)
        started = (await run.store.care_plans.get(draft.id)) != draft

        await recover(run)

        pointer = await _check_pointer_and_statuses_agree(run.ports, world.minji.id)
        # Once the approval's first change is written it is finished: nobody needs to retry it.
        assert pointer == (draft.id if started else before), run.writes
        if pointer == draft.id:
            previous = await run.store.care_plans.get(before or "")
            assert previous is not None and previous.status is CarePlanStatus.SUPERSEDED
        await _check_not_editable(run.ports, world, pointer)
        if started:  # I6: a change has its audit entry, whatever became of the process
            entries = [e for e in await run.store.audit.for_object(draft.id) if e.action == "care_plan.approve"]
            assert len(entries) == 1, run.writes
        positions += 1
    assert positions >= 6


async def test_recovery_supersedes_a_half_approved_version_another_approval_replaced(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    first = await service.create_draft(ports, coordinator, world.minji.id, plan_content("1차"))
    # First approval dies right after moving the pointer: marked, pointer on it, stored DRAFT.
    await ports.store.care_plans.begin_approval(
        first.id, expected_revision=first.revision, by=coordinator.user_id, due_at=clock.now()
    )
    assert await ports.store.people.swap_active_plan(world.minji.id, expected=first.based_on_id, new=first.id)
    # A coordinator starts a new version from it and approves that one before any recovery ran.
    second = await service.create_draft(ports, coordinator, world.minji.id, None)
    assert second.based_on_id == first.id
    await service.approve_plan(ports, coordinator, second.id, expected_revision=second.revision)

    clock.advance(service.APPROVAL_GRACE)
    await service.finish_approvals(ports, "recovery")

    assert await _check_pointer_and_statuses_agree(ports, world.minji.id) == second.id
    replaced = await ports.store.care_plans.get(first.id)
    assert replaced is not None and replaced.status is CarePlanStatus.SUPERSEDED


async def test_recovery_undoes_the_mark_of_an_approval_another_version_beat(
    ports: Ports, world: World, clock: FakeClock
) -> None:
    coordinator = world.coordinator.principal()
    loser = await service.create_draft(ports, coordinator, world.minji.id, plan_content("늦은 초안"))
    winner = await service.create_draft(ports, coordinator, world.minji.id, plan_content("먼저 승인"))
    await ports.store.care_plans.begin_approval(
        loser.id, expected_revision=loser.revision, by=coordinator.user_id, due_at=clock.now()
    )  # ... and the process dies before moving the pointer
    await service.approve_plan(ports, coordinator, winner.id, expected_revision=winner.revision)

    clock.advance(service.APPROVAL_GRACE)
    assert await service.finish_approvals(ports, "recovery") == 1

    assert await _check_pointer_and_statuses_agree(ports, world.minji.id) == winner.id
    left = await ports.store.care_plans.get(loser.id)
    assert left is not None and left.status is CarePlanStatus.DRAFT and left.approving_by is None
    with pytest.raises(VersionConflict):  # written against a replaced version: start again from the new one
        await service.approve_plan(ports, coordinator, loser.id, expected_revision=left.revision)


async def test_a_refused_approval_is_audited_refused(ports: Ports, world: World) -> None:
    coordinator = world.coordinator.principal()
    drafts = [await service.create_draft(ports, coordinator, world.minji.id, plan_content(f"{i}")) for i in range(2)]
    await service.approve_plan(ports, coordinator, drafts[0].id, expected_revision=drafts[0].revision)

    with pytest.raises(VersionConflict):
        await service.approve_plan(ports, coordinator, drafts[1].id, expected_revision=drafts[1].revision)

    [entry] = [e for e in await ports.store.audit.for_object(drafts[1].id) if e.action == "care_plan.approve"]
    assert (entry.outcome, entry.error) == (AuditOutcome.REFUSED, "VersionConflict")
    unchanged = await ports.store.care_plans.get(drafts[1].id)
    assert unchanged == drafts[1]
