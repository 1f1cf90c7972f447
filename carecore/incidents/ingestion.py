"""How incidents come in: AI flags (through GraphQL or the signed webhook, one core) and people's reports."""

from __future__ import annotations

import asyncio

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.errors import NotFound, ValidationFailed
from carecore.ids import id_for_key, is_valid_id, new_id
from carecore.incidents.access import can_report_for
from carecore.incidents.ai_services import service_of
from carecore.incidents.models import (
    AiService,
    Detection,
    FlagSubmission,
    HumanReport,
    Incident,
    IncidentSource,
    Opened,
)
from carecore.incidents.opening import Opening, open_incident
from carecore.incidents.policies import policy_for
from carecore.incidents.rules import base_severity, checked_flag, checked_report, needs_review, triage
from carecore.people.models import ExternalRef
from carecore.ports import Ports

_SOURCES = {Role.CAREGIVER: IncidentSource.CAREGIVER, Role.FAMILY: IncidentSource.FAMILY}


async def ingest_flag(ports: Ports, actor: Principal, service: AiService, flag: FlagSubmission) -> Opened:
    """Takes an AI flag: triaged by the agency's policy, idempotent by external id, merged within the window."""
    flag = checked_flag(flag)
    person, policy = await asyncio.gather(
        ports.store.people.by_external_ref(service.agency_id, ExternalRef(service.service, flag.person_ref)),
        policy_for(ports, service.agency_id),
    )
    if person is None:
        raise NotFound("Person", flag.person_ref, field="personRef")
    severity, in_review = triage(policy, flag, person)
    detection = Detection(service.service, flag.detector, flag.model_version, flag.confidence)
    opening = Opening(
        key=id_for_key(service.agency_id, "flag", service.service, flag.external_id),
        agency_id=service.agency_id,
        person_id=person.id,
        type=flag.type,
        severity=severity,
        in_review=in_review,
        source=IncidentSource.AI,
        summary=flag.evidence.summary,
        mergeable=True,
        detection=detection,
        evidence=flag.evidence,
    )
    return await open_incident(ports, opening, policy, actor)


async def flag_incident(ports: Ports, actor: Principal, flag: FlagSubmission) -> Opened:
    """The GraphQL door for AI services: the same core as the signed webhook."""
    return await ingest_flag(ports, actor, await service_of(ports, actor), flag)


async def report_incident(
    ports: Ports, actor: Principal, report: HumanReport, *, idempotency_key: str | None = None
) -> Incident:
    """A caregiver's, relative's or coordinator's report for a person they may see."""
    require_role(actor, Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)
    report = checked_report(report)
    person = await ports.store.people.get(report.person_id) if is_valid_id(report.person_id) else None
    if person is None or not can_report_for(actor, person):
        raise NotFound("Person", report.person_id, field="personId")
    await _check_accused(ports, actor, report)
    policy = await policy_for(ports, person.agency_id)
    severity = report.severity or base_severity(policy, report.type, person)
    key = id_for_key(actor.agency_id, actor.user_id, "report_incident", idempotency_key) if idempotency_key else None
    opening = Opening(
        key=key or new_id(),
        agency_id=person.agency_id,
        person_id=person.id,
        type=report.type,
        severity=severity,
        in_review=needs_review(policy, severity),
        source=_SOURCES.get(actor.role, IncidentSource.COORDINATOR),
        summary=report.summary,
        mergeable=False,
        reported_by=actor.user_id,
        safeguarding=report.safeguarding,
    )
    return (await open_incident(ports, opening, policy, actor)).incident


async def _check_accused(ports: Ports, actor: Principal, report: HumanReport) -> None:
    accused = report.safeguarding.alleged_perpetrator_id if report.safeguarding else None
    if accused is None:
        return
    field = "safeguarding.allegedPerpetratorId"
    user = await ports.store.users.get(accused) if is_valid_id(accused) else None
    if user is None or user.agency_id != actor.agency_id:
        raise NotFound("User", accused, field=field)
    if user.id == actor.user_id:
        raise ValidationFailed("You cannot name yourself as the alleged perpetrator.", field=field)
