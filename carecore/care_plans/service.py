"""Care plans: drafting, approving (at most one ACTIVE version per person) and family acknowledgement.

An approval writes, in this order (safe to resume after a crash at any point):
1. the draft is marked as being approved (conditional on its revision): from here no edit lands on it;
2. the person's active-plan pointer moves to it (compare-and-set: the commit point);
3. the version it replaces becomes SUPERSEDED;
4. the draft becomes ACTIVE and loses its mark.
A process that dies after 1 leaves the mark; `finish_approvals` (a lease-claimed background job)
takes such a stalled approval over and finishes it, or undoes the mark if the pointer went to another
version. So after recovery the pointer and the stored statuses agree, and the active plan never
accepts an edit (invariant I5, docs/safety.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from carecore.access.policy import can_see_part, can_see_plan, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import agency_today
from carecore.audit.service import audited, record
from carecore.care_plans.models import Acknowledgement, CarePlan, CarePlanStatus, PlanContent, effective_status
from carecore.care_plans.rules import check_content
from carecore.errors import AlreadyExists, NotFound, StateConflict, VersionConflict
from carecore.ids import id_for_key, is_valid_id, new_id
from carecore.pagination import Page, PageRequest
from carecore.people.models import Person
from carecore.people.service import person_in_scope
from carecore.ports import Ports
from carecore.vocabulary import GuardianPermission

APPROVED = (CarePlanStatus.ACTIVE, CarePlanStatus.SUPERSEDED)
# How long an approval may take before `finish_approvals` treats its process as dead, and its lease.
APPROVAL_GRACE = timedelta(minutes=1)
APPROVAL_LEASE = timedelta(minutes=1)


def _visible(actor: Principal, person: Person, plan: CarePlan) -> bool:
    return can_see_plan(actor, person, effective_status(plan, person.active_care_plan_id))


async def get_plan_or_raise(
    ports: Ports, actor: Principal, plan_id: str, *, field: str = "id"
) -> tuple[CarePlan, Person]:
    """A plan version the caller may see, with its person; audited as a read of health data."""
    plan = await ports.store.care_plans.get(plan_id) if is_valid_id(plan_id) else None
    person = await ports.store.people.get(plan.person_id) if plan else None
    if plan is None or person is None or not _visible(actor, person, plan):
        raise NotFound("CarePlan", plan_id, field=field)
    await record(ports, actor, "care_plan.read", "CarePlan", [plan.id])
    return plan, person


async def load_active_plans(ports: Ports, actor: Principal, people: Iterable[Person]) -> dict[str, CarePlan]:
    """Batch read for DataLoaders: each person's active plan the caller may see, keyed by person id."""
    wanted = {p.active_care_plan_id: p for p in people if p.active_care_plan_id}
    plans = await ports.store.care_plans.get_many(wanted)
    visible = {
        person.id: plans[plan_id]
        for plan_id, person in wanted.items()
        if plan_id in plans and can_see_plan(actor, person, CarePlanStatus.ACTIVE)
    }
    await record(ports, actor, "care_plan.read", "CarePlan", (p.id for p in visible.values()))
    return visible


async def list_versions(ports: Ports, actor: Principal, person: Person, page: PageRequest) -> Page[CarePlan]:
    """A person's plan versions the caller may see, newest first."""
    return (await list_versions_of(ports, actor, [person], page)).get(person.id, Page(edges=[], has_next_page=False))


async def list_versions_of(
    ports: Ports, actor: Principal, people: Sequence[Person], page: PageRequest
) -> dict[str, Page[CarePlan]]:
    """`list_versions` for many people (a DataLoader batch): one read and one audit write, keyed by person id."""
    match actor.role:
        case Role.COORDINATOR:
            statuses: tuple[CarePlanStatus, ...] | None = None
            shown = list(people)
        case Role.FAMILY:
            statuses = APPROVED
            shown = [p for p in people if can_see_part(actor, p, GuardianPermission.PLAN)]
        case Role.CAREGIVER:
            statuses = (CarePlanStatus.ACTIVE,)
            shown = list(people)
        case _:
            return {}
    found = await ports.store.care_plans.list_for_people([p.id for p in shown], page, statuses)
    pages = {
        p.id: Page(
            edges=[(c, v) for c, v in found[p.id].edges if _visible(actor, p, v)],
            has_next_page=found[p.id].has_next_page,
        )
        for p in shown
        if p.id in found
    }
    await record(ports, actor, "care_plan.read", "CarePlan", (v.id for page_ in pages.values() for v in page_.items))
    return pages


