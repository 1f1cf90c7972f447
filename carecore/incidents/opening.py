"""Opening an incident, or counting a repeated flag into the open one, safely under retries and races.

For flags (AI and SYSTEM) the order of writes is what makes a crash harmless:
1. the flag record, under an id derived from its sender's external id: a second copy stops here;
2. the incident: merged into the one holding the (agency, person, type) merge key if it was flagged
   within the window, else inserted under an id derived from the flag, taking the merge key; of
   racers, the unique merge key lets one insert and sends the others back to merge;
3. the ladder's first step and the event (the audit entry is written ahead of everything);
4. the flag record's link to the incident, last: a linked flag has nothing left to do.
A retry that finds the record without its link resumes at step 2: the incident id derived from the
flag and the flag ids kept on the incident tell whether step 2 already happened. A merged flag more
urgent than its incident raises it in the same write that counts it in, so a flag id on an incident
means its severity and review decision are applied too. A sender that never retries is covered by
the sweep (carecore.incidents.stranded_flags), which finishes unlinked records through this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from carecore.access.principal import Principal
from carecore.audit.service import audited
from carecore.errors import AlreadyExists
from carecore.ids import id_for_key
from carecore.incidents.escalation import LEASE, inline_owner, restarted, run_step_now
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
    SeverityRaise,
    TimelineAction,
    TimelineEntry,
)
from carecore.incidents.policy import IncidentPolicy
from carecore.incidents.rules import earliest, report_due_at
from carecore.ports import Ports

MERGE_ATTEMPTS = 8
# How long an unlinked flag record is left to its own request before the sweep finishes it.
FLAG_GRACE = timedelta(seconds=10)


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
    # Narrows what merges (e.g. a health rule family: a crisis and a slow trend are two incidents) and
    # how long it keeps merging; None: every flag of the type, within the policy's merge window.
    merge_scope: str | None = None
    merge_window: timedelta | None = None
    # A raise reaches the new severity's ladder even when the incident was acknowledged at the lower one
    # (health: "please repeat" acknowledged, then the repeat confirms a crisis the caregiver alone cannot hold).
    raise_reopens: bool = False

    @property
    def incident_id(self) -> str:
        return id_for_key("incident", self.key)

    @property
    def merge_key(self) -> str:
        scope = f"|{self.merge_scope}" if self.merge_scope else ""
        return f"{self.agency_id}|{self.person_id}|{self.type.value}{scope}"

    def flag_record(self, received_at: datetime) -> FlagRecord:
        return FlagRecord(
            id=self.key,
            agency_id=self.agency_id,
            person_id=self.person_id,
            source=self.source,
            received_at=received_at,
            type=self.type,
            severity=self.severity,
            in_review=self.in_review,
            summary=self.summary,
            related_shift_id=self.related_shift_id,
            detection=self.detection,
            evidence=self.evidence,
            merge_scope=self.merge_scope,
            merge_window=self.merge_window,
        )

    @classmethod
    def of_flag(cls, flag: FlagRecord) -> Opening:
        """The opening of a stored flag, as triaged when it was received."""
        return cls(
            key=flag.id,
            agency_id=flag.agency_id,
            person_id=flag.person_id,
            type=flag.type,
            severity=flag.severity,
            in_review=flag.in_review,
            source=flag.source,
            summary=flag.summary,
            mergeable=True,
            detection=flag.detection,
            evidence=flag.evidence,
            related_shift_id=flag.related_shift_id,
            merge_scope=flag.merge_scope,
            merge_window=flag.merge_window,
        )


async def open_incident(ports: Ports, opening: Opening, policy: IncidentPolicy, actor: Principal | None) -> Opened:
    """Opens or merges (audited ahead), runs the ladder's first step at once, announces it, links the flag.

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
            # A new incident was inserted with its first step claimed (_create); a found one is claimed here.
            claimed = opened.outcome is Outcome.CREATED
            ran = await run_step_now(ports, incident, policy, announce=False, claimed=claimed)
        if opened.outcome is not Outcome.DUPLICATE or ran.revision != incident.revision:
            await publish_change(ports, ran, created=opened.outcome is Outcome.CREATED)
        if not linked:  # last: until it is linked, a retry or the sweep repeats what came before
            await ports.store.incident_flags.link(opening.key, incident.id)
        audit.landed(incident.id)
    return Opened(ran, opened.outcome)


