"""Reachability services: outcomes and signs in, a coordinator's schedule and human contacts, and the job
that moves people along the ladder when an awaited answer never comes.

The order of writes is what makes a crash harmless:
1. the contact (outcome, sign, human report) under an id derived from its source, `apply_due_at` set;
2. the audit entry of the transition, PENDING;
3. the state, by one conditional update on `version`, carrying the transition's effect in `pending`;
4. the effect: the `reachability.changed` event (id from person and version) and, on the ladder's last
   step or for risk words, the incident through `open_incident` (id from person and episode, or contact);
5. the effect removed from `pending`; the audit entry DONE; the contact marked applied.
A death after 1 leaves the contact for the `reachability` job (after `APPLY_GRACE`); after 3, the effect
(after `EFFECTS_GRACE`); every step is idempotent, so a retry or a racing worker repeats nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carecore.access.policy import can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.agencies.service import get_agency
from carecore.audit.service import audited
from carecore.errors import AlreadyExists, NotFound, StateConflict, Unauthenticated, ValidationFailed
from carecore.events.models import DomainEvent
from carecore.events.service import publish
from carecore.ids import id_for_key, is_valid_id
from carecore.incidents.models import AiService
from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.incidents.rules import base_severity
from carecore.people.models import ExternalRef, Person
from carecore.ports import Ports
from carecore.reachability import rules
from carecore.reachability.models import (
    GYEONGGI,
    QUIET_WINDOW,
    CallOutcome,
    CallReport,
    CallSlot,
    Contact,
    ContactKind,
    Effect,
    Ladder,
    Reach,
    ReachState,
    SignReport,
)
from carecore.users.service import principal_for
from carecore.vocabulary import IncidentSource, IncidentType, Severity

CALLBACK_TOKEN_BYTES = 32
EVENT_KIND = "reachability.changed"  # consumed by carecore/alerts/reachability.py
APPLY_GRACE = timedelta(seconds=10)  # a contact's own request applies it at once; the job only after this
REACHABILITY_LEASE = timedelta(minutes=1)
SAVE_ATTEMPTS = 16
LEARN_EVERY = timedelta(days=1)  # the usual quiet period is learned again at most daily
SUMMARIES = {
    rules.NO_RESPONSE: "Unreachable: AI calls, a human call and a visit request brought no answer.",
    rules.RISK_WORDS: "Risk words in a wellness call.",
    rules.NEEDS_HELP: "Reached by a human, who found the person needs help.",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """A contact as stored, whether it was a resend, and the person's state after it."""

    contact: Contact
    duplicate: bool
    reach: Reach


async def ladder_for(ports: Ports, agency_id: str) -> Ladder:
    """The agency's ladder, or Gyeonggi's when it kept the default."""
    return await ports.store.reachability_settings.ladder(agency_id) or GYEONGGI


async def get_ladder(ports: Ports, actor: Principal) -> tuple[Ladder, bool]:
    """Coordinators: their agency's ladder, and whether it is Gyeonggi's default."""
    require_role(actor, Role.COORDINATOR)
    found = await ports.store.reachability_settings.ladder(actor.agency_id)
    return found or GYEONGGI, found is None


async def set_ladder(ports: Ports, actor: Principal, ladder: Ladder) -> Ladder:
    """Coordinators: their agency's ladder, read by every person's next step (schedules already set keep
    their slots; a slot now inside the no-call window is refused at its next edit)."""
    require_role(actor, Role.COORDINATOR)
    checked = rules.check_ladder(ladder)
    async with audited(ports, actor, "reachability.ladder", "Agency", [actor.agency_id]):
        await ports.store.reachability_settings.put_ladder(actor.agency_id, checked)
    return checked


async def _zone(ports: Ports, agency_id: str) -> ZoneInfo:
    return ZoneInfo((await get_agency(ports, agency_id)).timezone)


async def _load(ports: Ports, agency_id: str, person_id: str) -> Reach:
    """The person's state; a person never seen before starts OK."""
    found = await ports.store.reachability.get(person_id)
    if found is not None:
        return found
    fresh = Reach(person_id=person_id, agency_id=agency_id, state_since=ports.clock.now())
    with contextlib.suppress(AlreadyExists):  # a racer created it: read theirs
        await ports.store.reachability.create(fresh)
    found = await ports.store.reachability.get(person_id)
    if found is None:
        raise RuntimeError(f"reachability of {person_id} vanished")
    return found


