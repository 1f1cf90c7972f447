"""Pure functions from carecore's read models to FHIR R4 (4.0.1) resources as JSON-ready dicts.

No I/O and no access decisions here: callers pass only what the caller may see (carecore.fhir.reads).
Every reference names a resource the same export or server also serves, so a receiver can resolve it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from carecore.access.principal import Role
from carecore.agencies.models import Agency
from carecore.alerts.models import DeliveryState, Notification
from carecore.care_plans.models import CarePlan, Goal, SupportTask, effective_status
from carecore.fhir import codes
from carecore.health.models import UNITS, Metric, Observation, ObservationStatus
from carecore.incidents.models import Incident, IncidentStatus
from carecore.people.models import GuardianLink, Person, Protocol
from carecore.shifts.models import Shift, ShiftStatus, VisitCheck
from carecore.users.models import User
from carecore.vocabulary import CarePlanStatus, Severity

Json = dict[str, Any]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def instant(at: datetime) -> str:
    """UTC to the second: stored times are UTC with millisecond precision, and receivers compare strings."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


def ref(resource_type: str, resource_id: str, display: str | None = None) -> Json:
    out: Json = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def _meta(updated: datetime, *profiles: str) -> Json:
    meta: Json = {"lastUpdated": instant(updated)}
    if profiles:
        meta["profile"] = list(profiles)
    return meta


def _text(value: str) -> Json:
    return {"text": value}


def _coding(system: str, code: str, display: str | None = None) -> Json:
    out: Json = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _telecom(user: User) -> list[Json]:
    out = []
    if user.phone:
        out.append({"system": "phone", "value": user.phone, "use": "mobile"})
    if user.email:
        out.append({"system": "email", "value": user.email})
    return out


# --- who -------------------------------------------------------------------------------------------


def organization(agency: Agency) -> Json:
    out: Json = {
        "resourceType": "Organization",
        "id": agency.id,
        "identifier": [{"system": f"{codes.BASE}/sid/agency", "value": agency.id}],
        "active": True,
        "name": agency.name,
    }
    if agency.region:
        out["address"] = [{"state": agency.region, "country": "KR"}]
    return out


def patient(person: Person) -> Json:
    """KR Core Patient: identifiers from the references the agency gave its AI services, then carecore's own."""
    p = person.profile
    identifiers = [
        {"use": "secondary", "system": codes.external_ref_system(person.agency_id, r.service), "value": r.reference}
        for r in p.external_refs
    ]
    identifiers.append({"use": "usual", "system": codes.PERSON_ID_SYSTEM, "value": person.id})
    names: list[Json] = [{"use": "official", "text": p.name}]
    if p.preferred_name:
        names.append({"use": "usual", "text": p.preferred_name})
    out: Json = {
        "resourceType": "Patient",
        "id": person.id,
        "meta": _meta(person.updated_at, codes.KR_CORE_PATIENT),
        "identifier": identifiers,
        "active": p.active,
        "name": names,
        "communication": [{"language": {"coding": [_coding(codes.URN_IETF_BCP47, p.language)]}, "preferred": True}],
        "managingOrganization": ref("Organization", person.agency_id),
    }
    if p.date_of_birth is not None:
        out["birthDate"] = p.date_of_birth.isoformat()
    if p.home is not None:
        out["address"] = [{"use": "home", "text": p.home.address}]
    contacts = [
        {
            "relationship": [_text(c.relationship)],
            "name": {"text": c.name},
            "telecom": [{"system": "phone", "value": c.phone}],
        }
        for c in p.emergency_contacts
    ]
    if contacts:
        out["contact"] = contacts
    return out


def related_person_id(person_id: str, user_id: str) -> str:
    return f"{person_id}-{user_id}"


def related_person(person: Person, link: GuardianLink, user: User) -> Json:
    """A guardian as the person's relative; the permissions of the link stay carecore's business."""
    out: Json = {
        "resourceType": "RelatedPerson",
        "id": related_person_id(person.id, link.user_id),
        "meta": _meta(person.updated_at),
        "identifier": [{"system": codes.USER_ID_SYSTEM, "value": user.id}],
        "active": user.active,
        "patient": ref("Patient", person.id),
        "relationship": [_text(link.relationship)],
        "name": [{"text": user.display_name}],
    }
    if telecom := _telecom(user):
        out["telecom"] = telecom
    return out


