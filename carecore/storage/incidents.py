"""The `incidents` collection: merging flags, conditional lifecycle changes and the escalation ladder's claims.

Every change is one conditional find_one_and_update that also appends its timeline entry and bumps
`revision`, so two people acting at once never both win, and no change exists without its entry.
A sparse unique `merge_key` (agency, person, type) marks the one incident repeated flags merge into.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from carecore.errors import AlreadyExists
from carecore.incidents.models import (
    CLOSED,
    HEALTH_DETECTOR_SERVICE,
    LIVE,
    UNACKNOWLEDGED,
    Detection,
    Escalation,
    Evidence,
    Incident,
    IncidentStatus,
    MergeKeyTaken,
    SeverityRaise,
    TimelineAction,
    TimelineEntry,
    Verdict,
)
from carecore.storage.codec import insert_new, is_duplicate_id
from carecore.storage.database import Db, Document
from carecore.storage.incident_codec import (
    detection_to_doc,
    entry_to_doc,
    evidence_to_doc,
    incident_from_doc,
    incident_to_doc,
)
from carecore.storage.incident_queries import IncidentQueries
from carecore.storage.leases import claim_due
from carecore.vocabulary import Severity

RECENT_FLAGS = 50  # flag ids kept on the incident, so a resumed flag can tell it was already merged


def _values(statuses: Iterable[IncidentStatus]) -> dict[str, list[str]]:
    return {"$in": [s.value for s in statuses]}


def _escalation_fields(e: Escalation) -> Document:
    return {
        "escalation_round": e.round,
        "escalation_step": e.step,
        "escalation_started_at": e.started_at,
        "escalation_due_at": e.due_at,
    }


def _merge_update(flag_id: str, at: datetime, detection: Detection | None, evidence: Evidence | None) -> Document:
    """Counts one more flag: the latest evidence and detection, its detector, and its id kept on the incident."""
    changes: Document = {"evidence": evidence_to_doc(evidence), "updated_at": at}
    update: Document = {
        "$set": changes,
        "$max": {"last_flagged_at": at},
        "$inc": {"flag_count": 1, "revision": 1},
        "$push": {"recent_flag_ids": {"$each": [flag_id], "$slice": -RECENT_FLAGS}},
    }
    if detection is not None:
        changes["detection"] = detection_to_doc(detection)
        update["$addToSet"] = {"detectors": {"detector": detection.detector, "model_version": detection.model_version}}
    return update


class IncidentStore(IncidentQueries):
    def __init__(self, db: Db) -> None:
        super().__init__(db["incidents"])

    async def insert(
        self,
        incident: Incident,
        *,
        merge_key: str | None = None,
        flag_id: str | None = None,
        claim: tuple[str, datetime] | None = None,
    ) -> None:
        """AlreadyExists when the id was taken (a retry); MergeKeyTaken when another incident holds the key.

        `claim` (owner, lease until) inserts the incident with its due ladder step already claimed, as
        `claim_step` would leave it: the insert is the claim, one command fewer on the way to the first alert.
        """
        doc = incident_to_doc(incident)
        doc["recent_flag_ids"] = [flag_id] if flag_id else []
        if claim is not None:
            doc["lease_owner"], doc["lease_until"] = claim
        if merge_key is not None:
            doc["merge_key"] = merge_key  # sparse: absent, not null, on incidents nothing merges into
        try:
            await insert_new(self._c, doc)
        except DuplicateKeyError as exc:
            if "merge_key" in str(exc):
                raise MergeKeyTaken(merge_key) from exc
            if is_duplicate_id(exc):
                raise AlreadyExists(incident.id) from exc
            raise

    async def get(self, incident_id: str) -> Incident | None:
        d = await self._c.find_one({"_id": incident_id})
        return incident_from_doc(d) if d else None

    async def with_timeline_entry(self, entry_id: str) -> Incident | None:
        """The incident holding the timeline entry an idempotency key made, if any."""
        d = await self._c.find_one({"timeline.id": entry_id})
        return incident_from_doc(d) if d else None

    async def with_flag(self, flag_id: str) -> Incident | None:
        d = await self._c.find_one({"recent_flag_ids": flag_id})
        return incident_from_doc(d) if d else None

    async def merge_flag(
        self,
        merge_key: str,
        *,
        since: datetime,
        flag_id: str,
        at: datetime,
        detection: Detection | None,
        evidence: Evidence | None,
        severity: Severity,
        in_review: bool,
    ) -> Incident | None:
        """Counts a repeated flag into the incident of `merge_key` flagged since `since`, if the flag needs
        no raise there: the incident is at least `severity`, and out of review unless the flag is for review.

        None when there is no such incident; `merging_into` and `merge_flag_raising` handle the rest.
        """
        query: Document = {
            "merge_key": merge_key,
            "last_flagged_at": {"$gte": since},
            "recent_flag_ids": {"$ne": flag_id},
            "severity_rank": {"$gte": severity.rank},
        }
        if not in_review:
            query["status"] = {"$ne": IncidentStatus.IN_REVIEW.value}
        d = await self._c.find_one_and_update(
            query, _merge_update(flag_id, at, detection, evidence), return_document=ReturnDocument.AFTER
        )
        return incident_from_doc(d) if d else None

    async def merging_into(self, merge_key: str, *, since: datetime) -> Incident | None:
        """The incident that flags of `merge_key` merge into, if it was flagged since `since`."""
        d = await self._c.find_one({"merge_key": merge_key, "last_flagged_at": {"$gte": since}})
        return incident_from_doc(d) if d else None

    async def merge_flag_raising(
        self,
        current: Incident,
        *,
        since: datetime,
        flag_id: str,
        at: datetime,
        detection: Detection | None,
        evidence: Evidence | None,
        raised: SeverityRaise,
    ) -> Incident | None:
        """Counts the flag in and raises the incident in one write, so no crash can keep the one without
        the other; a compare-and-set on status and severity. None when either changed since `current`."""
        update = _merge_update(flag_id, at, detection, evidence)
        changes: Document = {
            "severity": raised.severity.value,
            "severity_rank": raised.severity.rank,
            "status": raised.entry.status.value,
            "report_due_at": raised.report_due,
        }
        if raised.ladder is not None:
            changes.update(_escalation_fields(raised.ladder))
        if raised.entry.status in UNACKNOWLEDGED:  # a raise that reopened an acknowledged incident
            changes.update({"acknowledged_by": None, "acknowledged_at": None})
        update["$set"].update(changes)
        update["$push"]["timeline"] = entry_to_doc(raised.entry)
        d = await self._c.find_one_and_update(
            {
                "_id": current.id,
                "merge_key": {"$exists": True},
                "last_flagged_at": {"$gte": since},
                "recent_flag_ids": {"$ne": flag_id},
                "status": current.status.value,
                "severity_rank": current.severity.rank,
            },
            update,
            return_document=ReturnDocument.AFTER,
        )
        return incident_from_doc(d) if d else None

    async def dispositions(
        self, agency_id: str, service: str, start: datetime, end: datetime
    ) -> list[tuple[str, bool | None, bool]]:
        """(detector, actionable, closed by its repeat) of the incidents `service` opened in [start, end):
        the basis of its precision."""
        query = {"agency_id": agency_id, "detection.service": service, "created_at": {"$gte": start, "$lt": end}}
        docs = await self._c.find(query, {"detection.detector": 1, "actionable": 1, "repeat_answered": 1}).to_list()
        return [(d["detection"]["detector"], d.get("actionable"), bool(d.get("repeat_answered"))) for d in docs]

    async def retire_merge_key(self, merge_key: str, *, flagged_before: datetime) -> None:
        """The window has passed: later flags start a new incident, this one stays as it is."""
        await self._c.update_one(
            {"merge_key": merge_key, "last_flagged_at": {"$lt": flagged_before}}, {"$unset": {"merge_key": ""}}
        )

    async def _change(
        self,
        incident_id: str,
        *,
        statuses: Iterable[IncidentStatus],
        entry: TimelineEntry,
        changes: Document,
        extra: Document | None = None,
        stop_merging: bool = False,
    ) -> Incident | None:
        """One conditional change with its timeline entry; None when the incident is not in `statuses`."""
        update: Document = {
            "$set": {**changes, "updated_at": entry.at},
            "$inc": {"revision": 1},
            "$push": {"timeline": entry_to_doc(entry)},
        }
        if stop_merging:
            update["$unset"] = {"merge_key": ""}
        d = await self._c.find_one_and_update(
            {"_id": incident_id, "status": _values(statuses), **(extra or {})},
            update,
            return_document=ReturnDocument.AFTER,
        )
        return incident_from_doc(d) if d else None

    async def acknowledge(self, incident_id: str, entry: TimelineEntry) -> Incident | None:
        changes = {
            "status": IncidentStatus.ACKNOWLEDGED.value,
            "acknowledged_by": entry.actor_id,
            "acknowledged_at": entry.at,
            "escalation_due_at": None,
        }
        return await self._change(incident_id, statuses=UNACKNOWLEDGED, entry=entry, changes=changes)

    async def append(
        self, incident_id: str, entry: TimelineEntry, statuses: Iterable[IncidentStatus]
    ) -> Incident | None:
        """A timeline entry that changes nothing else: a note, a guardian's acknowledgement; an entry with
        an id is appended once."""
        extra = {"timeline.id": {"$ne": entry.id}} if entry.id is not None else None
        return await self._change(incident_id, statuses=statuses, entry=entry, changes={}, extra=extra)

    async def confirm(
        self,
        incident_id: str,
        severity: Severity,
        *,
        entry: TimelineEntry,
        ladder: Escalation,
        report_due: datetime | None,
    ) -> Incident | None:
        changes = {
            "status": IncidentStatus.OPEN.value,
            "severity": severity.value,
            "severity_rank": severity.rank,
            "verdict": Verdict.CONFIRMED.value,
            "report_due_at": report_due,
            **_escalation_fields(ladder),
        }
        return await self._change(incident_id, statuses=[IncidentStatus.IN_REVIEW], entry=entry, changes=changes)

    async def resolve(
        self, incident_id: str, outcome: str, entry: TimelineEntry, *, actionable: bool | None = None
    ) -> Incident | None:
        changes = {
            "status": IncidentStatus.RESOLVED.value,
            "outcome": outcome,
            "actionable": actionable,
            "resolved_at": entry.at,
            "verdict": Verdict.CONFIRMED.value,
            "escalation_due_at": None,
        }
        statuses = [s for s in LIVE if s is not IncidentStatus.IN_REVIEW]
        return await self._change(incident_id, statuses=statuses, entry=entry, changes=changes, stop_merging=True)

    async def close_unconfirmed(
        self, incident_id: str, *, detector: str, observation_id: str, outcome: str, entry: TimelineEntry
    ) -> Incident | None:
        """The system closes a repeat request its repeat answered, only while nobody has taken it up: still
        the health rule's HIGH request, unacknowledged, unassigned, never confirmed or reopened by a person,
        and still standing on `observation_id`'s reading (a later reading merged in is a request of its own).
        It stays apart in the rule's record (`repeat_answered`): a request, not an alert. None otherwise."""
        changes = {
            "status": IncidentStatus.RESOLVED.value,
            "outcome": outcome,
            "actionable": False,  # nobody had anything to do
            "repeat_answered": True,
            "resolved_at": entry.at,
            "escalation_due_at": None,
        }
        human = [
            TimelineAction.ACKNOWLEDGED,
            TimelineAction.ASSIGNED,
            TimelineAction.CONFIRMED,
            TimelineAction.REOPENED,
        ]
        extra: Document = {
            "severity": Severity.HIGH.value,
            "assignee_id": None,
            "detection.service": HEALTH_DETECTOR_SERVICE,
            "detection.detector": detector,
            "evidence.signals": {"$elemMatch": {"name": "observationId", "value": observation_id}},
            "timeline.action": {"$nin": [a.value for a in human]},
        }
        return await self._change(
            incident_id, statuses=UNACKNOWLEDGED, entry=entry, changes=changes, extra=extra, stop_merging=True
        )

    async def dismiss(self, incident_id: str, reason: str, entry: TimelineEntry) -> Incident | None:
        changes = {
            "status": IncidentStatus.DISMISSED.value,
            "dismissal_reason": reason,
            "verdict": Verdict.DISMISSED.value,
            "actionable": False,  # a false alarm: nobody had anything to do
            "escalation_due_at": None,
        }
        return await self._change(incident_id, statuses=LIVE, entry=entry, changes=changes, stop_merging=True)

    async def reopen(self, incident_id: str, entry: TimelineEntry, ladder: Escalation) -> Incident | None:
        """Back to OPEN with a new ladder round; it no longer takes merged flags (another may by now)."""
        changes = {
            "status": IncidentStatus.OPEN.value,
            "verdict": None,
            "actionable": None,
            "outcome": None,
            "resolved_at": None,
            "dismissal_reason": None,
            "repeat_answered": False,
            "acknowledged_by": None,
            "acknowledged_at": None,
            **_escalation_fields(ladder),
        }
        return await self._change(incident_id, statuses=CLOSED, entry=entry, changes=changes)

    async def assign(self, incident_id: str, assignee_id: str, entry: TimelineEntry) -> Incident | None:
        return await self._change(incident_id, statuses=LIVE, entry=entry, changes={"assignee_id": assignee_id})

    async def mark_reported(self, incident_id: str, reference: str | None, entry: TimelineEntry) -> Incident | None:
        changes = {"reported_at": entry.at, "report_reference": reference}
        statuses = [s for s in IncidentStatus if s is not IncidentStatus.IN_REVIEW]
        return await self._change(
            incident_id, statuses=statuses, entry=entry, changes=changes, extra={"reported_at": None}
        )

    # --- the escalation ladder ------------------------------------------------------------------------

    async def claim_step(
        self, *, now: datetime, owner: str, lease: timedelta, incident_id: str | None = None
    ) -> Incident | None:
        """Claims the earliest due ladder step of an unacknowledged incident (or of `incident_id`, whose
        owner names the step, so a retry takes back the claim its dead first attempt left)."""
        extra: Document = {"status": _values(UNACKNOWLEDGED)}
        if incident_id is not None:
            extra["_id"] = incident_id
        d = await claim_due(
            self._c,
            due_field="escalation_due_at",
            now=now,
            owner=owner,
            lease=lease,
            extra=extra,
            retake=incident_id is not None,
        )
        return incident_from_doc(d) if d else None

    async def finish_step(
        self, incident: Incident, *, owner: str, next_due: datetime | None, entry: TimelineEntry
    ) -> Incident | None:
        """Moves the ladder on past the claimed step, if the claim is still ours and nobody acknowledged meanwhile."""
        e = incident.escalation
        d = await self._c.find_one_and_update(
            {
                "_id": incident.id,
                "lease_owner": owner,
                "status": _values(UNACKNOWLEDGED),
                "escalation_round": e.round,
                "escalation_step": e.step,
            },
            {
                "$set": {
                    "escalation_step": e.step + 1,
                    "escalation_due_at": next_due,
                    "status": entry.status.value,
                    "lease_until": None,
                    "lease_owner": None,
                    "updated_at": entry.at,
                },
                "$inc": {"revision": 1},
                "$push": {"timeline": entry_to_doc(entry)},
            },
            return_document=ReturnDocument.AFTER,
        )
        return incident_from_doc(d) if d else None

    async def abandon_step(self, incident_id: str, *, owner: str) -> None:
        """Lets go of a claim whose step no longer applies (acknowledged, or the ladder restarted)."""
        await self._c.update_one(
            {"_id": incident_id, "lease_owner": owner}, {"$set": {"lease_until": None, "lease_owner": None}}
        )

    async def stop_ladder(self, incident_id: str, *, owner: str) -> None:
        """Ends a claimed ladder that has no step left (the agency shortened it since it started)."""
        await self._c.update_one(
            {"_id": incident_id, "lease_owner": owner},
            {"$set": {"escalation_due_at": None, "lease_until": None, "lease_owner": None}},
        )