async def create_draft(
    ports: Ports,
    actor: Principal,
    person_id: str,
    content: PlanContent | None,
    *,
    idempotency_key: str | None = None,
) -> CarePlan:
    """Starts a new version; without content it copies the active version, the usual way to revise."""
    require_role(actor, Role.COORDINATOR)
    person = await person_in_scope(ports, actor, person_id, field="personId")
    now = ports.clock.now()
    if content is None:
        active = await ports.store.care_plans.get(person.active_care_plan_id) if person.active_care_plan_id else None
        content = active.content if active else PlanContent()
    check_content(content, await agency_today(ports, actor.agency_id))
    plan_id = (
        id_for_key(actor.agency_id, actor.user_id, "create_plan", idempotency_key) if idempotency_key else new_id()
    )
    existing = await ports.store.care_plans.get(plan_id)
    if existing is not None:
        return existing
    plan = CarePlan(
        id=plan_id,
        agency_id=person.agency_id,
        person_id=person.id,
        version=await ports.store.people.next_plan_version(person.id),
        status=CarePlanStatus.DRAFT,
        based_on_id=person.active_care_plan_id,
        content=content,
        revision=1,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    async with audited(ports, actor, "care_plan.create", "CarePlan", [plan.id]):
        try:
            await ports.store.care_plans.insert(plan)
        except AlreadyExists:
            return await _get_draft(ports, actor, plan_id)
    return plan


async def _get_draft(ports: Ports, actor: Principal, plan_id: str) -> CarePlan:
    plan, _ = await get_plan_or_raise(ports, actor, plan_id, field="planId")
    return plan


async def update_draft(
    ports: Ports, actor: Principal, plan_id: str, *, expected_revision: int, content: PlanContent
) -> CarePlan:
    """Replaces a draft's content, refusing an edit made from a stale revision."""
    require_role(actor, Role.COORDINATOR)
    plan, person = await get_plan_or_raise(ports, actor, plan_id, field="planId")
    check_content(content, await agency_today(ports, actor.agency_id))
    async with audited(ports, actor, "care_plan.update", "CarePlan", [plan.id]):
        _refuse_if_active(plan, person)
        updated = await ports.store.care_plans.update_draft(
            plan.id, content, expected_revision=expected_revision, now=ports.clock.now()
        )
        if updated is None:
            raise await _why_not_editable(ports, plan.id)
    return updated


def _refuse_if_active(plan: CarePlan, person: Person) -> None:
    # The storage update refuses a draft being approved; this also covers a pointer moved by an
    # approval written before approvals marked their draft first.
    if person.active_care_plan_id == plan.id:
        raise StateConflict("Only a draft can be changed; start a new draft from the active version.")


async def _why_not_editable(ports: Ports, plan_id: str) -> StateConflict | VersionConflict:
    latest = await ports.store.care_plans.get(plan_id)
    if latest is None or latest.status is not CarePlanStatus.DRAFT:
        return StateConflict("Only a draft can be changed; start a new draft from the active version.")
    if latest.approving_by is not None:
        return StateConflict("This draft is being approved; start a new draft from the active version.")
    return VersionConflict(
        "The draft changed since you loaded it; reload and apply your edit again.",
        current_revision=latest.revision,
        field="expectedRevision",
    )


async def approve_plan(ports: Ports, actor: Principal, plan_id: str, *, expected_revision: int) -> CarePlan:
    """Makes a draft the ACTIVE version; the one it replaces becomes SUPERSEDED.

    The person's active-plan pointer moves by compare-and-set from the version the draft was based
    on, so of two racing approvals exactly one wins, and a draft written against an older active
    version is refused rather than silently undoing someone else's approval. A retry of an approval
    that crashed half-way finishes it.
    """
    require_role(actor, Role.COORDINATOR)
    plan, _ = await get_plan_or_raise(ports, actor, plan_id, field="planId")
    if plan.status is not CarePlanStatus.DRAFT:
        raise StateConflict("Only a draft can be approved.", field="planId")
    if plan.revision != expected_revision:
        raise VersionConflict(
            "The draft changed since you loaded it.", current_revision=plan.revision, field="expectedRevision"
        )
    async with audited(ports, actor, "care_plan.approve", "CarePlan", [plan.id]):
        now = ports.clock.now()
        marked = await ports.store.care_plans.begin_approval(
            plan.id, expected_revision=expected_revision, by=actor.user_id, due_at=now + APPROVAL_GRACE
        )
        if marked is None:
            raise await _why_not_editable(ports, plan.id)
        if not await _commit_approval(ports, marked, by=actor.user_id, at=now):
            raise VersionConflict(
                "Another version was approved since this draft was started; start a new draft from it.",
                current_revision=plan.revision,
                field="planId",
            )
    approved, _ = await get_plan_or_raise(ports, actor, plan.id)
    return approved


async def _commit_approval(ports: Ports, plan: CarePlan, *, by: str, at: datetime) -> bool:
    """Steps 2-4 of an approval marked as in progress; False (and the mark undone) when another version won."""
    moved = await ports.store.people.swap_active_plan(plan.person_id, expected=plan.based_on_id, new=plan.id)
    if not moved:
        # Lost, or an earlier attempt of this approval already moved it: the pointer never returns to
        # a version it left, so reading it now decides.
        person = await ports.store.people.get(plan.person_id)
        if person is None or person.active_care_plan_id != plan.id:
            await ports.store.care_plans.abandon_approval(plan.id)
            return False
    await ports.store.care_plans.mark_superseded(plan.person_id, except_id=plan.id, previous_id=plan.based_on_id, at=at)
    await ports.store.care_plans.mark_active(plan.id, by=by, at=at)
    return True


async def finish_approvals(ports: Ports, owner: str) -> int:
    """Background job: finishes approvals whose process died after their first write; returns how many."""
    done = 0
    while (
        plan := await ports.store.care_plans.claim_stalled_approval(
            now=ports.clock.now(), owner=owner, lease=APPROVAL_LEASE
        )
    ) is not None:
        await _finish_stalled(ports, plan)
        await ports.store.care_plans.release_approval(plan.id, owner=owner)
        done += 1
    return done


async def _finish_stalled(ports: Ports, plan: CarePlan) -> None:
    by, at = plan.approving_by or plan.created_by, ports.clock.now()
    person = await ports.store.people.get(plan.person_id)
    pointer = person.active_care_plan_id if person is not None else None
    if pointer is not None and pointer != plan.id and await ports.store.care_plans.has_successor(plan.id):
        # It held the pointer (a version was started from it) and another approval has replaced it since.
        await ports.store.care_plans.mark_superseded(plan.person_id, except_id=pointer, previous_id=plan.id, at=at)
        return
    await _commit_approval(ports, plan, by=by, at=at)


async def archive_draft(ports: Ports, actor: Principal, plan_id: str, *, expected_revision: int) -> CarePlan:
    """Discards a draft; it stays in the history as ARCHIVED."""
    require_role(actor, Role.COORDINATOR)
    plan, person = await get_plan_or_raise(ports, actor, plan_id, field="planId")
    async with audited(ports, actor, "care_plan.archive", "CarePlan", [plan.id]):
        _refuse_if_active(plan, person)
        archived = await ports.store.care_plans.archive_draft(
            plan.id, expected_revision=expected_revision, now=ports.clock.now()
        )
        if archived is None:
            raise await _why_not_editable(ports, plan.id)
    return archived


async def acknowledge_plan(ports: Ports, actor: Principal, plan_id: str) -> CarePlan:
    """Records that a guardian has read the active version; repeating it keeps the first time."""
    require_role(actor, Role.FAMILY)
    plan, person = await get_plan_or_raise(ports, actor, plan_id, field="planId")
    if effective_status(plan, person.active_care_plan_id) is not CarePlanStatus.ACTIVE:
        raise StateConflict("Only the active version can be acknowledged.", field="planId")
    async with audited(ports, actor, "care_plan.acknowledge", "CarePlan", [plan.id]):
        updated = await ports.store.care_plans.add_acknowledgement(
            plan.id, Acknowledgement(actor.user_id, ports.clock.now())
        )
        if updated is None:
            raise NotFound("CarePlan", plan_id, field="planId")
    return updated