def _incident_key(reach: Reach, effect: Effect) -> str:
    """One NO_RESPONSE incident per episode; one incident per contact that carried risk words or a plea."""
    if effect.open_incident == rules.NO_RESPONSE:
        return id_for_key(reach.agency_id, "reachability", reach.person_id, str(effect.episode), rules.NO_RESPONSE)
    return id_for_key(reach.agency_id, "reachability", str(effect.open_incident), str(effect.contact_id))


def _with_incident(reach: Reach, ladder: Ladder) -> Reach:
    """The NO_RESPONSE incident's id is known before it is opened (derived from its key): store it with the
    transition, so the state says at once that the incident ladder has taken over."""
    effect = reach.pending[-1] if reach.pending else None
    if effect is None or effect.version != reach.version or effect.open_incident != rules.NO_RESPONSE:
        return reach
    incident_id = id_for_key("incident", _incident_key(reach, effect))  # Opening.incident_id of that key
    with_id = dataclasses.replace(reach, incident_id=incident_id)
    return dataclasses.replace(with_id, check_at=rules.check_at(with_id, ladder))


async def _commit(ports: Ports, actor: Principal | None, before: Reach, after: Reach, ladder: Ladder) -> bool:
    """Saves a computed change; a transition is audited write-ahead and its effects run at once.

    False when another writer changed the state first: the caller reads it again and recomputes.
    """
    if len(after.pending) <= len(before.pending):
        return await ports.store.reachability.save(before, after)
    after = _with_incident(after, ladder)
    try:
        async with audited(
            ports, actor, "reachability.transition", "Person", [after.person_id], agency_id=after.agency_id
        ):
            if not await ports.store.reachability.save(before, after):
                raise StateConflict("The person's reachability changed meanwhile.")
    except StateConflict:
        return False
    await run_effects(ports, after)
    return True


async def run_effects(ports: Ports, reach: Reach) -> None:
    """Makes the pending effects of `reach` happen, oldest first; each is idempotent."""
    for effect in reach.pending:
        await _publish(ports, reach, effect)
        if effect.open_incident is not None:
            await _open(ports, reach, effect)
        await ports.store.reachability.finish_effect(reach.person_id, effect.version)


async def _publish(ports: Ports, reach: Reach, effect: Effect) -> None:
    data: dict[str, str | int | float | bool | None] = {
        "version": effect.version,
        "state": effect.state.value,
        "previous": effect.previous.value,
        "unanswered": effect.unanswered,
        "cause": effect.cause.value if effect.cause else None,
        "episode": effect.episode,
        "check": effect.check,
        "checkInUserId": reach.check_in_user_id if effect.check else None,
        "incident": effect.open_incident,
    }
    event = DomainEvent(
        id=id_for_key("reachability", reach.person_id, str(effect.version)),
        agency_id=reach.agency_id,
        kind=EVENT_KIND,
        subject_type="Person",
        subject_id=reach.person_id,
        at=effect.at,
        person_id=reach.person_id,
        data=data,
    )
    await publish(ports, event)


async def _open(ports: Ports, reach: Reach, effect: Effect) -> None:
    person = await ports.store.people.get(reach.person_id)
    if person is None:
        return  # the person is gone: nobody to go to
    policy = await policy_for(ports, reach.agency_id)
    kind = effect.open_incident or rules.NO_RESPONSE
    incident_type = IncidentType.NO_RESPONSE if kind == rules.NO_RESPONSE else IncidentType.MEDICAL
    # Nobody has reached the person after every step of the ladder: never less than HIGH.
    severity = max(base_severity(policy, incident_type, person), Severity.HIGH, key=lambda s: s.rank)
    opening = Opening(
        key=_incident_key(reach, effect),
        agency_id=reach.agency_id,
        person_id=reach.person_id,
        type=incident_type,
        severity=severity,
        in_review=False,  # the ladder was the review
        source=IncidentSource.SYSTEM,
        summary=SUMMARIES[kind],
        mergeable=False,
    )
    await open_incident(ports, opening, policy, None)


