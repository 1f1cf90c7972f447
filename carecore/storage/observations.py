"""The `observations` collection: every reading received, accepted or rejected, under a deterministic id.

The id derives from (source, sourceDataPointId), or from (source, person, metric, time, values) when the
device sends no id, so a reading sent twice is one document. `evaluate_due_at` is set while detection
has not finished: the request finishes it at once, or the `health-evaluations` job after a crash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from pymongo.errors import BulkWriteError

from carecore.health.models import (
    Component,
    Finding,
    Metric,
    Modality,
    Observation,
    ObservationStatus,
    Reading,
    Rejection,
    RejectReason,
    RuleFamily,
)
from carecore.pagination import Page, PageRequest
from carecore.storage.codec import encode_cursor, insert_new
from carecore.storage.database import Db, Document
from carecore.storage.incident_queries import _keyset
from carecore.storage.leases import claim_due
from carecore.vocabulary import Severity

DUPLICATE_KEY = 11000


def _finding_to_doc(f: Finding) -> Document:
    return {
        "family": f.family.value,
        "series": f.series,
        "severity": f.severity.value,
        "summary": f.summary,
        "confirmed": f.confirmed,
    }


def _finding_from_doc(d: Document) -> Finding:
    return Finding(RuleFamily(d["family"]), d["series"], Severity(d["severity"]), d["summary"], d["confirmed"])


def observation_to_doc(o: Observation) -> Document:
    r = o.reading
    return {
        "_id": o.id,
        "agency_id": o.agency_id,
        "person_id": r.person_id,
        "metric": r.metric.value,
        "components": [{"code": c.code, "value": c.value} for c in r.components],
        "unit": r.unit,
        "effective_at": r.effective_at,
        "modality": r.modality.value,
        "device_id": r.device_id,
        "source_data_point_id": r.source_data_point_id,
        "source": o.source,
        "received_at": o.received_at,
        "recorded_by": o.recorded_by,
        "status": o.status.value,
        "rejection": None
        if o.rejection is None
        else {"reason": o.rejection.reason.value, "detail": o.rejection.detail},
        "evaluated": o.evaluated,
        "findings": [_finding_to_doc(f) for f in o.findings],
        "incident_ids": list(o.incident_ids),
    }


def observation_from_doc(d: Document) -> Observation:
    reading = Reading(
        person_id=d["person_id"],
        metric=Metric(d["metric"]),
        components=tuple(Component(c["code"], c["value"]) for c in d["components"]),
        unit=d["unit"],
        effective_at=d["effective_at"],
        modality=Modality(d["modality"]),
        device_id=d.get("device_id"),
        source_data_point_id=d.get("source_data_point_id"),
    )
    rejection = d.get("rejection")
    return Observation(
        id=d["_id"],
        agency_id=d["agency_id"],
        reading=reading,
        status=ObservationStatus(d["status"]),
        received_at=d["received_at"],
        recorded_by=d["recorded_by"],
        rejection=None if not rejection else Rejection(RejectReason(rejection["reason"]), rejection["detail"]),
        evaluated=d.get("evaluated", False),
        findings=tuple(_finding_from_doc(f) for f in d.get("findings", [])),
        incident_ids=tuple(d.get("incident_ids", [])),
    )


class ObservationStore:
    def __init__(self, db: Db) -> None:
        self._c = db["observations"]

    async def insert(self, observation: Observation, *, evaluate_due_at: datetime | None) -> None:
        """AlreadyExists when this reading was received before."""
        doc = observation_to_doc(observation)
        doc["evaluate_due_at"] = evaluate_due_at
        await insert_new(self._c, doc)

    async def insert_many(self, observations: Sequence[tuple[Observation, datetime | None]]) -> set[int]:
        """Inserts in one write, each with its `evaluate_due_at`; returns the positions not stored because
        their reading was received before (or earlier in this batch)."""
        if not observations:
            return set()
        docs = [{**observation_to_doc(o), "evaluate_due_at": due} for o, due in observations]
        try:
            await self._c.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return {e["index"] for e in errors}
        return set()

    async def finish_quiet(self, observation_ids: Sequence[str]) -> None:
        """Detection ran on these and found nothing; one write for a request's worth."""
        if not observation_ids:
            return
        await self._c.update_many(
            {"_id": {"$in": list(observation_ids)}, "status": ObservationStatus.ACCEPTED.value},
            {"$set": {"evaluated": True, "evaluate_due_at": None, "findings": [], "incident_ids": []}},
        )

    async def get(self, observation_id: str) -> Observation | None:
        d = await self._c.find_one({"_id": observation_id})
        return observation_from_doc(d) if d else None

    async def accepted_between(
        self, agency_id: str, person_id: str, metric: Metric, start: datetime, end: datetime
    ) -> list[Observation]:
        """The person's accepted readings of `metric` in [start, end], oldest first."""
        query = {
            "agency_id": agency_id,
            "person_id": person_id,
            "metric": metric.value,
            "effective_at": {"$gte": start, "$lte": end},
            "status": ObservationStatus.ACCEPTED.value,
        }
        docs = await self._c.find(query).sort([("effective_at", 1), ("_id", 1)]).to_list()
        return [observation_from_doc(d) for d in docs]

    async def accepted_around(
        self, agency_id: str, spans: Mapping[tuple[str, Metric], tuple[datetime, datetime]]
    ) -> dict[tuple[str, Metric], list[Observation]]:
        """Per (person, metric), the accepted readings in its [start, end], oldest first: a batch's
        histories in one query, each clause on the (agency, person, metric, effective_at) index."""
        found: dict[tuple[str, Metric], list[Observation]] = {key: [] for key in spans}
        if not spans:
            return found
        clauses = [
            {"person_id": person_id, "metric": metric.value, "effective_at": {"$gte": start, "$lte": end}}
            for (person_id, metric), (start, end) in spans.items()
        ]
        query = {"agency_id": agency_id, "status": ObservationStatus.ACCEPTED.value, "$or": clauses}
        by_key: dict[tuple[str, Metric], list[Observation]] = defaultdict(list)
        async for doc in self._c.find(query).sort([("effective_at", 1), ("_id", 1)]):
            o = observation_from_doc(doc)
            by_key[(o.person_id, o.reading.metric)].append(o)
        found.update(by_key)
        return found

    async def accepted_for_person(
        self, agency_id: str, person_id: str, start: datetime, end: datetime
    ) -> list[Observation]:
        """The person's accepted readings of every metric in [start, end], oldest first."""
        query = {
            "agency_id": agency_id,
            "person_id": person_id,
            "effective_at": {"$gte": start, "$lte": end},
            "status": ObservationStatus.ACCEPTED.value,
        }
        docs = await self._c.find(query).sort([("effective_at", 1), ("_id", 1)]).to_list()
        return [observation_from_doc(d) for d in docs]

    async def first_accepted(self, agency_id: str, person_ids: Iterable[str]) -> dict[tuple[str, Metric], datetime]:
        """`first_accepted_at` of every metric of these people, in one read."""
        pipeline: list[Document] = [
            {
                "$match": {
                    "agency_id": agency_id,
                    "person_id": {"$in": list(set(person_ids))},
                    "status": ObservationStatus.ACCEPTED.value,
                }
            },
            {"$group": {"_id": {"person": "$person_id", "metric": "$metric"}, "first": {"$min": "$effective_at"}}},
        ]
        cursor = await self._c.aggregate(pipeline)
        return {(d["_id"]["person"], Metric(d["_id"]["metric"])): d["first"] async for d in cursor}

    async def first_accepted_at(self, agency_id: str, person_id: str, metric: Metric) -> datetime | None:
        query = {
            "agency_id": agency_id,
            "person_id": person_id,
            "metric": metric.value,
            "status": ObservationStatus.ACCEPTED.value,
        }
        d = await self._c.find_one(query, sort=[("effective_at", 1)], projection={"effective_at": 1})
        return d["effective_at"] if d else None

    async def reject_as_duplicate(self, observation_id: str, detail: str) -> bool:
        """Accepted → rejected as a duplicate; False when it was not accepted (any more)."""
        rejection = {"reason": RejectReason.DUPLICATE.value, "detail": detail}
        result = await self._c.update_one(
            {"_id": observation_id, "status": ObservationStatus.ACCEPTED.value},
            {
                "$set": {
                    "status": ObservationStatus.REJECTED.value,
                    "rejection": rejection,
                    "evaluated": True,
                    "evaluate_due_at": None,
                }
            },
        )
        return result.modified_count == 1

    async def finish(self, observation_id: str, findings: tuple[Finding, ...], incident_ids: tuple[str, ...]) -> None:
        """Detection is done and its incidents are open; idempotent, so a racing evaluation may repeat it."""
        await self._c.update_one(
            {"_id": observation_id},
            {
                "$set": {
                    "evaluated": True,
                    "evaluate_due_at": None,
                    "findings": [_finding_to_doc(f) for f in findings],
                    "incident_ids": list(incident_ids),
                }
            },
        )

    async def measured_days(self, agency_id: str, start: datetime, end: datetime) -> set[tuple[str, str]]:
        """(person id, UTC day as YYYY-MM-DD) with an accepted reading in [start, end): who was monitored when."""
        pipeline: list[Document] = [
            {
                "$match": {
                    "agency_id": agency_id,
                    "status": ObservationStatus.ACCEPTED.value,
                    "effective_at": {"$gte": start, "$lt": end},
                }
            },
            {
                "$group": {
                    "_id": {
                        "person": "$person_id",
                        "day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$effective_at"}},
                    }
                }
            },
        ]
        cursor = await self._c.aggregate(pipeline)
        return {(d["_id"]["person"], d["_id"]["day"]) async for d in cursor}

    async def claim_unevaluated(self, now: datetime, owner: str, lease: timedelta) -> Observation | None:
        d = await claim_due(self._c, due_field="evaluate_due_at", now=now, owner=owner, lease=lease)
        return observation_from_doc(d) if d else None

    async def page_for_person(
        self, agency_id: str, person_id: str, page: PageRequest, metric: Metric | None = None
    ) -> Page[Observation]:
        """Every reading of the person, accepted or not, newest measurement first."""
        query: Document = {"agency_id": agency_id, "person_id": person_id}
        if metric is not None:
            query["metric"] = metric.value
        query = {**query, **_keyset("effective_at", page.after, descending=True)}
        docs = await self._c.find(query).sort([("effective_at", -1), ("_id", -1)]).limit(page.first + 1).to_list()
        found = [observation_from_doc(d) for d in docs]
        edges = [(encode_cursor(o.reading.effective_at.isoformat(), o.id), o) for o in found[: page.first]]
        return Page(edges=edges, has_next_page=len(found) > page.first)
