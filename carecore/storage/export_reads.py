"""Whole-agency cursors for the FHIR bulk export: one document at a time, never a list in memory.

Each read is one scan of an index that starts with the agency, and `since` narrows to what changed
after a time (FHIR `_since`), on the field that records changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import TypeVar

from carecore.alerts.models import Notification
from carecore.care_plans.models import CarePlan
from carecore.health.models import Observation, ObservationStatus
from carecore.incidents.models import Incident
from carecore.people.models import Person
from carecore.shifts.models import Shift
from carecore.storage.care_plans import plan_from_doc
from carecore.storage.database import Db, Document
from carecore.storage.incident_codec import incident_from_doc
from carecore.storage.notifications import notification_from_doc
from carecore.storage.observations import observation_from_doc
from carecore.storage.people import person_from_doc
from carecore.storage.shift_codec import shift_from_doc
from carecore.storage.users import user_from_doc
from carecore.users.models import User

T = TypeVar("T")
BATCH = 500  # documents per round trip; memory holds one batch, whatever the agency's size


class ExportReads:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def _stream(
        self,
        collection: str,
        query: Document,
        changed_field: str,
        since: datetime | None,
        decode: Callable[[Document], T],
    ) -> AsyncIterator[T]:
        if since is not None:
            query = {**query, changed_field: {"$gt": since}}
        # No sort: the agency's index serves the scan, and the order is stable for a given database;
        # an export that restarts a type rewrites it whole, so it needs no resumable order.
        async for d in self._db[collection].find(query, batch_size=BATCH):
            yield decode(d)

    def users(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[User]:
        return self._stream("users", {"agency_id": agency_id}, "updated_at", since, user_from_doc)

    def people(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[Person]:
        return self._stream("people", {"agency_id": agency_id}, "updated_at", since, person_from_doc)

    def care_plans(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[CarePlan]:
        return self._stream("care_plans", {"agency_id": agency_id}, "updated_at", since, plan_from_doc)

    def accepted_observations(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[Observation]:
        query = {"agency_id": agency_id, "status": ObservationStatus.ACCEPTED.value}
        return self._stream("observations", query, "received_at", since, observation_from_doc)

    def incidents(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[Incident]:
        return self._stream("incidents", {"agency_id": agency_id}, "updated_at", since, incident_from_doc)

    def notifications(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[Notification]:
        return self._stream("notifications", {"agency_id": agency_id}, "created_at", since, notification_from_doc)

    def shifts(self, agency_id: str, since: datetime | None = None) -> AsyncIterator[Shift]:
        return self._stream("shifts", {"agency_id": agency_id}, "updated_at", since, shift_from_doc)

    async def callouts(self, agency_id: str) -> AsyncIterator[tuple[str, str]]:
        """(notification id, state) of every second-channel call-out of the agency (SMS and voice)."""
        query = {"agency_id": agency_id}
        async for d in self._db["callouts"].find(query, {"state": 1}, batch_size=BATCH):
            yield d["_id"], d["state"]

    async def raw_observations(self, agency_id: str) -> AsyncIterator[Document]:
        """The bare documents, undecoded: the benchmark's yardstick for what the export adds."""
        query = {"agency_id": agency_id, "status": ObservationStatus.ACCEPTED.value}
        async for d in self._db["observations"].find(query, batch_size=BATCH):
            yield d