async def _learned(ports: Ports, reach: Reach, contact: Contact, now: datetime) -> Reach:
    """The usual longest quiet period, learned again from the last 28 days when a day has passed."""
    if not contact.heard_from or (reach.quiet_learned_at is not None and now - reach.quiet_learned_at < LEARN_EVERY):
        return reach
    heard = await ports.store.reachability_contacts.heard_since(reach.agency_id, reach.person_id, now - QUIET_WINDOW)
    limit = rules.learned_quiet([*heard, contact.at], now)
    return dataclasses.replace(reach, quiet_limit=limit, quiet_learned_at=now)


async def _apply(ports: Ports, actor: Principal | None, contact: Contact) -> Reach:
    ladder = await ladder_for(ports, contact.agency_id)
    zone = await _zone(ports, contact.agency_id)
    for _ in range(SAVE_ATTEMPTS):
        now = ports.clock.now()
        reach = await _load(ports, contact.agency_id, contact.person_id)
        learned = await _learned(ports, reach, contact, now)
        after = rules.on_contact(learned, contact, ladder, now, zone)
        if after is None or await _commit(ports, actor, reach, after, ladder):
            break
    else:
        raise RuntimeError(f"contact {contact.id} could not be applied")
    await ports.store.reachability_contacts.mark_applied(contact.id)
    return await ports.store.reachability.get(contact.person_id) or reach


async def record_contact(ports: Ports, actor: Principal | None, contact: Contact) -> Recorded:
    """Stores an outcome, sign or human report once and moves the person's state accordingly."""
    try:
        await ports.store.reachability_contacts.insert(contact, apply_due_at=ports.clock.now() + APPLY_GRACE)
        duplicate = False
    except AlreadyExists:
        earlier = await ports.store.reachability_contacts.get(contact.id)
        if earlier is None:
            raise
        contact, duplicate = earlier, True
        if earlier.applied:
            return Recorded(earlier, True, await _load(ports, earlier.agency_id, earlier.person_id))
    return Recorded(contact, duplicate, await _apply(ports, actor, contact))


async def _advance(ports: Ports, claimed: Reach) -> int:
    """Takes every step now due for one claimed person; returns how many transitions it made."""
    ladder = await ladder_for(ports, claimed.agency_id)
    zone = await _zone(ports, claimed.agency_id)
    reach: Reach | None = claimed
    steps = 0
    for _ in range(SAVE_ATTEMPTS):
        if reach is None:
            break
        after = rules.on_deadline(reach, ladder, ports.clock.now(), zone)
        if after is None:
            break
        if await _commit(ports, None, reach, after, ladder):
            steps += len(after.pending) > len(reach.pending)
        reach = await ports.store.reachability.get(claimed.person_id)
    return steps


async def run_reachability(ports: Ports, owner: str, limit: int = 100) -> int:
    """Background job: contacts and effects a dead request left, then every deadline that has passed."""
    store, done = ports.store, 0
    while done < limit:
        contact = await store.reachability_contacts.claim_unapplied(ports.clock.now(), owner, REACHABILITY_LEASE)
        if contact is None:
            break
        await _apply(ports, None, contact)
        done += 1
    while done < limit:
        reach = await store.reachability.claim_effects(ports.clock.now(), owner, REACHABILITY_LEASE)
        if reach is None:
            break
        await run_effects(ports, reach)
        await store.reachability.clear_effects_due(reach.person_id)
        await store.reachability.release(reach.person_id, owner)
        done += 1
    while done < limit:
        reach = await store.reachability.claim_due(ports.clock.now(), owner, REACHABILITY_LEASE)
        if reach is None:
            break
        await _advance(ports, reach)
        await store.reachability.release(reach.person_id, owner)
        done += 1
    return done


async def _person_in_scope(ports: Ports, actor: Principal, person_id: str) -> Person:
    person = await ports.store.people.get(person_id) if is_valid_id(person_id) else None
    if person is None or not can_see_person(actor, person):
        raise NotFound("Person", person_id, field="personId")
    return person


