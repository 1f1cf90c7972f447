"""Opening an incident, or counting a repeated flag into the open one, safely under retries and races.

For flags (AI and SYSTEM) the order of writes is what makes a crash harmless:
1. the flag record, under an id derived from its sender's external id: a second copy stops here;
2. the incident: merged into the one holding the (agency, person, type) merge key if it was flagged
   within the window, else inserted under an id derived from the flag, taking the merge key; of
   racers, the unique merge key lets one insert and sends the others back to merge;
3. the flag record's link to the incident.
A retry that finds the record without its link resumes at step 2: the incident id derived from the
flag and the flag ids kept on the incident tell whether step 2 already happened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from carecore.access.principal import Principal
from carecore.audit.service import audited
from carecore.errors import AlreadyExists
from carecore.ids import id_for_key
from carecore.incidents.escalation import restarted, run_step_now
from carecore.incidents.events import publish_change
from carecore.incidents.models import (
    UNACKNOWLEDGED,
    Detection,
    Escalation,
    Evidence,
    FlagRecord,
    Incident,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    MergeKeyTaken,
    Opened,
    Outcome,
    Safeguarding,
    Severity,
    TimelineAction,
    TimelineEntry,
)
from carecore.incidents.policy import IncidentPolicy
from carecore.incidents.rules import earliest, report_due_at
from carecore.ports import Ports

MERGE_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Opening:
    """What opens an incident; `key` identifies the flag or report, so a retry finds the first attempt."""

    key: str
    agency_id: str
    person_id: str
    type: IncidentType
    severity: Severity
    in_review: bool
    source: IncidentSource
    summary: str
    mergeable: bool  # repeated flags merge; people's reports never do, each says something of its own
    reported_by: str | None = None
    detection: Detection | None = None
    evidence: Evidence | None = None
    safeguarding: Safeguarding | None = None
    related_shift_id: str | None = None

    @property
    def incident_id(self) -> str:
        return id_for_key("incident", self.key)

    @property
    def merge_key(self) -> str:
        return f"{self.agency_id}|{self.person_id}|{self.type.value}"


async def open_incident(ports: Ports, opening: Opening, policy: IncidentPolicy, actor: Principal | None) -> Opened:
    """Opens or merges, runs the ladder's first step at once, then links, announces and audits it.

    The first step comes before the rest: it is what wakes someone, and everything after it is
    either idempotent or found again by a retry (the incident id derives from the flag).
    """
    now = ports.clock.now()
    # Audited write-ahead under the id this flag would open; a merge names the incident it joined after.
    async with audited(
        ports, actor, "incident.open", "Incident", [opening.incident_id], agency_id=opening.agency_id
    ) as audit:
        if opening.mergeable:
            opened, linked = await _open_flag(ports, opening, policy, now)
        else:
            opened, linked = await _create(ports, opening, policy, now, merge_key=None), True
        incident = opened.incident
        due = incident.escalation.due_at
        ran = incident
        if incident.status in UNACKNOWLEDGED and due is not None and due <= now:
            ran = await run_step_now(ports, incident, policy, announce=False)
        effects = []
        if not linked:
            effects.append(ports.store.incident_flags.link(opening.key, incident.id))
        if opened.outcome is not Outcome.DUPLICATE or ran.revision != incident.revision:
            effects.append(publish_change(ports, ran, created=opened.outcome is Outcome.CREATED))
        await asyncio.gather(*effects)
        audit.landed(incident.id)
    return Opened(ran, opened.outcome)


async def _open_flag(ports: Ports, opening: Opening, policy: IncidentPolicy, now: datetime) -> tuple[Opened, bool]:
    """The incident the flag opened or joined, and whether the flag record already points at it."""
    record = FlagRecord(
        id=opening.key,
        agency_id=opening.agency_id,
        person_id=opening.person_id,
        source=opening.source,
        received_at=now,
        detection=opening.detection,
        evidence=opening.evidence,
    )
    try:
        await ports.store.incident_flags.insert(record)
        fresh = True
    except AlreadyExists:
        fresh = False
        earlier = await ports.store.incident_flags.get(opening.key)
        linked = await ports.store.incidents.get(earlier.incident_id) if earlier and earlier.incident_id else None
        if linked is not None:
            return Opened(linked, Outcome.DUPLICATE), True
    return await _merge_or_create(ports, opening, policy, now, fresh=fresh), False


async def _already_taken(ports: Ports, opening: Opening) -> Incident | None:
    return await ports.store.incidents.with_flag(opening.key) or await ports.store.incidents.get(opening.incident_id)


async def _merge_or_create(
    ports: Ports, opening: Opening, policy: IncidentPolicy, now: datetime, *, fresh: bool
) -> Opened:
    if not fresh and (taken := await _already_taken(ports, opening)) is not None:
        return Opened(taken, Outcome.DUPLICATE)
    incidents = ports.store.incidents
    since = now - policy.merge_window
    for _ in range(MERGE_ATTEMPTS):
        merged = await incidents.merge_flag(
            opening.merge_key,
            since=since,
            flag_id=opening.key,
            at=now,
            detection=opening.detection,
            evidence=opening.evidence,
        )
        if merged is not None:
            return Opened(await _raise_if_needed(ports, merged, opening, policy, now), Outcome.MERGED)
        try:
            return await _create(ports, opening, policy, now, merge_key=opening.merge_key)
        except MergeKeyTaken:
            # Another incident holds the key: flagged since we looked (merge into it next time round),
            # or flagged before the window (retire its key, so the next insert can take it).
            if (taken := await _already_taken(ports, opening)) is not None:
                return Opened(taken, Outcome.DUPLICATE)
            await incidents.retire_merge_key(opening.merge_key, flagged_before=since)
    raise RuntimeError(f"flag {opening.key} could neither merge nor open an incident")


async def _create(
    ports: Ports, opening: Opening, policy: IncidentPolicy, now: datetime, *, merge_key: str | None
) -> Opened:
    status = IncidentStatus.IN_REVIEW if opening.in_review else IncidentStatus.OPEN
    created = TimelineEntry(now, TimelineAction.CREATED, opening.reported_by, status, detail=opening.severity.value)
    timeline = [created]
    if opening.in_review:
        timeline.append(TimelineEntry(now, TimelineAction.QUEUED_FOR_REVIEW, None, status))
    incident = Incident(
        id=opening.incident_id,
        agency_id=opening.agency_id,
        person_id=opening.person_id,
        type=opening.type,
        severity=opening.severity,
        status=status,
        source=opening.source,
        summary=opening.summary,
        created_at=now,
        updated_at=now,
        reported_by=opening.reported_by,
        detection=opening.detection,
        detectors=((opening.detection.detector, opening.detection.model_version),) if opening.detection else (),
        evidence=opening.evidence,
        first_flagged_at=now,
        last_flagged_at=now,
        safeguarding=opening.safeguarding,
        related_shift_id=opening.related_shift_id,
        report_due_at=None
        if opening.in_review
        else report_due_at(policy, opening.type, opening.severity, now, opening.safeguarding),
        escalation=Escalation() if opening.in_review else restarted(Escalation(), policy.ladder(opening.severity), now),
        timeline=tuple(timeline),
    )
    try:
        await ports.store.incidents.insert(
            incident, merge_key=merge_key, flag_id=opening.key if opening.mergeable else None
        )
    except AlreadyExists:
        existing = await ports.store.incidents.get(incident.id)
        if existing is None:
            raise
        return Opened(existing, Outcome.DUPLICATE)
    return Opened(incident, Outcome.CREATED)


async def _raise_if_needed(
    ports: Ports, current: Incident, opening: Opening, policy: IncidentPolicy, now: datetime
) -> Incident:
    """A merged flag that is more urgent raises the severity, or takes a flag out of review.

    An unacknowledged incident restarts its ladder under the new severity (its first step reaches
    people the lower one did not); an acknowledged one keeps its responder and only records the change.
    """
    for _ in range(3):  # merges racing with us change neither status nor severity, so this rarely repeats
        promote = current.status is IncidentStatus.IN_REVIEW and not opening.in_review
        if not promote and opening.severity.rank <= current.severity.rank:
            return current
        severity = max(current.severity, opening.severity, key=lambda s: s.rank)
        status = IncidentStatus.OPEN if promote else current.status
        ladder = None
        if status in UNACKNOWLEDGED:
            ladder = restarted(current.escalation, policy.ladder(severity), now)
        detail = f"{current.severity.value} → {severity.value}" + (", out of review" if promote else "")
        entry = TimelineEntry(now, TimelineAction.SEVERITY_RAISED, None, status, detail=detail)
        due = report_due_at(policy, current.type, severity, current.created_at, current.safeguarding)
        raised = await ports.store.incidents.raise_severity(
            current, severity, entry=entry, ladder=ladder, report_due=earliest(current.report_due_at, due)
        )
        if raised is not None:
            return raised
        latest = await ports.store.incidents.get(current.id)
        if latest is None:
            return current
        current = latest
    return current