async def _open_flag(ports: Ports, opening: Opening, policy: IncidentPolicy, now: datetime) -> tuple[Opened, bool]:
    """The incident the flag opened or joined, and whether the flag record already points at it."""
    try:
        await ports.store.incident_flags.insert(opening.flag_record(now), finish_due_at=now + FLAG_GRACE)
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
    since = now - (opening.merge_window or policy.merge_window)
    for _ in range(MERGE_ATTEMPTS):
        merged = await incidents.merge_flag(
            opening.merge_key,
            since=since,
            flag_id=opening.key,
            at=now,
            detection=opening.detection,
            evidence=opening.evidence,
            severity=opening.severity,
            in_review=opening.in_review,
        )
        if merged is not None:  # the common case: no more urgent than its incident, one write
            return Opened(merged, Outcome.MERGED)
        try:
            return await _create(ports, opening, policy, now, merge_key=opening.merge_key)
        except MergeKeyTaken:
            pass
        # Another incident holds the key: one this flag outranks (merge and raise it), one flagged since we
        # looked or that took this very flag (look again), or one flagged before the window (retire its
        # key, so the next insert can take it).
        current = await incidents.merging_into(opening.merge_key, since=since)
        if current is not None and (raised := await _merge_raising(ports, current, opening, policy, now, since)):
            return Opened(raised, Outcome.MERGED)
        if (taken := await _already_taken(ports, opening)) is not None:
            return Opened(taken, Outcome.DUPLICATE)
        if current is None:
            await incidents.retire_merge_key(opening.merge_key, flagged_before=since)
    raise RuntimeError(f"flag {opening.key} could neither merge nor open an incident")


async def _merge_raising(
    ports: Ports, current: Incident, opening: Opening, policy: IncidentPolicy, now: datetime, since: datetime
) -> Incident | None:
    """Counts in a flag more urgent than `current` and raises it, in one write: a crash keeps both or neither.

    None when the flag needs no raise there, or the incident changed since `current` was read.
    """
    raised = _raise_for(current, opening, policy, now)
    if raised is None:
        return None
    return await ports.store.incidents.merge_flag_raising(
        current,
        since=since,
        flag_id=opening.key,
        at=now,
        detection=opening.detection,
        evidence=opening.evidence,
        raised=raised,
    )


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
    due = incident.escalation.due_at
    # Its first step is due at once: the insert claims it for this request, as run_step_now would.
    # If the request dies, the sender's retry is the same owner and takes it back; else it lapses to the worker.
    claim = (inline_owner(incident), now + LEASE) if due is not None and due <= now else None
    try:
        await ports.store.incidents.insert(
            incident, merge_key=merge_key, flag_id=opening.key if opening.mergeable else None, claim=claim
        )
    except AlreadyExists:
        existing = await ports.store.incidents.get(incident.id)
        if existing is None:
            raise
        return Opened(existing, Outcome.DUPLICATE)
    return Opened(incident, Outcome.CREATED)


def _raise_for(current: Incident, opening: Opening, policy: IncidentPolicy, now: datetime) -> SeverityRaise | None:
    """What a merged flag more urgent than `current` changes, or a flag not for review; None if nothing.

    An unacknowledged incident restarts its ladder under the new severity (its first step reaches
    people the lower one did not); an acknowledged one keeps its responder and only records the change,
    unless the opening asks that a raise reopen it (`raise_reopens`): then it is unacknowledged again.
    """
    promote = current.status is IncidentStatus.IN_REVIEW and not opening.in_review
    if not promote and opening.severity.rank <= current.severity.rank:
        return None
    severity = max(current.severity, opening.severity, key=lambda s: s.rank)
    reopen = opening.raise_reopens and current.status is IncidentStatus.ACKNOWLEDGED
    status = IncidentStatus.OPEN if promote or reopen else current.status
    ladder = restarted(current.escalation, policy.ladder(severity), now) if status in UNACKNOWLEDGED else None
    detail = f"{current.severity.value} → {severity.value}" + (", out of review" if promote else "")
    entry = TimelineEntry(now, TimelineAction.SEVERITY_RAISED, None, status, detail=detail)
    due = report_due_at(policy, current.type, severity, current.created_at, current.safeguarding)
    return SeverityRaise(severity, entry, ladder, earliest(current.report_due_at, due))