def practitioner(user: User, qualifications: Iterable[tuple[str, date | None]] = ()) -> Json:
    out: Json = {
        "resourceType": "Practitioner",
        "id": user.id,
        "meta": _meta(user.updated_at),
        "identifier": [{"system": codes.USER_ID_SYSTEM, "value": user.id}],
        "active": user.active,
        "name": [{"text": user.display_name}],
    }
    if telecom := _telecom(user):
        out["telecom"] = telecom
    quals = [
        {"code": _text(code), **({"period": {"end": end.isoformat()}} if end else {})} for code, end in qualifications
    ]
    if quals:
        out["qualification"] = quals
    return out


def practitioner_role_id(user_id: str) -> str:
    return f"{user_id}-role"


def practitioner_role(user: User) -> Json:
    return {
        "resourceType": "PractitionerRole",
        "id": practitioner_role_id(user.id),
        "meta": _meta(user.updated_at),
        "active": user.active,
        "practitioner": ref("Practitioner", user.id),
        "organization": ref("Organization", user.agency_id),
        "code": [{"coding": [_coding(codes.STAFF_ROLE_SYSTEM, user.role.value)]}],
    }


def care_team_id(person_id: str) -> str:
    return f"{person_id}-team"


def care_team(person: Person) -> Json:
    return {
        "resourceType": "CareTeam",
        "id": care_team_id(person.id),
        "meta": _meta(person.updated_at),
        "status": "active" if person.profile.active else "inactive",
        "name": f"{person.name} care team",
        "subject": ref("Patient", person.id),
        "participant": [{"member": ref("Practitioner", user_id)} for user_id in person.care_team],
        "managingOrganization": [ref("Organization", person.agency_id)],
    }


def flag_id(person_id: str, index: int) -> str:
    return f"{person_id}-protocol-{index}"


def protocol_flag(person: Person, index: int, protocol: Protocol) -> Json:
    """A standing warning every visitor must know: the person's protocol for an incident type."""
    text = protocol.instructions
    if protocol.call_emergency_after_minutes is not None:
        text = f"{text} (119 after {protocol.call_emergency_after_minutes} min)"
    return {
        "resourceType": "Flag",
        "id": flag_id(person.id, index),
        "meta": _meta(person.updated_at),
        "status": "active" if person.profile.active else "inactive",
        "category": [{"coding": [_coding(codes.FLAG_CATEGORY, "safety", "Safety")]}],
        "code": {"coding": [_coding(codes.PROTOCOL_SYSTEM, protocol.incident_type.value)], "text": text},
        "subject": ref("Patient", person.id),
    }


def unreachable_flag(person: Person, state: str, since: datetime | None) -> Json:
    """A standing warning while nobody can reach the person (the reachability ladder's UNREACHABLE states)."""
    out: Json = {
        "resourceType": "Flag",
        "id": f"{person.id}-unreachable",
        "meta": _meta(since or person.updated_at),
        "status": "active",
        "category": [{"coding": [_coding(codes.FLAG_CATEGORY, "safety", "Safety")]}],
        "code": {"coding": [_coding(codes.STANDING_WARNING_SYSTEM, state)], "text": f"Unreachable ({state})"},
        "subject": ref("Patient", person.id),
    }
    if since is not None:
        out["period"] = {"start": instant(since)}
    return out


# --- plans -----------------------------------------------------------------------------------------

_PLAN_STATUS = {
    CarePlanStatus.DRAFT: "draft",
    CarePlanStatus.ACTIVE: "active",
    CarePlanStatus.SUPERSEDED: "revoked",  # replaced by a newer version before it ran its course
    CarePlanStatus.ARCHIVED: "entered-in-error",  # a draft discarded, never in force
}
_GOAL_STATUS = {
    CarePlanStatus.DRAFT: "proposed",
    CarePlanStatus.ACTIVE: "active",
    CarePlanStatus.SUPERSEDED: "completed",
    CarePlanStatus.ARCHIVED: "rejected",
}
PLAN_STATUS_CODES = tuple(dict.fromkeys(_PLAN_STATUS.values()))


def plan_status(plan: CarePlan, active_plan_id: str | None) -> str:
    return _PLAN_STATUS[effective_status(plan, active_plan_id)]


def goal_id(plan_id: str, goal: Goal) -> str:
    return f"{plan_id}-{goal.id}"


def goal(plan: CarePlan, active_plan_id: str | None, g: Goal) -> Json:
    out: Json = {
        "resourceType": "Goal",
        "id": goal_id(plan.id, g),
        "meta": _meta(plan.updated_at),
        "lifecycleStatus": _GOAL_STATUS[effective_status(plan, active_plan_id)],
        "description": _text(g.description),
        "subject": ref("Patient", plan.person_id),
    }
    target: Json = {"measure": _text(g.measure)} if g.measure else {}
    if g.target_date is not None:
        target["dueDate"] = g.target_date.isoformat()
    if target:
        out["target"] = [target]
    return out


