"""People: reading them within the caller's scope, and the coordinators' changes to them."""

from __future__ import annotations

from collections.abc import Iterable

from carecore import validation
from carecore.access.policy import can_see_person, person_scope, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import agency_today
from carecore.audit.service import audited, audits, record
from carecore.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from carecore.ids import id_for_key, is_valid_id, new_id
from carecore.pagination import Page, PageRequest
from carecore.people.models import GuardianLink, GuardianPermission, Person, PersonProfile
from carecore.people.rules import checked_profile
from carecore.ports import Ports


async def get_person_or_raise(ports: Ports, actor: Principal, person_id: str, *, field: str = "id") -> Person:
    """Returns a person in the caller's scope (audited as a read of health data), else NotFound."""
    person = await person_in_scope(ports, actor, person_id, field=field)
    await record(ports, actor, "person.read", "Person", [person.id])
    return person


async def person_in_scope(ports: Ports, actor: Principal, person_id: str, *, field: str = "id") -> Person:
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_person(actor, person):
        raise NotFound("Person", person_id, field=field)
    return person


async def load_people(ports: Ports, actor: Principal, ids: Iterable[str]) -> dict[str, Person]:
    """Batch read for DataLoaders: the people of `ids` the caller may see, audited in one write."""
    found = await ports.store.people.get_many(i for i in ids if is_valid_id(i))
    visible = {i: p for i, p in found.items() if can_see_person(actor, p)}
    await record(ports, actor, "person.read", "Person", visible)
    return visible


async def list_people(ports: Ports, actor: Principal, page: PageRequest, search: str | None = None) -> Page[Person]:
    """The people the caller may see, by name; a search matches any part of the name."""
    scope = person_scope(actor)
    if scope is None:
        return Page(edges=[], has_next_page=False)
    if search is not None:
        search = validation.text(search, "search", max_len=validation.MAX_NAME) or None
    result = await ports.store.people.list(scope, page, search)
    await record(ports, actor, "person.read", "Person", (p.id for p in result.items))
    return result


async def create_person(
    ports: Ports, actor: Principal, profile: PersonProfile, *, idempotency_key: str | None = None
) -> Person:
    """Registers a person with the agency."""
    require_role(actor, Role.COORDINATOR)
    now = ports.clock.now()
    profile = checked_profile(profile, await agency_today(ports, actor.agency_id))
    key_id = id_for_key(actor.agency_id, actor.user_id, "create_person", idempotency_key) if idempotency_key else None
    person = Person(
        id=key_id or new_id(),
        agency_id=actor.agency_id,
        profile=profile,
        guardians=(),
        care_team=(),
        active_care_plan_id=None,
        revision=1,
        created_at=now,
        updated_at=now,
    )
    async with audited(ports, actor, "person.create", "Person", [person.id]):
        try:
            await ports.store.people.insert(person)
        except AlreadyExists:
            return await person_in_scope(ports, actor, person.id)
    return person


@audits("person.update", "Person", "person_id")
async def update_person(
    ports: Ports, actor: Principal, person_id: str, *, expected_revision: int, profile: PersonProfile
) -> Person:
    """Replaces a person's profile, refusing an edit made from a stale revision."""
    require_role(actor, Role.COORDINATOR)
    current = await person_in_scope(ports, actor, person_id)
    profile = checked_profile(profile, await agency_today(ports, actor.agency_id))
    updated = await ports.store.people.update_profile(
        current, profile, expected_revision=expected_revision, now=ports.clock.now()
    )
    if updated is None:
        latest = await person_in_scope(ports, actor, person_id)
        raise VersionConflict(
            "The person changed since you loaded them; reload and apply your edit again.",
            current_revision=latest.revision,
            field="expectedRevision",
        )
    return updated


@audits("person.link_guardian", "Person", "person_id")
async def link_guardian(
    ports: Ports,
    actor: Principal,
    person_id: str,
    *,
    user_id: str,
    relationship: str,
    permissions: frozenset[GuardianPermission],
) -> Person:
    """Links a family member as guardian with the parts they may see; relinking replaces them."""
    require_role(actor, Role.COORDINATOR)
    person = await person_in_scope(ports, actor, person_id, field="personId")
    relationship = validation.text(relationship, "relationship", max_len=validation.MAX_NAME, required=True)
    await _require_users(ports, actor, [user_id], Role.FAMILY, field="userId")
    link = GuardianLink(user_id=user_id, relationship=relationship, permissions=permissions)
    updated = await ports.store.people.put_guardian(person.id, link, ports.clock.now())
    if updated is None:
        raise NotFound("Person", person_id, field="personId")
    return updated


@audits("person.unlink_guardian", "Person", "person_id")
async def unlink_guardian(ports: Ports, actor: Principal, person_id: str, *, user_id: str) -> Person:
    """Removes a guardian link; unknown links are a no-op so retries are safe."""
    require_role(actor, Role.COORDINATOR)
    person = await person_in_scope(ports, actor, person_id, field="personId")
    updated = await ports.store.people.remove_guardian(person.id, user_id, ports.clock.now())
    if updated is None:
        raise NotFound("Person", person_id, field="personId")
    return updated


@audits("person.set_care_team", "Person", "person_id")
async def set_care_team(ports: Ports, actor: Principal, person_id: str, *, user_ids: list[str]) -> Person:
    """Sets the caregivers who serve a person."""
    require_role(actor, Role.COORDINATOR)
    person = await person_in_scope(ports, actor, person_id, field="personId")
    validation.items(user_ids, "userIds", max_items=50)
    unique = list(dict.fromkeys(user_ids))
    await _require_users(ports, actor, unique, Role.CAREGIVER, field="userIds")
    updated = await ports.store.people.set_care_team(person.id, unique, ports.clock.now())
    if updated is None:
        raise NotFound("Person", person_id, field="personId")
    return updated


async def _require_users(ports: Ports, actor: Principal, user_ids: list[str], role: Role, *, field: str) -> None:
    found = await ports.store.users.get_many(u for u in user_ids if is_valid_id(u))
    for user_id in user_ids:
        user = found.get(user_id)
        if user is None or user.agency_id != actor.agency_id:
            raise NotFound("User", user_id, field=field)
        if user.role is not role or not user.active:
            raise ValidationFailed(f"User {user.display_name} is not an active {role.value}.", field=field)