async def set_call_schedule(
    ports: Ports, actor: Principal, person_id: str, slots: list[CallSlot], *, check_in_user_id: str | None = None
) -> Reach:
    """A coordinator sets a person's weekly wellness calls (agency time zone), so each outcome is known due."""
    require_role(actor, Role.COORDINATOR)
    person = await _person_in_scope(ports, actor, person_id)
    ladder = await ladder_for(ports, person.agency_id)
    schedule = rules.check_schedule(ladder, slots)
    if check_in_user_id is not None:
        user = await ports.store.users.get(check_in_user_id) if is_valid_id(check_in_user_id) else None
        if user is None or user.agency_id != person.agency_id or not user.active:
            raise NotFound("User", check_in_user_id, field="checkInUserId")
    zone = await _zone(ports, person.agency_id)
    async with audited(ports, actor, "reachability.schedule", "Person", [person.id]):
        for _ in range(SAVE_ATTEMPTS):
            reach = await _load(ports, person.agency_id, person.id)
            after = dataclasses.replace(
                reach,
                schedule=schedule,
                schedule_revision=reach.schedule_revision + 1,
                check_in_user_id=check_in_user_id,
                next_call_at=rules.next_slot(schedule, ports.clock.now(), zone),
                version=reach.version + 1,
            )
            after = dataclasses.replace(after, check_at=rules.check_at(after, ladder))
            if await ports.store.reachability.save(reach, after):
                return after
    raise RuntimeError(f"the schedule of {person.id} could not be saved")


async def get_reachability(ports: Ports, actor: Principal, person_id: str) -> Reach:
    """A person's state and schedule: staff who see the person."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    person = await _person_in_scope(ports, actor, person_id)
    return await ports.store.reachability.get(person.id) or Reach(person_id=person.id, agency_id=person.agency_id)


def _check_time(at: datetime, now: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValidationFailed("Times need their offset (ISO 8601).", field="at")
    if at > now + timedelta(minutes=5):
        raise ValidationFailed("A contact cannot be in the future.", field="at")
    return at


async def record_human_contact(
    ports: Ports, actor: Principal, person_id: str, contact: Contact, *, idempotency_key: str
) -> Recorded:
    """A coordinator records the human call of the task pushed to them, or a caregiver their visit."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    person = await _person_in_scope(ports, actor, person_id)
    if contact.kind not in (ContactKind.HUMAN_CALL, ContactKind.VISIT) or contact.human_outcome is None:
        raise ValidationFailed("A human contact is a call or a visit with its outcome.", field="kind")
    key = idempotency_key.strip() or contact.at.isoformat()
    stored = dataclasses.replace(
        contact,
        id=id_for_key(person.agency_id, "human", actor.user_id, person.id, key),
        agency_id=person.agency_id,
        person_id=person.id,
        at=_check_time(contact.at, ports.clock.now()),
        received_at=ports.clock.now(),
        source=actor.user_id,
        note=contact.note[:1000],
    )
    async with audited(ports, actor, "reachability.human_contact", "Person", [person.id]):
        return await record_contact(ports, actor, stored)


@dataclass(frozen=True, slots=True)
class Unreachable:
    reach: Reach
    person: Person
    last_human: Contact | None


async def unreachable_people(ports: Ports, actor: Principal) -> list[Unreachable]:
    """Coordinators: who is unreachable now, longest first, with the last human contact attempt."""
    require_role(actor, Role.COORDINATOR)
    found = await ports.store.reachability.unreachable(actor.agency_id)
    people = await ports.store.people.get_many([r.person_id for r in found])
    last = await ports.store.reachability_contacts.last_human([r.person_id for r in found])
    return [
        Unreachable(r, people[r.person_id], last.get(r.person_id))
        for r in found
        if r.person_id in people and people[r.person_id].agency_id == actor.agency_id
    ]


def is_unreachable(reach: Reach) -> bool:
    return reach.state in (ReachState.UNANSWERED, ReachState.HUMAN_CALLING, ReachState.VISIT_REQUESTED)