def _timing(task: SupportTask) -> Json:
    repeat: Json = {"dayOfWeek": [WEEKDAYS[d] for d in task.schedule.weekdays]}
    if task.schedule.times_of_day:
        repeat["timeOfDay"] = [t.isoformat(timespec="seconds") for t in task.schedule.times_of_day]
    if task.schedule.every_hours is not None:
        repeat |= {"frequency": 1, "period": task.schedule.every_hours, "periodUnit": "h"}
    return {"repeat": repeat}


def _activity(plan_status_code: str, task: SupportTask) -> Json:
    running = plan_status_code == "active"
    return {
        # A missed occurrence of a critical task raises an incident (DESIGN "Care plan").
        "extension": [{"url": codes.CRITICAL_TASK_EXTENSION, "valueBoolean": task.critical}],
        "detail": {
            "kind": "Task",
            "code": {"coding": [_coding(codes.TASK_CATEGORY_SYSTEM, task.category.value)], "text": task.title},
            "status": "scheduled" if running else "not-started",
            "scheduledTiming": _timing(task),
            "description": task.instructions or task.title,
        },
    }


def care_plan(plan: CarePlan, active_plan_id: str | None) -> Json:
    status = plan_status(plan, active_plan_id)
    c = plan.content
    out: Json = {
        "resourceType": "CarePlan",
        "id": plan.id,
        "meta": _meta(plan.updated_at),
        "identifier": [{"system": f"{codes.BASE}/sid/care-plan-version", "value": f"{plan.person_id}-v{plan.version}"}],
        "status": status,
        "intent": "plan",
        "title": f"개인별 지원계획 v{plan.version}",
        "subject": ref("Patient", plan.person_id),
        "created": instant(plan.created_at),
        "author": ref("Practitioner", plan.approved_by or plan.created_by),
        "careTeam": [ref("CareTeam", care_team_id(plan.person_id))],
    }
    if c.summary:
        out["description"] = c.summary
    if plan.based_on_id is not None:
        out["replaces"] = [ref("CarePlan", plan.based_on_id)]
    if plan.approved_at is not None or c.review_date is not None:
        period: Json = {}
        if plan.approved_at is not None:
            period["start"] = instant(plan.approved_at)
        if c.review_date is not None:
            period["end"] = c.review_date.isoformat()
        out["period"] = period
    if c.goals:
        out["goal"] = [ref("Goal", goal_id(plan.id, g)) for g in c.goals]
    if c.tasks:
        out["activity"] = [_activity(status, t) for t in c.tasks]
    return out


# --- readings --------------------------------------------------------------------------------------


