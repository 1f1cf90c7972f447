"""The incident lifecycle: acknowledge, confirm or dismiss, assign, note, resolve, reopen, report.

Every change is one conditional update that appends its timeline entry (actor, time, note), then an
event for live subscribers, then the audit entry. Of two people acting at once exactly one wins; the
other gets a StateConflict naming the state the incident is in now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from carecore import validation
from carecore.access.policy import can_see_person, require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audited
from carecore.errors import DispositionRequired, Forbidden, NotFound, StateConflict, ValidationFailed
from carecore.ids import check_same_request, id_for_key, is_valid_id, payload_hash
from carecore.incidents.access import stops_the_ladder
from carecore.incidents.escalation import restarted, run_step_now
from carecore.incidents.events import publish_change
from carecore.incidents.models import (
    CLOSED,
    HEALTH_DETECTOR_SERVICE,
    LIVE,
    UNACKNOWLEDGED,
    Incident,
    IncidentStatus,
    Severity,
    TimelineAction,
    TimelineEntry,
)
from carecore.incidents.policies import policy_for
from carecore.incidents.reads import incident_in_scope, incident_with_person
from carecore.incidents.rules import earliest, report_due_at
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.users.service import principal_for

_WHY = {
    IncidentStatus.IN_REVIEW: "This flag waits for review: confirm or dismiss it first.",
    IncidentStatus.RESOLVED: "This incident is resolved; reopen it first.",
    IncidentStatus.DISMISSED: "This incident was dismissed; reopen it first.",
    IncidentStatus.ACKNOWLEDGED: "This incident is already acknowledged.",
    IncidentStatus.OPEN: "This incident is open.",
    IncidentStatus.ESCALATED: "This incident is open and escalated.",
}


def _note(note: str | None) -> str | None:
    return validation.optional_text(note, "note")


def _entry(
    ports: Ports, actor: Principal, action: TimelineAction, status: IncidentStatus, **kw: str | None
) -> TimelineEntry:
    return TimelineEntry(ports.clock.now(), action, actor.user_id, status, **kw)


async def _changed(
    ports: Ports, actor: Principal, incident_id: str, action: str, change: Callable[[], Awaitable[Incident | None]]
) -> Incident:
    """Runs a conditional change, audited write-ahead; explains a refusal by the state the incident is in now."""
    async with audited(ports, actor, f"incident.{action}", "Incident", [incident_id]):
        updated = await change()
        if updated is None:
            latest = await ports.store.incidents.get(incident_id)
            if latest is None:
                raise NotFound("Incident", incident_id, field="id")
            raise StateConflict(_WHY[latest.status], field="id")
        await publish_change(ports, updated)
    return updated


async def acknowledge_incident(
    ports: Ports, actor: Principal, incident_id: str, *, note: str | None = None
) -> Incident:
    """An eligible responder's acknowledgement; stops the ladder. A guardian's is recorded, the ladder goes on."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    text = _note(note)
    if not stops_the_ladder(actor):
        entry = _entry(ports, actor, TimelineAction.SEEN_BY_GUARDIAN, incident.status, note=text)
        return await _changed(
            ports, actor, incident.id, "seen", lambda: ports.store.incidents.append(incident.id, entry, LIVE)
        )
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return incident  # a retry, or a second responder: the first acknowledgement stands
    entry = _entry(ports, actor, TimelineAction.ACKNOWLEDGED, IncidentStatus.ACKNOWLEDGED, note=text)
    return await _changed(
        ports, actor, incident.id, "acknowledge", lambda: ports.store.incidents.acknowledge(incident.id, entry)
    )


async def acknowledge_incident_alert(ports: Ports, actor: Principal, incident_id: str) -> bool:
    """The alerts inbox's acknowledger: True only when an eligible responder has stopped the incident's ladder.

    A guardian's acknowledgement is recorded and answers False, so the staff's alerts and calls go on.
    A closed incident was closed by staff, which stopped its ladder too; one in review wakes nobody yet.
    """
    try:
        incident = await acknowledge_incident(ports, actor, incident_id)
    except (Forbidden, NotFound):
        return False  # told, but not an eligible responder (any more)
    except StateConflict:
        latest = await ports.store.incidents.get(incident_id)
        return latest is not None and latest.status in CLOSED
    return incident.status is IncidentStatus.ACKNOWLEDGED


