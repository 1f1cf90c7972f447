"""Reading incidents: scoped lists with keyset pages, the review queue, reports due and detector figures."""

from __future__ import annotations

import builtins
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from carecore.errors import ValidationFailed
from carecore.incidents.models import DetectorStats, Incident, IncidentFilter, IncidentScope, IncidentStatus, Verdict
from carecore.pagination import Page, PageRequest
from carecore.storage.codec import EARLIEST, decode_cursor, encode_cursor
from carecore.storage.database import Document
from carecore.storage.incident_codec import incident_from_doc
from carecore.vocabulary import IncidentSource


def _keyset(field: str, cursor: str | None, *, descending: bool) -> Document:
    """Keyset condition for documents sorted by (datetime field, _id)."""
    if cursor is None:
        return {}
    value, object_id = decode_cursor(cursor)
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed("Invalid cursor.", field="after") from exc
    op = "$lt" if descending else "$gt"
    return {"$or": [{field: {op: at}}, {field: at, "_id": {op: object_id}}]}


def scope_query(scope: IncidentScope) -> Document:
    query: Document = {
        "agency_id": scope.agency_id,
        "safeguarding.alleged_perpetrator_id": {"$ne": scope.viewer_id},
    }
    if scope.person_ids is not None:
        query["person_id"] = {"$in": list(scope.person_ids)}
    if not scope.include_safeguarding:
        query["safeguarding"] = None
    return query


def filter_query(f: IncidentFilter) -> Document:
    query: Document = {}
    if f.person_id is not None:
        query["person_id"] = f.person_id
    for field, values in (("status", f.statuses), ("type", f.types), ("severity", f.severities)):
        if values:
            query[field] = {"$in": [v.value for v in values]}
    if f.assignee_id is not None:
        query["assignee_id"] = f.assignee_id
    return query


class IncidentQueries:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._c = collection

    async def get_many(self, ids: Iterable[str]) -> dict[str, Incident]:
        return {d["_id"]: incident_from_doc(d) async for d in self._c.find({"_id": {"$in": list(set(ids))}})}

    async def _page(self, query: Document, field: str, page: PageRequest, *, descending: bool) -> Page[Incident]:
        direction = -1 if descending else 1
        query = {**query, **_keyset(field, page.after, descending=descending)}
        cursor = self._c.find(query).sort([(field, direction), ("_id", direction)]).limit(page.first + 1)
        found = [(d[field], incident_from_doc(d)) async for d in cursor]
        edges = [(encode_cursor(at.isoformat(), i.id), i) for at, i in found[: page.first]]
        return Page(edges=edges, has_next_page=len(found) > page.first)

    async def list(
        self, scope: IncidentScope, f: IncidentFilter, page: PageRequest, *, updated_since: datetime | None = None
    ) -> Page[Incident]:
        """Newest first; with `updated_since`, only those changed after it, oldest change first (a delta)."""
        query = {**scope_query(scope), **filter_query(f)}
        if scope.person_ids is not None and f.person_id is not None and f.person_id not in scope.person_ids:
            return Page(edges=[], has_next_page=False)
        if updated_since is not None:
            changed = {**query, "updated_at": {"$gt": updated_since}}
            return await self._page(changed, "updated_at", page, descending=False)
        return await self._page(query, "created_at", page, descending=True)

    async def review_queue(self, scope: IncidentScope, page: PageRequest) -> Page[Incident]:
        """Oldest first: a flag waiting for review should not wait longest because newer ones keep coming."""
        query = {**scope_query(scope), "status": IncidentStatus.IN_REVIEW.value}
        return await self._page(query, "created_at", page, descending=False)

    async def reports_due(self, scope: IncidentScope, page: PageRequest) -> Page[Incident]:
        """Unreported incidents with a deadline, the soonest (or most overdue) first."""
        query = {
            **scope_query(scope),
            "report_due_at": {"$gte": EARLIEST},  # a range, not `$ne: None`: the index skips the rest
            "reported_at": None,
            "status": {"$nin": [IncidentStatus.IN_REVIEW.value, IncidentStatus.DISMISSED.value]},
        }
        return await self._page(query, "report_due_at", page, descending=False)

    async def detector_stats(self, agency_id: str) -> builtins.list[DetectorStats]:
        """Confirmed, dismissed and pending AI incidents per (detector, model version)."""
        cursor = await self._c.aggregate(
            [
                {"$match": {"agency_id": agency_id, "source": IncidentSource.AI.value}},
                {"$unwind": "$detectors"},
                {
                    "$group": {
                        "_id": {"d": "$detectors.detector", "m": "$detectors.model_version", "v": "$verdict"},
                        "n": {"$sum": 1},
                    }
                },
            ]
        )
        counts: dict[tuple[str, str], dict[str | None, int]] = defaultdict(dict)
        async for row in cursor:
            key = row["_id"]
            counts[(key["d"], key["m"])][key.get("v")] = row["n"]
        return [
            DetectorStats(
                detector=d,
                model_version=m,
                confirmed=c.get(Verdict.CONFIRMED.value, 0),
                dismissed=c.get(Verdict.DISMISSED.value, 0),
                pending=sum(n for v, n in c.items() if v is None),
            )
            for (d, m), c in sorted(counts.items())
        ]