def _quantity(value: float, unit: str) -> Json:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def observation(o: Observation) -> Json:
    """Vital signs: BP as the 85354-9 panel with systolic and diastolic components, others one value."""
    r = o.reading
    profiles = [codes.VITAL_SIGNS, codes.METRIC_PROFILES[r.metric]] if r.metric in codes.METRIC_PROFILES else []
    out: Json = {
        "resourceType": "Observation",
        "id": o.id,
        "meta": _meta(o.received_at, *profiles),
        "identifier": [{"system": codes.OBSERVATION_ID_SYSTEM, "value": o.id}],
        "status": "final" if o.status is ObservationStatus.ACCEPTED else "entered-in-error",
        "category": [
            {"coding": [_coding(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")], "text": "Vital Signs"}
        ],
        "code": codes.observation_code(r.metric),
        "subject": ref("Patient", r.person_id),
        "effectiveDateTime": instant(r.effective_at),
        "issued": instant(o.received_at),
    }
    if r.source_data_point_id is not None:
        out["identifier"].append({"system": f"{codes.BASE}/sid/source/{o.source}", "value": r.source_data_point_id})
    if r.device_id is not None:
        out["device"] = {"display": r.device_id}
    unit = UNITS[r.metric]
    if r.metric is Metric.BLOOD_PRESSURE:
        out["component"] = [
            {
                "code": {"coding": [_coding(codes.LOINC, c.code, codes.COMPONENT_NAMES.get(c.code))]},
                "valueQuantity": _quantity(c.value, unit),
            }
            for c in r.components
        ]
    else:
        [only] = r.components
        out["valueQuantity"] = _quantity(only.value, unit)
    return out


# --- incidents and what was sent about them ---------------------------------------------------------

_TASK_STATUS = {
    IncidentStatus.IN_REVIEW: "requested",
    IncidentStatus.OPEN: "ready",
    IncidentStatus.ESCALATED: "ready",
    IncidentStatus.ACKNOWLEDGED: "in-progress",
    IncidentStatus.RESOLVED: "completed",
    IncidentStatus.DISMISSED: "cancelled",
}
_PRIORITY = {Severity.CRITICAL: "stat", Severity.HIGH: "asap", Severity.MEDIUM: "urgent", Severity.LOW: "routine"}
TASK_STATUS_CODES = tuple(dict.fromkeys(_TASK_STATUS.values()))


def incident_statuses(task_status: str) -> tuple[IncidentStatus, ...]:
    """The incident statuses one Task.status stands for (search)."""
    return tuple(s for s, code in _TASK_STATUS.items() if code == task_status)


def _business_status(i: Incident) -> Json:
    step = i.escalation
    ladder = f"round {step.round}, step {step.step}"
    return {
        "coding": [
            _coding(codes.INCIDENT_STATUS_SYSTEM, i.status.value),
            _coding(codes.LADDER_STEP_SYSTEM, f"{step.round}.{step.step}", ladder),
        ],
        "text": f"{i.status.value} ({ladder})",
    }


def task(i: Incident) -> Json:
    out: Json = {
        "resourceType": "Task",
        "id": i.id,
        "meta": _meta(i.updated_at),
        "status": _TASK_STATUS[i.status],
        "businessStatus": _business_status(i),
        "intent": "order",
        "priority": _PRIORITY[i.severity],
        "code": {"coding": [_coding(codes.INCIDENT_TYPE_SYSTEM, i.type.value)]},
        "description": i.summary,
        "focus": ref("Patient", i.person_id),
        "for": ref("Patient", i.person_id),
        "authoredOn": instant(i.created_at),
        "lastModified": instant(i.updated_at),
    }
    if i.assignee_id is not None:
        out["owner"] = ref("Practitioner", i.assignee_id)
    if i.status in (IncidentStatus.RESOLVED, IncidentStatus.DISMISSED) and (i.outcome or i.dismissal_reason):
        out["statusReason"] = _text(i.outcome or i.dismissal_reason or "")
    notes = []
    if i.evidence is not None and (i.evidence.summary or i.evidence.signals):
        signals = "; ".join(f"{s.name}={s.value}" for s in i.evidence.signals)
        text = " — ".join(t for t in (i.evidence.summary, signals) if t)
        notes.append({"time": instant(i.last_flagged_at or i.created_at), "text": text})
    if notes:
        out["note"] = notes
    return out


_COMMUNICATION_STATUS = {
    DeliveryState.QUEUED: "preparation",
    DeliveryState.HELD: "on-hold",
    DeliveryState.SENT: "completed",
    DeliveryState.NO_DEVICES: "not-done",
    DeliveryState.SUPPRESSED: "not-done",
    DeliveryState.FAILED: "not-done",
    DeliveryState.EXPIRED: "not-done",
}


def recipient(user: User, person_id: str | None) -> Json:
    """Staff are Practitioners; a relative told about a person is the RelatedPerson of that person.

    A relative told about no one in particular has no resource of their own: a name is all there is.
    """
    if user.role is Role.FAMILY:
        if person_id is None:
            return {"display": user.display_name}
        return ref("RelatedPerson", related_person_id(person_id, user.id))
    return ref("Practitioner", user.id)


def communication(n: Notification, user: User) -> Json:
    """A push and in-app notification: only what the lock screen showed, never the incident's details."""
    out: Json = {
        "resourceType": "Communication",
        "id": n.id,
        "meta": _meta(n.acknowledged_at or n.read_at or n.push_at or n.created_at),
        "status": _COMMUNICATION_STATUS[n.state],
        "category": [{"coding": [_coding(codes.ALERT_KIND_SYSTEM, n.kind.value)]}],
        "priority": _PRIORITY[n.severity],
        "medium": [{"coding": [_coding(codes.DELIVERY_STATE_SYSTEM, n.state.value)], "text": "push and in-app"}],
        "recipient": [recipient(user, n.person_id)],
        "sender": ref("Organization", n.agency_id),
        "payload": [{"contentString": f"{n.title} — {n.body}"}],
    }
    if n.state is DeliveryState.SENT:
        out["sent"] = instant(n.push_at or n.created_at)
    if n.read_at is not None:
        out["received"] = instant(n.read_at)
    if n.person_id is not None:
        out["subject"] = ref("Patient", n.person_id)
    if n.subject_type == "Incident":
        out["about"] = [ref("Task", n.subject_id)]
    return out


_CALL_STATUS = {"WAITING": "preparation", "CALLED": "completed", "SKIPPED": "not-done", "FAILED": "not-done"}


def call_communication(n: Notification, user: User, state: str) -> Json:
    """The second channel (SMS and a voice call) for a CRITICAL notification nobody acknowledged in time."""
    out: Json = {
        "resourceType": "Communication",
        "id": f"{n.id}-call",
        "meta": _meta(n.created_at),
        "partOf": [ref("Communication", n.id)],
        "status": _CALL_STATUS.get(state, "unknown"),
        "category": [{"coding": [_coding(codes.ALERT_KIND_SYSTEM, n.kind.value)]}],
        "priority": _PRIORITY[n.severity],
        "medium": [{"coding": [_coding(codes.DELIVERY_STATE_SYSTEM, f"CALL_{state}")], "text": "SMS and voice call"}],
        "recipient": [recipient(user, n.person_id)],
        "sender": ref("Organization", n.agency_id),
        "payload": [{"contentString": f"{n.title} — {n.body}"}],
    }
    if n.person_id is not None:
        out["subject"] = ref("Patient", n.person_id)
    if n.subject_type == "Incident":
        out["about"] = [ref("Task", n.subject_id)]
    return out


# --- shifts ----------------------------------------------------------------------------------------

_APPOINTMENT_STATUS = {
    ShiftStatus.SCHEDULED: "booked",
    ShiftStatus.OPEN: "proposed",
    ShiftStatus.IN_PROGRESS: "checked-in",
    ShiftStatus.COMPLETED: "fulfilled",
    ShiftStatus.MISSED: "noshow",
    ShiftStatus.CANCELLED: "cancelled",
}


def appointment(s: Shift) -> Json:
    participants: list[Json] = [{"actor": ref("Patient", s.person_id), "status": "accepted"}]
    if s.caregiver_id is not None:
        participants.append({"actor": ref("Practitioner", s.caregiver_id), "status": "accepted"})
    else:
        participants.append({"type": [_text("caregiver")], "status": "needs-action"})
    out: Json = {
        "resourceType": "Appointment",
        "id": s.id,
        "meta": _meta(s.updated_at),
        "status": _APPOINTMENT_STATUS[s.status],
        "serviceCategory": [_text("home care visit")],
        "start": instant(s.start),
        "end": instant(s.end),
        "created": instant(s.created_at),
        "participant": participants,
    }
    if s.cancel_reason:
        out["cancelationReason"] = _text(s.cancel_reason)
    if s.notes:
        out["comment"] = s.notes
    return out


def _check(url: str, check: VisitCheck) -> Json:
    parts: list[Json] = [{"url": "at", "valueDateTime": instant(check.at)}]
    if check.location is not None:
        parts.append({"url": "latitude", "valueDecimal": check.location.latitude})
        parts.append({"url": "longitude", "valueDecimal": check.location.longitude})
    if check.distance_m is not None:
        parts.append({"url": "distanceFromHome", "valueDecimal": round(check.distance_m, 1)})
    parts.append({"url": "outsideGeofence", "valueBoolean": check.outside_geofence})
    return {"url": url, "extension": parts}


def encounter(s: Shift) -> Json | None:
    """The visit performed: only a shift someone checked in to has one."""
    if s.check_in is None:
        return None
    extensions = [_check(codes.CHECK_IN_EXTENSION, s.check_in)]
    period: Json = {"start": instant(s.check_in.at)}
    if s.check_out is not None:
        extensions.append(_check(codes.CHECK_OUT_EXTENSION, s.check_out))
        period["end"] = instant(s.check_out.at)
    out: Json = {
        "resourceType": "Encounter",
        "id": s.id,
        "meta": _meta(s.updated_at),
        "extension": extensions,
        "status": "finished" if s.check_out is not None else "in-progress",
        "class": _coding(codes.ACT_CODE, "HH", "home health"),
        "subject": ref("Patient", s.person_id),
        "appointment": [ref("Appointment", s.id)],
        "period": period,
    }
    if s.caregiver_id is not None:
        out["participant"] = [{"individual": ref("Practitioner", s.caregiver_id)}]
    return out


def ndjson_line(resource: Json) -> bytes:
    """One resource as a line of an NDJSON file (application/fhir+ndjson): compact, UTF-8, newline-ended."""
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