async def confirm_incident(
    ports: Ports, actor: Principal, incident_id: str, *, severity: Severity | None = None, note: str | None = None
) -> Incident:
    """Coordinators: a flag from the review queue is real; it becomes an open incident and its ladder starts."""
    require_role(actor, Role.COORDINATOR)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    policy = await policy_for(ports, incident.agency_id)
    chosen = severity or incident.severity
    ladder = restarted(incident.escalation, policy.ladder(chosen), ports.clock.now())
    due = report_due_at(policy, incident.type, chosen, incident.created_at, incident.safeguarding)
    entry = _entry(ports, actor, TimelineAction.CONFIRMED, IncidentStatus.OPEN, note=_note(note), detail=chosen.value)
    confirmed = await _changed(
        ports,
        actor,
        incident.id,
        "confirm",
        lambda: ports.store.incidents.confirm(
            incident.id, chosen, entry=entry, ladder=ladder, report_due=earliest(incident.report_due_at, due)
        ),
    )
    return await run_step_now(ports, confirmed)


async def dismiss_incident(ports: Ports, actor: Principal, incident_id: str, *, reason: str) -> Incident:
    """Coordinators: a false alarm, with the reason; it counts against the detector's precision."""
    require_role(actor, Role.COORDINATOR)
    reason = validation.text(reason, "reason", required=True)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    entry = _entry(ports, actor, TimelineAction.DISMISSED, IncidentStatus.DISMISSED, note=reason)
    return await _changed(
        ports, actor, incident.id, "dismiss", lambda: ports.store.incidents.dismiss(incident.id, reason, entry)
    )


async def resolve_incident(
    ports: Ports,
    actor: Principal,
    incident_id: str,
    *,
    outcome: str,
    note: str | None = None,
    actionable: bool | None = None,
) -> Incident:
    """Coordinators and caregivers who serve the person: closes the incident with its outcome.

    A health incident also needs `actionable` (did the alert lead anyone to act?): each rule's precision
    is measured from it (`health_rule_stats`).
    """
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    outcome = validation.text(outcome, "outcome", required=True)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    is_health = incident.detection is not None and incident.detection.service == HEALTH_DETECTOR_SERVICE
    if is_health and actionable is None:
        raise DispositionRequired("Say whether this health alert was actionable.", field="actionable")
    detail = outcome if actionable is None else f"{outcome} ({'actionable' if actionable else 'not actionable'})"
    entry = _entry(ports, actor, TimelineAction.RESOLVED, IncidentStatus.RESOLVED, note=_note(note), detail=detail)
    return await _changed(
        ports,
        actor,
        incident.id,
        "resolve",
        lambda: ports.store.incidents.resolve(incident.id, outcome, entry, actionable=actionable),
    )


async def close_unconfirmed_incident(
    ports: Ports, incident_id: str, *, agency_id: str, detector: str, observation_id: str, outcome: str
) -> Incident | None:
    """The system: a health rule's repeat request that the repeat answered normal closes itself, not actionable.

    Only an incident nobody has taken up closes so (`IncidentStore.close_unconfirmed` says which); its
    ladder stops, and the event tells the people already asked (their alerts are marked handled). None
    when it is not such an incident (any more). Idempotent: a retry after a death between the change and
    its event publishes the event again (its id is the revision's).
    """
    current = await ports.store.incidents.get(incident_id)
    if current is None:
        return None
    if current.status is IncidentStatus.RESOLVED and current.outcome == outcome:
        await publish_change(ports, current)  # closed by this very repeat: finish what a death left
        return None
    if current.status not in UNACKNOWLEDGED or current.severity is not Severity.HIGH or current.assignee_id:
        return None  # read first, so a normal reading after a taken-up incident leaves no audit entry
    entry = TimelineEntry(
        ports.clock.now(), TimelineAction.RESOLVED, None, IncidentStatus.RESOLVED, detail=f"{outcome} (not actionable)"
    )
    async with audited(ports, None, "incident.close_unconfirmed", "Incident", [incident_id], agency_id=agency_id):
        closed = await ports.store.incidents.close_unconfirmed(
            incident_id, detector=detector, observation_id=observation_id, outcome=outcome, entry=entry
        )
        if closed is not None:
            await publish_change(ports, closed)
    return closed


async def reopen_incident(ports: Ports, actor: Principal, incident_id: str, *, note: str | None = None) -> Incident:
    """Coordinators: a closed incident is open again, and unacknowledged, so its ladder runs again."""
    require_role(actor, Role.COORDINATOR)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    policy = await policy_for(ports, incident.agency_id)
    ladder = restarted(incident.escalation, policy.ladder(incident.severity), ports.clock.now())
    entry = _entry(ports, actor, TimelineAction.REOPENED, IncidentStatus.OPEN, note=_note(note))
    reopened = await _changed(
        ports, actor, incident.id, "reopen", lambda: ports.store.incidents.reopen(incident.id, entry, ladder)
    )
    return await run_step_now(ports, reopened)