async def _person_by_ref(ports: Ports, service: AiService, ref: str) -> Person:
    person = await ports.store.people.by_external_ref(service.agency_id, ExternalRef(service.service, ref))
    if person is None:
        raise NotFound("Person", ref, field="personRef")
    return person


async def record_call_outcome(ports: Ports, actor: Principal, service: AiService, call: CallReport) -> Recorded:
    """The wellness-call service reports one attempt; idempotent on (provider, session, attempt)."""
    require_role(actor, Role.AI_SERVICE)
    person = await _person_by_ref(ports, service, call.person_ref)
    if call.attempt < 1 or not call.session.strip():
        raise ValidationFailed("A call needs its session and an attempt number from 1.", field="attempt")
    ladder = await ladder_for(ports, person.agency_id)
    now = ports.clock.now()
    answered = call.outcome is CallOutcome.ANSWERED
    contact = Contact(
        # (provider, session, attempt) names one attempt; the person too, in case a provider's session ids
        # are only unique per subscriber.
        id=id_for_key(person.agency_id, "call", service.service, call.session, str(call.attempt), person.id),
        agency_id=person.agency_id,
        person_id=person.id,
        kind=ContactKind.CALL,
        at=_check_time(call.at, now),
        received_at=now,
        source=service.service,
        call_outcome=call.outcome,
        session=call.session,
        attempt=call.attempt,
        risk_words=rules.risk_words_in(ladder, call.risk_words, call.transcript) if answered else (),
        mood=call.mood,
    )
    async with audited(ports, actor, "reachability.call_outcome", "Person", [person.id]):
        return await record_contact(ports, actor, contact)


async def record_sign_of_life(ports: Ports, actor: Principal, service: AiService, sign: SignReport) -> Recorded:
    """A device or AI service saw the person alive (phone used, power, door, app, SOS); idempotent by its id."""
    require_role(actor, Role.AI_SERVICE)
    person = await _person_by_ref(ports, service, sign.person_ref)
    now = ports.clock.now()
    at = _check_time(sign.at, now)
    source_id = sign.source_id or f"{sign.person_ref}|{sign.kind.value}|{at.isoformat()}"
    contact = Contact(
        id=id_for_key(person.agency_id, "sign", service.service, source_id),
        agency_id=person.agency_id,
        person_id=person.id,
        kind=ContactKind.SIGN,
        at=at,
        received_at=now,
        source=service.service,
        sign=sign.kind,
    )
    async with audited(ports, actor, "reachability.sign_of_life", "Person", [person.id]):
        return await record_contact(ports, actor, contact)


def _token_hash(token: str) -> str:
    # Stored hashed: a leaked database does not leak working callback URLs. The token has 256 bits, so a
    # plain SHA-256 is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_callback_token(ports: Ports, actor: Principal, service_user_id: str) -> str:
    """A coordinator issues the agency's callback token for a provider that cannot sign; shown once.

    Issuing again replaces it: the old URL stops working at once.
    """
    require_role(actor, Role.COORDINATOR)
    service = await ports.store.ai_services.get(service_user_id) if is_valid_id(service_user_id) else None
    if service is None or service.agency_id != actor.agency_id:
        raise NotFound("User", service_user_id, field="serviceUserId")
    token = secrets.token_urlsafe(CALLBACK_TOKEN_BYTES)
    async with audited(ports, actor, "reachability.callback_token", "User", [service.user_id]):
        await ports.store.reachability_settings.put_callback_token(
            actor.agency_id, _token_hash(token), service.user_id, ports.clock.now()
        )
    return token


async def authenticate_callback(ports: Ports, token: str) -> tuple[Principal, AiService]:
    """The service a callback token was issued for; Unauthenticated for any other token."""
    found = await ports.store.reachability_settings.by_callback_token(_token_hash(token)) if token else None
    service = await ports.store.ai_services.get(found[1]) if found else None
    user = await ports.store.users.get(found[1]) if found else None
    if (
        found is None
        or service is None
        or user is None
        or not user.active
        or user.role is not Role.AI_SERVICE
        or user.agency_id != found[0]
    ):
        raise Unauthenticated("Unknown callback URL.")
    return await principal_for(ports, user), service
