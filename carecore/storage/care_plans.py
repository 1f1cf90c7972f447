"""The `care_plans` collection: one document per version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pymongo import ReturnDocument

from carecore.care_plans.models import (
    Acknowledgement,
    CarePlan,
    Goal,
    PlanContent,
    RiskProtocol,
    SupportTask,
    TaskSchedule,
)
from carecore.errors import ValidationFailed
from carecore.pagination import Page, PageRequest
from carecore.storage.codec import date_from_str, date_to_str, find_by_ids, insert_new, time_from_str, time_to_str
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release
from carecore.vocabulary import CarePlanStatus, IncidentType, TaskCategory

# An approval in progress: who approves, and when `finish_approvals` may take a crashed one over.
_APPROVAL_DONE: Document = {"approving_by": None, "approval_due_at": None}
_EDITABLE: Document = {"status": CarePlanStatus.DRAFT.value, "approval_due_at": None}


def content_to_doc(c: PlanContent) -> Document:
    return {
        "summary": c.summary,
        "review_date": date_to_str(c.review_date),
        "goals": [
            {"id": g.id, "description": g.description, "measure": g.measure, "target_date": date_to_str(g.target_date)}
            for g in c.goals
        ],
        "tasks": [
            {
                "id": t.id,
                "category": t.category.value,
                "title": t.title,
                "instructions": t.instructions,
                "critical": t.critical,
                "schedule": {
                    "times_of_day": [time_to_str(x) for x in t.schedule.times_of_day],
                    "every_hours": t.schedule.every_hours,
                    "weekdays": list(t.schedule.weekdays),
                },
            }
            for t in c.tasks
        ],
        "risk_protocols": [
            {"incident_type": r.incident_type.value, "instructions": r.instructions} for r in c.risk_protocols
        ],
    }


def content_from_doc(d: Document) -> PlanContent:
    return PlanContent(
        summary=d.get("summary", ""),
        review_date=date_from_str(d.get("review_date")),
        goals=tuple(
            Goal(g["id"], g["description"], g["measure"], date_from_str(g.get("target_date"))) for g in d["goals"]
        ),
        tasks=tuple(
            SupportTask(
                id=t["id"],
                category=TaskCategory(t["category"]),
                title=t["title"],
                instructions=t["instructions"],
                critical=t["critical"],
                schedule=TaskSchedule(
                    times_of_day=tuple(time_from_str(x) for x in t["schedule"]["times_of_day"]),
                    every_hours=t["schedule"]["every_hours"],
                    weekdays=tuple(t["schedule"]["weekdays"]),
                ),
            )
            for t in d["tasks"]
        ),
        risk_protocols=tuple(
            RiskProtocol(IncidentType(r["incident_type"]), r["instructions"]) for r in d["risk_protocols"]
        ),
    )


def plan_from_doc(d: Document) -> CarePlan:
    return CarePlan(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        version=d["version"],
        status=CarePlanStatus(d["status"]),
        based_on_id=d.get("based_on_id"),
        content=content_from_doc(d["content"]),
        revision=d["revision"],
        created_by=d["created_by"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        approved_by=d.get("approved_by"),
        approved_at=d.get("approved_at"),
        acknowledgements=tuple(Acknowledgement(a["user_id"], a["at"]) for a in d.get("acknowledgements", [])),
        approving_by=d.get("approving_by"),
    )


class CarePlanStore:
    def __init__(self, db: Db) -> None:
        self._c = db["care_plans"]

    async def get(self, plan_id: str) -> CarePlan | None:
        d = await self._c.find_one({"_id": plan_id})
        return plan_from_doc(d) if d else None

    async def get_many(self, ids: Iterable[str]) -> dict[str, CarePlan]:
        return await find_by_ids(self._c, ids, plan_from_doc)

    async def insert(self, plan: CarePlan) -> None:
        await insert_new(
            self._c,
            {
                "_id": plan.id,
                "agency_id": plan.agency_id,
                "person_id": plan.person_id,
                "version": plan.version,
                "status": plan.status.value,
                "based_on_id": plan.based_on_id,
                "content": content_to_doc(plan.content),
                "revision": plan.revision,
                "created_by": plan.created_by,
                "created_at": plan.created_at,
                "updated_at": plan.updated_at,
                "approved_by": plan.approved_by,
                "approved_at": plan.approved_at,
                "acknowledgements": [{"user_id": a.user_id, "at": a.at} for a in plan.acknowledgements],
            },
        )

    async def update_draft(
        self, plan_id: str, content: PlanContent, *, expected_revision: int, now: datetime
    ) -> CarePlan | None:
        """Compare-and-set on the revision of a DRAFT not being approved: None when it moved on or is not editable."""
        d = await self._c.find_one_and_update(
            {"_id": plan_id, **_EDITABLE, "revision": expected_revision},
            {"$set": {"content": content_to_doc(content), "updated_at": now}, "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return plan_from_doc(d) if d else None

    async def begin_approval(
        self, plan_id: str, *, expected_revision: int, by: str, due_at: datetime
    ) -> CarePlan | None:
        """The first write of an approval: from here the draft refuses edits. None when it is not that draft.

        The revision stays, so a retried approval (same expected revision) marks it again.
        """
        d = await self._c.find_one_and_update(
            {"_id": plan_id, "status": CarePlanStatus.DRAFT.value, "revision": expected_revision},
            {"$set": {"approving_by": by, "approval_due_at": due_at}},
            return_document=ReturnDocument.AFTER,
        )
        return plan_from_doc(d) if d else None

    async def abandon_approval(self, plan_id: str) -> None:
        """An approval that lost the pointer to another version: the draft is a plain draft again."""
        await self._c.update_one({"_id": plan_id, "status": CarePlanStatus.DRAFT.value}, {"$set": _APPROVAL_DONE})

    async def mark_active(self, plan_id: str, *, by: str, at: datetime) -> None:
        """The last write of an approval: the stored status follows the pointer and the mark goes."""
        await self._c.update_one(
            {"_id": plan_id, "status": CarePlanStatus.DRAFT.value},
            {
                "$set": {
                    "status": CarePlanStatus.ACTIVE.value,
                    "approved_by": by,
                    "approved_at": at,
                    "updated_at": at,
                    **_APPROVAL_DONE,
                },
                "$inc": {"revision": 1},
            },
        )

    async def mark_superseded(self, person_id: str, *, except_id: str, previous_id: str | None, at: datetime) -> None:
        """Every other stored ACTIVE version, and the one the pointer moved from even if a crash left its
        own approval half-done (stored DRAFT, marked as being approved), become SUPERSEDED."""
        replaced: list[Document] = [{"status": CarePlanStatus.ACTIVE.value}]
        if previous_id is not None:
            replaced.append({"_id": previous_id, "status": CarePlanStatus.DRAFT.value})
        await self._c.update_many(
            {"person_id": person_id, "_id": {"$ne": except_id}, "$or": replaced},
            {
                "$set": {"status": CarePlanStatus.SUPERSEDED.value, "updated_at": at, **_APPROVAL_DONE},
                "$inc": {"revision": 1},
            },
        )

    async def has_successor(self, plan_id: str) -> bool:
        """Whether a version was started from this one, which only happens while it holds the pointer."""
        return await self._c.find_one({"based_on_id": plan_id}, projection={"_id": 1}) is not None

    async def claim_stalled_approval(self, *, now: datetime, owner: str, lease: timedelta) -> CarePlan | None:
        """Claims an approval that should have finished by now (its process died)."""
        d = await claim_due(self._c, due_field="approval_due_at", now=now, owner=owner, lease=lease)
        return plan_from_doc(d) if d else None

    async def release_approval(self, plan_id: str, *, owner: str) -> None:
        await release(self._c, plan_id, owner=owner, changes={})

    async def archive_draft(self, plan_id: str, *, expected_revision: int, now: datetime) -> CarePlan | None:
        d = await self._c.find_one_and_update(
            {"_id": plan_id, **_EDITABLE, "revision": expected_revision},
            {"$set": {"status": CarePlanStatus.ARCHIVED.value, "updated_at": now}, "$inc": {"revision": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return plan_from_doc(d) if d else None

    async def add_acknowledgement(self, plan_id: str, ack: Acknowledgement) -> CarePlan | None:
        """Idempotent: a second acknowledgement by the same user keeps the first time."""
        await self._c.update_one(
            {"_id": plan_id, "acknowledgements.user_id": {"$ne": ack.user_id}},
            {"$push": {"acknowledgements": {"user_id": ack.user_id, "at": ack.at}}},
        )
        return await self.get(plan_id)

    async def list_for_person(
        self, person_id: str, page: PageRequest, statuses: Iterable[CarePlanStatus] | None = None
    ) -> Page[CarePlan]:
        """Newest version first."""
        query: Document = {"person_id": person_id}
        if statuses is not None:
            query["status"] = {"$in": [s.value for s in statuses]}
        if page.after is not None:
            query["version"] = {"$lt": _version_of(page.after)}
        cursor = self._c.find(query).sort("version", -1).limit(page.first + 1)
        plans = [plan_from_doc(d) async for d in cursor]
        return Page(edges=[(str(p.version), p) for p in plans[: page.first]], has_next_page=len(plans) > page.first)

    async def list_for_people(
        self, person_ids: Sequence[str], page: PageRequest, statuses: Iterable[CarePlanStatus] | None = None
    ) -> dict[str, Page[CarePlan]]:
        """`list_for_person` for many people in one round-trip; each page cut in memory (a person has
        few versions, and the local server has no `$unionWith` to limit each person's branch)."""
        if not person_ids:
            return {}
        query: Document = {"person_id": {"$in": list(person_ids)}}
        if statuses is not None:
            query["status"] = {"$in": [s.value for s in statuses]}
        if page.after is not None:
            query["version"] = {"$lt": _version_of(page.after)}
        found: dict[str, list[CarePlan]] = {p: [] for p in person_ids}
        async for d in self._c.find(query).batch_size(10_000):
            plan = plan_from_doc(d)
            found.setdefault(plan.person_id, []).append(plan)
        pages: dict[str, Page[CarePlan]] = {}
        for person_id, plans in found.items():
            plans.sort(key=lambda p: p.version, reverse=True)
            edges = [(str(p.version), p) for p in plans[: page.first]]
            pages[person_id] = Page(edges=edges, has_next_page=len(plans) > page.first)
        return pages


def _version_of(cursor: str) -> int:
    """A version list's cursor is the last version seen."""
    if not cursor.isdigit():
        raise ValidationFailed("Invalid cursor.", field="after")
    return int(cursor)