async def assign_incident(
    ports: Ports, actor: Principal, incident_id: str, *, assignee_id: str, note: str | None = None
) -> Incident:
    """Coordinators: names who follows the incident up: a coordinator, or a caregiver who serves the person."""
    require_role(actor, Role.COORDINATOR)
    incident, person = await incident_with_person(ports, actor, incident_id)
    await _check_assignee(ports, incident, person, assignee_id)
    entry = _entry(ports, actor, TimelineAction.ASSIGNED, incident.status, note=_note(note), detail=assignee_id)
    return await _changed(
        ports, actor, incident.id, "assign", lambda: ports.store.incidents.assign(incident.id, assignee_id, entry)
    )


async def _check_assignee(ports: Ports, incident: Incident, person: Person, assignee_id: str) -> None:
    user = await ports.store.users.get(assignee_id) if is_valid_id(assignee_id) else None
    if user is None or user.agency_id != incident.agency_id or not user.active:
        raise NotFound("User", assignee_id, field="assigneeId")
    if user.id == incident.alleged_perpetrator_id:
        raise ValidationFailed("The person this report names cannot follow it up.", field="assigneeId")
    principal = await principal_for(ports, user)
    allowed = principal.role is Role.COORDINATOR or (
        principal.role is Role.CAREGIVER and incident.safeguarding is None and can_see_person(principal, person)
    )
    if not allowed:
        raise ValidationFailed(
            f"{user.display_name} cannot follow up this incident: assign a coordinator or a caregiver who serves "
            "the person.",
            field="assigneeId",
        )


async def add_incident_note(
    ports: Ports, actor: Principal, incident_id: str, *, note: str, idempotency_key: str | None = None
) -> Incident:
    """Coordinators and caregivers who serve the person: a note on the timeline. A retry with the same
    idempotency key and text answers with the incident holding the first note; another text is refused."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER)
    text = validation.text(note, "note", required=True)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    entry = _entry(ports, actor, TimelineAction.NOTE, incident.status, note=text)
    if idempotency_key:
        key_hash = payload_hash(incident.id, text)
        entry_id = id_for_key(actor.agency_id, actor.user_id, "add_incident_note", idempotency_key)
        if (earlier := await _keyed_note(ports, entry_id, key_hash)) is not None:
            return earlier
        entry = replace(entry, id=entry_id, key_hash=key_hash)
    statuses = (*LIVE, *CLOSED)

    async def append() -> Incident | None:
        appended = await ports.store.incidents.append(incident.id, entry, statuses)
        if appended is None and entry.id is not None and entry.key_hash is not None:
            return await _keyed_note(ports, entry.id, entry.key_hash)  # a concurrent retry appended it first
        return appended

    return await _changed(ports, actor, incident.id, "note", append)


async def _keyed_note(ports: Ports, entry_id: str, key_hash: str) -> Incident | None:
    """The incident holding the note a key made, if the same request made it; else IdempotencyKeyReused."""
    earlier = await ports.store.incidents.with_timeline_entry(entry_id)
    if earlier is not None:
        check_same_request(next(t.key_hash for t in earlier.timeline if t.id == entry_id), key_hash)
    return earlier


async def mark_incident_reported(
    ports: Ports, actor: Principal, incident_id: str, *, reference: str | None = None, note: str | None = None
) -> Incident:
    """Coordinators: the report to the authority is made; it leaves the list of reports due."""
    require_role(actor, Role.COORDINATOR)
    reference = validation.optional_text(reference, "reference", max_len=validation.MAX_NAME)
    incident, _ = await incident_with_person(ports, actor, incident_id)
    if incident.reported_at is not None:
        return incident
    entry = _entry(ports, actor, TimelineAction.REPORTED, incident.status, note=_note(note), detail=reference)
    return await _changed(
        ports,
        actor,
        incident.id,
        "report_to_authority",
        lambda: ports.store.incidents.mark_reported(incident.id, reference, entry),
    )


async def acknowledge_incident_at_desk(
    ports: Ports, actor: Principal, incident_id: str, *, note: str | None
) -> Incident:
    """Coordinators at the console, one incident at a time: a CRITICAL one's acknowledgement says what was done.

    Phones acknowledge from a notification, where typing is no option; at a desk a CRITICAL incident
    waits for a note, so the timeline tells the next person what happened (issue 11).
    """
    require_role(actor, Role.COORDINATOR)
    incident = await incident_in_scope(ports, actor, incident_id)
    text = _note(note)
    if incident.severity is Severity.CRITICAL and text is None:
        raise ValidationFailed("A note is required to acknowledge a CRITICAL incident.", field="note")
    return await acknowledge_incident(ports, actor, incident_id, note=text)
