"""The `alert_requests` collection: accepted requests waiting to be routed to recipients."""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.alerts.models import AlertRequest
from carecore.storage.codec import insert_new
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release
from carecore.vocabulary import AlertKind, Audience, Severity


def alert_request_from_doc(d: Document) -> AlertRequest:
    return AlertRequest(
        id=d["_id"],
        agency_id=d["agency_id"],
        kind=AlertKind(d["kind"]),
        severity=Severity(d["severity"]),
        subject_type=d["subject_type"],
        subject_id=d["subject_id"],
        audiences=tuple(Audience(a) for a in d["audiences"]),
        created_at=d["created_at"],
        person_id=d.get("person_id"),
        user_ids=tuple(d.get("user_ids", [])),
        exclude_user_ids=tuple(d.get("exclude_user_ids", [])),
    )


class AlertRequestStore:
    def __init__(self, db: Db) -> None:
        self._c = db["alert_requests"]

    async def insert(self, r: AlertRequest) -> None:
        await insert_new(
            self._c,
            {
                "_id": r.id,
                "agency_id": r.agency_id,
                "kind": r.kind.value,
                "severity": r.severity.value,
                "subject_type": r.subject_type,
                "subject_id": r.subject_id,
                "person_id": r.person_id,
                "audiences": [a.value for a in r.audiences],
                "user_ids": list(r.user_ids),
                "exclude_user_ids": list(r.exclude_user_ids),
                "created_at": r.created_at,
                # The router claims due requests with a lease (carecore.storage.leases).
                "due_at": r.created_at,
                "routed_at": None,
            },
        )

    async def get(self, request_id: str) -> AlertRequest | None:
        d = await self._c.find_one({"_id": request_id})
        return alert_request_from_doc(d) if d else None

    async def for_subject(self, subject_id: str) -> list[AlertRequest]:
        return [alert_request_from_doc(d) async for d in self._c.find({"subject_id": subject_id}).sort("created_at", 1)]

    async def claim_due(self, *, now: datetime, owner: str, lease: timedelta) -> AlertRequest | None:
        """Claims the oldest request still to be routed; a crashed router's claim lapses with its lease."""
        d = await claim_due(self._c, due_field="due_at", now=now, owner=owner, lease=lease, extra={"routed_at": None})
        return alert_request_from_doc(d) if d else None

    async def mark_routed(self, request_id: str, *, owner: str, now: datetime) -> bool:
        return await release(self._c, request_id, owner=owner, changes={"routed_at": now, "due_at": None})
