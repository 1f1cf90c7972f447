"""The `shifts` collection: one document per shift, changed only by conditional updates.

Besides the shift itself a document carries the placement protocol's `hold` and `booking_token`
(carecore.shifts.placement) and the due times of its background checks (`late_check_at`,
`missed_check_at`, `offer_due_at`, `task_check_at`, `announce_due_at`, `visit_flags_at`, claimed with
leases; `visit_flags` names the records whose exceptions are still to be told: carecore.shifts.visit_flags).
How a shift becomes a document and back is carecore/storage/shift_codec.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pymongo import ReturnDocument

from carecore.errors import ValidationFailed
from carecore.pagination import Page, PageRequest
from carecore.shifts.models import (
    ANNOUNCE_AFTER,
    OPEN_SWAP,
    HistoryEntry,
    Hold,
    ProgressNote,
    QualificationOverride,
    Shift,
    ShiftFilter,
    ShiftStatus,
    SwapRequest,
    SwapStatus,
    TaskLogEntry,
    TaskOutcome,
    VisitCheck,
)
from carecore.shifts.rules import MAX_SHIFT
from carecore.storage.codec import decode_cursor, encode_cursor, insert_new
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release
from carecore.storage.shift_codec import (
    NO_CHECKS,
    SUMMARY,
    check_doc,
    check_times,
    history_doc,
    hold_doc,
    override_doc,
    shift_from_doc,
    shift_to_doc,
    summary_from_doc,
    swap_doc,
    task_entry_doc,
)

WAITING = [ShiftStatus.SCHEDULED.value, ShiftStatus.OPEN.value]


def _flag_due(flag: str | None, now: datetime) -> Document:
    """Makes the telling of a visit record's exception due, in the update that records it."""
    return {"visit_flags_at": now} if flag is not None else {}


def _flag_named(flag: str | None) -> Document:
    return {"$addToSet": {"visit_flags": flag}} if flag is not None else {}


def _details(required: tuple[str, ...] | None, notes: str | None) -> Document:
    """What an edit may change besides the caregiver and times; None leaves a field as it is."""
    found: Document = {}
    if required is not None:
        found["required_qualifications"] = list(required)
    if notes is not None:
        found["notes"] = notes
    return found


def _free_of_holds(lapsed_before: datetime) -> Document:
    return {"$or": [{"hold": None}, {"hold.at": {"$lt": lapsed_before}}]}


class ShiftStore:
    def __init__(self, db: Db) -> None:
        self._c = db["shifts"]

    async def get(self, shift_id: str) -> Shift | None:
        d = await self._c.find_one({"_id": shift_id})
        return shift_from_doc(d) if d else None

    async def with_task_entry(self, entry_id: str) -> Shift | None:
        """The shift holding the task log entry an idempotency key made, if any."""
        d = await self._c.find_one({"task_log.id": entry_id})
        return shift_from_doc(d) if d else None

    async def with_progress_note(self, note_id: str) -> Shift | None:
        """The shift holding the progress note an idempotency key made, if any."""
        d = await self._c.find_one({"progress_notes.id": note_id})
        return shift_from_doc(d) if d else None

    async def get_many(self, ids: Iterable[str]) -> dict[str, Shift]:
        return {d["_id"]: shift_from_doc(d) async for d in self._c.find({"_id": {"$in": list(set(ids))}})}

    async def insert(self, shift: Shift, *, offer_unplaced_after: timedelta | None = None) -> None:
        await insert_new(self._c, shift_to_doc(shift, offer_unplaced_after))

    async def _update(self, query: Document, update: Document) -> Shift | None:
        d = await self._c.find_one_and_update(query, update, return_document=ReturnDocument.AFTER)
        return shift_from_doc(d) if d else None

    # --- the placement protocol -------------------------------------------------------------------

    async def take_hold(
        self,
        shift_id: str,
        hold: Hold,
        *,
        statuses: Sequence[ShiftStatus],
        lapsed_before: datetime,
        expected_revision: int | None = None,
        expected_caregiver: tuple[str | None] | None = None,
        expected_swap: tuple[str, SwapStatus] | None = None,
    ) -> Shift | None:
        """Reserves the shift for one placement: None when its state moved on or another placement holds it."""
        query: Document = {
            "_id": shift_id,
            "status": {"$in": [s.value for s in statuses]},
            **_free_of_holds(lapsed_before),
        }
        if expected_revision is not None:
            query["revision"] = expected_revision
        if expected_caregiver is not None:
            query["caregiver_id"] = expected_caregiver[0]
        if expected_swap is not None:
            query.update({"swap.id": expected_swap[0], "swap.status": expected_swap[1].value})
        return await self._update(query, {"$set": {"hold": hold_doc(hold)}})

    async def drop_hold(self, shift_id: str, token: str) -> bool:
        result = await self._c.update_one({"_id": shift_id, "hold.token": token}, {"$set": {"hold": None}})
        return result.modified_count == 1

    async def break_lapsed_hold(self, shift_id: str, token: str, lapsed_before: datetime) -> bool:
        """Ends a placement that stopped midway; once broken it can never commit."""
        result = await self._c.update_one(
            {"_id": shift_id, "hold.token": token, "hold.at": {"$lt": lapsed_before}}, {"$set": {"hold": None}}
        )
        return result.modified_count == 1

    async def commit_hold(
        self,
        shift_id: str,
        token: str,
        *,
        history: HistoryEntry,
        now: datetime,
        override: QualificationOverride | None = None,
        swap: SwapRequest | None = None,
        required: tuple[str, ...] | None = None,
        notes: str | None = None,
    ) -> Shift | None:
        """The commit point of a placement: the shift takes the held caregiver and times."""
        d = await self._c.find_one({"_id": shift_id, "hold.token": token})
        if d is None:
            return None
        hold = d["hold"]
        changes: Document = {
            "caregiver_id": hold["caregiver_id"],
            "status": ShiftStatus.SCHEDULED.value,
            "start": hold["start"],
            "end": hold["end"],
            "booking_token": token,
            "hold": None,
            "updated_at": now,
            "qualification_override": override_doc(override),
            "late_at": None,
            "missed_at": None,
            "offer_due_at": None,
            "announce_due_at": now + ANNOUNCE_AFTER,
            # A replacement placed after the start gets its own ten and thirty minutes.
            **check_times(max(hold["start"], now)),
            **_details(required, notes),
        }
        if swap is not None:
            changes["swap"] = swap_doc(swap)
        return await self._update(
            {"_id": shift_id, "hold.token": token, "status": {"$in": [*WAITING, ShiftStatus.MISSED.value]}},
            {"$set": changes, "$push": {"history": history_doc(history)}, "$inc": {"revision": 1}},
        )

    async def delete_unplaced(self, shift_id: str, token: str) -> bool:
        """Removes a new shift whose first placement was refused; nobody else can have touched it."""
        result = await self._c.delete_one({"_id": shift_id, "hold.token": token, "revision": 1})
        return result.deleted_count == 1

    async def release_caregiver(
        self,
        shift_id: str,
        *,
        expected_caregiver: str | None,
        statuses: Sequence[ShiftStatus],
        to_status: ShiftStatus,
        history: HistoryEntry,
        now: datetime,
        lapsed_before: datetime,
        expected_revision: int | None = None,
        offer: bool = False,
        cancel_reason: str | None = None,
    ) -> Shift | None:
        """Opens or cancels a shift: it confirms no booking any more (and an open swap lapses with it)."""
        query: Document = {
            "_id": shift_id,
            "caregiver_id": expected_caregiver,
            "status": {"$in": [s.value for s in statuses]},
            **_free_of_holds(lapsed_before),
        }
        if expected_revision is not None:
            query["revision"] = expected_revision
        changes: Document = {
            "status": to_status.value,
            "booking_token": None,
            "hold": None,
            "updated_at": now,
            "announce_due_at": now + ANNOUNCE_AFTER,
        }
        if to_status is ShiftStatus.OPEN:
            changes.update(caregiver_id=None, offer_due_at=now if offer else None)
        else:
            changes.update(NO_CHECKS, cancel_reason=cancel_reason)
        return await self._update(
            query, {"$set": changes, "$push": {"history": history_doc(history)}, "$inc": {"revision": 1}}
        )

    async def move_open(
        self,
        shift_id: str,
        *,
        expected_revision: int,
        start: datetime,
        end: datetime,
        required: tuple[str, ...],
        notes: str,
        history: HistoryEntry,
        now: datetime,
        lapsed_before: datetime,
    ) -> Shift | None:
        """Edits an OPEN shift, which books nobody: a conditional update is all it takes."""
        return await self._update(
            {
                "_id": shift_id,
                "revision": expected_revision,
                "status": ShiftStatus.OPEN.value,
                "caregiver_id": None,
                **_free_of_holds(lapsed_before),
            },
            {
                "$set": {
                    "start": start,
                    "end": end,
                    **_details(required, notes),
                    **check_times(max(start, now)),
                    "updated_at": now,
                },
                "$push": {"history": history_doc(history)},
                "$inc": {"revision": 1},
            },
        )

    async def request_offers(self, shift_id: str, now: datetime) -> None:
        await self._c.update_one(
            {"_id": shift_id, "status": ShiftStatus.OPEN.value, "caregiver_id": None}, {"$set": {"offer_due_at": now}}
        )

    # --- the visit ----------------------------------------------------------------------------------

    async def check_in(
        self,
        shift_id: str,
        caregiver_id: str,
        check: VisitCheck,
        plan_id: str | None,
        now: datetime,
        *,
        flag: str | None = None,
    ) -> Shift | None:
        """SCHEDULED (or MISSED, for a late arrival) to IN_PROGRESS, once; ends any unfinished placement.
        `flag` names an exception of the check to tell coordinators of, due in the same update."""
        return await self._update(
            {
                "_id": shift_id,
                "caregiver_id": caregiver_id,
                "status": {"$in": [ShiftStatus.SCHEDULED.value, ShiftStatus.MISSED.value]},
                "check_in": None,
            },
            {
                "$set": {
                    "status": ShiftStatus.IN_PROGRESS.value,
                    "check_in": check_doc(check),
                    "plan_id": plan_id,
                    "hold": None,
                    "updated_at": now,
                    **NO_CHECKS,
                    "task_check_at": now,  # the check works out when the first critical task falls due
                    **_flag_due(flag, now),
                },
                **_flag_named(flag),
                "$inc": {"revision": 1},
            },
        )

    async def check_out(
        self,
        shift_id: str,
        caregiver_id: str,
        check: VisitCheck,
        *,
        handover_note: str | None,
        unlogged_critical_reason: str | None,
        task_log_size: int,
        now: datetime,
        flag: str | None = None,
    ) -> Shift | None:
        """IN_PROGRESS to COMPLETED, provided no task was logged since the caller looked at the log.
        `flag` names an exception of the check to tell coordinators of, due in the same update."""
        return await self._update(
            {
                "_id": shift_id,
                "caregiver_id": caregiver_id,
                "status": ShiftStatus.IN_PROGRESS.value,
                "task_log": {"$size": task_log_size},
            },
            {
                "$set": {
                    "status": ShiftStatus.COMPLETED.value,
                    "check_out": check_doc(check),
                    "handover_note": handover_note,
                    "unlogged_critical_reason": unlogged_critical_reason,
                    "updated_at": now,
                    "task_check_at": now,  # every critical task left unlogged is missed now
                    **_flag_due(flag, now),
                },
                **_flag_named(flag),
                "$inc": {"revision": 1},
            },
        )

    async def add_task_entry(
        self, shift_id: str, caregiver_id: str, entry: TaskLogEntry, *, now: datetime, flag: str | None = None
    ) -> Shift | None:
        """Appends once per entry id, so a retried request logs one entry. A task refused or not done
        makes the critical-task check due in the same update, and so does `flag` (an exception of the
        entry's timing) its telling, so no crash can lose either. `now` (the server's time, not the
        entry's, which an offline phone sets) is when the shift changed."""
        changes: Document = {"updated_at": now, **_flag_due(flag, now)}
        if entry.outcome is not TaskOutcome.DONE:
            changes["task_check_at"] = now
        await self._c.update_one(
            {
                "_id": shift_id,
                "caregiver_id": caregiver_id,
                "status": ShiftStatus.IN_PROGRESS.value,
                "task_log.id": {"$ne": entry.id},
            },
            {
                "$push": {"task_log": task_entry_doc(entry)},
                "$set": changes,
                **_flag_named(flag),
                "$inc": {"revision": 1},
            },
        )
        return await self.get(shift_id)

    async def add_progress_note(
        self, shift_id: str, caregiver_id: str, note: ProgressNote, statuses: Sequence[ShiftStatus]
    ) -> Shift | None:
        await self._c.update_one(
            {
                "_id": shift_id,
                "caregiver_id": caregiver_id,
                "status": {"$in": [s.value for s in statuses]},
                "progress_notes.id": {"$ne": note.id},
            },
            {
                "$push": {
                    "progress_notes": {
                        "id": note.id,
                        "text": note.text,
                        "at": note.at,
                        "by": note.by,
                        "key_hash": note.key_hash,
                    }
                },
                "$set": {"updated_at": note.at},
                "$inc": {"revision": 1},
            },
        )
        return await self.get(shift_id)

    # --- swaps -----------------------------------------------------------------------------------------

    async def put_swap(
        self,
        shift_id: str,
        swap: SwapRequest,
        *,
        expected_swap: tuple[str, SwapStatus] | None,
        caregiver_id: str,
        now: datetime,
    ) -> Shift | None:
        """Writes the swap if the shift is still the caregiver's and its swap is the one the caller saw
        (None: no open swap at all)."""
        query: Document = {"_id": shift_id, "caregiver_id": caregiver_id, "status": ShiftStatus.SCHEDULED.value}
        if expected_swap is None:
            query["swap.status"] = {"$nin": [s.value for s in OPEN_SWAP]}
        else:
            query.update({"swap.id": expected_swap[0], "swap.status": expected_swap[1].value})
        return await self._update(query, {"$set": {"swap": swap_doc(swap), "updated_at": now}, "$inc": {"revision": 1}})

    # --- background checks -------------------------------------------------------------------------

    async def claim_due_check(self, due_field: str, *, now: datetime, owner: str, lease: timedelta) -> Shift | None:
        d = await claim_due(self._c, due_field=due_field, now=now, owner=owner, lease=lease)
        return shift_from_doc(d) if d else None

    async def claim_check_of(
        self, shift_id: str, due_field: str, *, now: datetime, owner: str, lease: timedelta
    ) -> Shift | None:
        d = await claim_due(self._c, due_field=due_field, now=now, owner=owner, lease=lease, extra={"_id": shift_id})
        return shift_from_doc(d) if d else None

    async def finish_check(self, shift_id: str, due_field: str, *, owner: str) -> bool:
        return await release(self._c, shift_id, owner=owner, changes={due_field: None})

    async def finish_check_of(
        self, shift_id: str, due_field: str, *, owner: str, revision: int, next_at: datetime | None, now: datetime
    ) -> bool:
        """Sets the check's next due time if the shift is still the one the check read; a shift that
        changed meanwhile (a task logged, the visit ended, another change) is due again at once instead."""
        lease: Document = {"lease_until": None, "lease_owner": None}
        same = await self._c.update_one(
            {"_id": shift_id, "lease_owner": owner, "revision": revision}, {"$set": {due_field: next_at, **lease}}
        )
        if same.modified_count == 1:
            return True
        return await release(self._c, shift_id, owner=owner, changes={due_field: now})

    async def claim_visit_flags(
        self, *, now: datetime, owner: str, lease: timedelta, shift_id: str | None = None
    ) -> tuple[Shift, tuple[str, ...]] | None:
        """The earliest shift (or the given one) with exceptions due to be told, and which they are."""
        extra = {"_id": shift_id} if shift_id is not None else None
        d = await claim_due(self._c, due_field="visit_flags_at", now=now, owner=owner, lease=lease, extra=extra)
        return (shift_from_doc(d), tuple(d.get("visit_flags") or ())) if d else None

    async def finish_visit_flags(self, shift_id: str, told: Sequence[str], *, owner: str, now: datetime) -> bool:
        """Clears what the claim told; one named meanwhile (the list only grows while claimed) stays due."""
        lease: Document = {"lease_until": None, "lease_owner": None}
        done = await self._c.update_one(
            {"_id": shift_id, "lease_owner": owner, "visit_flags": {"$size": len(told)}},
            {"$set": {"visit_flags": [], "visit_flags_at": None, **lease}},
        )
        if done.modified_count == 1:
            return True
        rest = await self._c.update_one(
            {"_id": shift_id, "lease_owner": owner},
            {"$pullAll": {"visit_flags": list(told)}, "$set": {"visit_flags_at": now, **lease}},
        )
        return rest.modified_count == 1

    async def mark_late(self, shift_id: str, now: datetime) -> Shift | None:
        return await self._update(
            {"_id": shift_id, "status": {"$in": WAITING}, "check_in": None, "late_at": None},
            {"$set": {"late_at": now, "updated_at": now}, "$inc": {"revision": 1}},
        )

    async def mark_missed(self, shift_id: str, now: datetime) -> Shift | None:
        return await self._update(
            {"_id": shift_id, "status": {"$in": WAITING}, "check_in": None},
            {
                "$set": {"status": ShiftStatus.MISSED.value, "missed_at": now, "hold": None, "updated_at": now},
                "$inc": {"revision": 1},
            },
        )

    # --- reading ---------------------------------------------------------------------------------------
    # Overlap queries bound `start` from below too (a shift lasts at most MAX_SHIFT): with only
    # `start < end` the index scan would run over the whole history, growing every week.

    async def search(self, f: ShiftFilter, page: PageRequest) -> Page[Shift]:
        """Shifts overlapping [start, end), soonest first."""
        query: Document = {"agency_id": f.agency_id, **_overlapping(f.start, f.end)}
        if f.person_id is not None:
            query["person_id"] = f.person_id
        if f.caregiver_id is not None:
            query["caregiver_id"] = f.caregiver_id
        if f.statuses is not None:
            query["status"] = {"$in": [s.value for s in f.statuses]}
        return await self._page(query, page)

    async def open_shifts(self, agency_id: str, *, ending_after: datetime, page: PageRequest) -> Page[Shift]:
        query = {
            "agency_id": agency_id,
            "status": ShiftStatus.OPEN.value,
            "start": {"$gt": ending_after - MAX_SHIFT},  # bounds the scan: open shifts of the past stay out
            "end": {"$gt": ending_after},
        }
        return await self._page(query, page)

    async def search_per_person(
        self, f: ShiftFilter, person_ids: Sequence[str], page: PageRequest
    ) -> dict[str, Page[Shift]]:
        """`search` (by agency, period and caregiver) for many people in one round-trip: each person's
        page of shifts, soonest first.

        The local server has no `$unionWith` to limit each person's branch, so the read is bounded by
        the period (at most MAX_LIST_PERIOD, through the person/start index) rather than by the page
        size, and each page is cut in memory. One large batch keeps it a single command.
        """
        if not person_ids:
            return {}
        after = _after_key(page)
        query: Document = {
            "agency_id": f.agency_id,
            "person_id": {"$in": list(person_ids)},
            **_overlapping(f.start, f.end),
        }
        if f.caregiver_id is not None:
            query["caregiver_id"] = f.caregiver_id
        found: dict[str, list[Shift]] = {p: [] for p in person_ids}
        async for d in self._c.find(query).batch_size(_ONE_BATCH):
            shift = shift_from_doc(d)
            if after is None or (shift.start, shift.id) > after:
                found.setdefault(shift.person_id, []).append(shift)
        pages: dict[str, Page[Shift]] = {}
        for person_id, shifts in found.items():
            shifts.sort(key=lambda s: (s.start, s.id))
            edges = [(encode_cursor(s.start.isoformat(), s.id), s) for s in shifts[: page.first]]
            pages[person_id] = Page(edges=edges, has_next_page=len(shifts) > page.first)
        return pages

    async def changed_for_caregiver(self, f: ShiftFilter, since: datetime, page: PageRequest) -> Page[Shift]:
        """A delta: the caregiver's shifts overlapping the period changed after `since`, oldest change first,
        so the newest `updated_at` a client has read is where its next delta starts."""
        query: Document = {
            "agency_id": f.agency_id,
            "caregiver_id": f.caregiver_id,
            "updated_at": {"$gt": since},
            **_overlapping(f.start, f.end),
        }
        return await self._page(query, page, field="updated_at")

    async def left_caregiver(self, f: ShiftFilter, since: datetime, limit: int) -> list[str]:
        """Ids of shifts overlapping the period that the caregiver held and, by a change after `since`, no
        longer holds (reassigned, swapped away, opened): a delta's tombstones, oldest change first."""
        query: Document = {
            "agency_id": f.agency_id,
            "history.from_caregiver_id": f.caregiver_id,
            "caregiver_id": {"$ne": f.caregiver_id},
            "updated_at": {"$gt": since},
            **_overlapping(f.start, f.end),
        }
        cursor = self._c.find(query, {"_id": 1}).sort([("updated_at", 1), ("_id", 1)]).limit(limit)
        return [d["_id"] async for d in cursor]

    async def _page(self, query: Document, page: PageRequest, *, field: str = "start") -> Page[Shift]:
        """A page in (field, _id) order: `start` for lists, `updated_at` for deltas."""
        if (key := _after_key(page)) is not None:
            after, shift_id = key
            query = {
                **query,
                "$and": [{"$or": [{field: {"$gt": after}}, {field: after, "_id": {"$gt": shift_id}}]}],
            }
        cursor = self._c.find(query).sort([(field, 1), ("_id", 1)]).limit(page.first + 1)
        shifts = [shift_from_doc(d) async for d in cursor]
        edges = [(encode_cursor(_sort_key(s, field).isoformat(), s.id), s) for s in shifts[: page.first]]
        return Page(edges=edges, has_next_page=len(shifts) > page.first)

    async def in_period(
        self, agency_id: str, start: datetime, end: datetime, person_id: str | None = None
    ) -> list[Shift]:
        """Every shift overlapping [start, end), read with only what coverage needs: who, when, status and
        whether anyone checked in. Fetch the full shifts (get_many) for whatever is shown of them."""
        query: Document = {"agency_id": agency_id, **_overlapping(start, end)}
        if person_id is not None:
            query["person_id"] = person_id
        return [summary_from_doc(d) async for d in self._c.find(query, projection=SUMMARY)]

    async def served_person_ids(self, caregiver_id: str, start: datetime, end: datetime) -> set[str]:
        """People the caregiver has a shift with in [start, end), whatever its status but cancelled."""
        query = {
            "caregiver_id": caregiver_id,
            **_overlapping(start, end),
            "status": {"$ne": ShiftStatus.CANCELLED.value},
        }
        return set(await self._c.distinct("person_id", query))

    async def last_handovers(self, wanted: Iterable[tuple[str, datetime]]) -> dict[tuple[str, datetime], Shift]:
        """For each (person, before): the person's latest completed shift before it that left a handover note.

        At most two commands whatever the number of pairs. The first reads a recent window (every pair's
        `before` back to HANDOVER_WINDOW before the earliest), which answers nearly every pair; only the
        people left without an answer are read further back, once.
        """
        below = {key: key[1] for key in wanted}  # each pair -> the bound still to read below
        found: dict[tuple[str, datetime], Shift] = {}
        if not below:
            return found
        lower: datetime | None = min(below.values()) - HANDOVER_WINDOW
        while below:
            start: Document = {"$lt": max(below.values())}
            if lower is not None:
                start["$gte"] = lower
            query = {
                "person_id": {"$in": sorted({p for p, _ in below})},
                "status": ShiftStatus.COMPLETED.value,
                "start": start,
                "handover_note": {"$ne": None},
            }
            candidates = [shift_from_doc(d) async for d in self._c.find(query).batch_size(_ONE_BATCH)]
            candidates.sort(key=lambda s: s.start, reverse=True)
            for key, before in list(below.items()):
                latest = next((s for s in candidates if s.person_id == key[0] and s.start < before), None)
                if latest is not None:
                    found[key] = latest
                    del below[key]
            if lower is None:
                break
            # The window covered [lower, before) of every pair left: their answer, if any, lies before it.
            below = {key: min(before, lower) for key, before in below.items()}
            lower = None
        return found

    async def caregivers_checked_in(self, person_id: str, at: datetime) -> list[str]:
        """Caregivers of IN_PROGRESS shifts with the person who checked in by `at`."""
        query = {"person_id": person_id, "status": ShiftStatus.IN_PROGRESS.value, "check_in.at": {"$lte": at}}
        found = await self._c.distinct("caregiver_id", query)
        return sorted(c for c in found if c)


# Batch reads ask for everything in one reply (the server still caps a reply at 16 MB).
_ONE_BATCH = 10_000
# A previous handover is nearly always within this of the visit it is for; older ones take a second read.
HANDOVER_WINDOW = timedelta(days=31)


def _sort_key(s: Shift, field: str) -> datetime:
    return s.start if field == "start" else s.updated_at


def _after_key(page: PageRequest) -> tuple[datetime, str] | None:
    """The (start, id) a page's cursor names, or None for a first page."""
    if page.after is None:
        return None
    value, shift_id = decode_cursor(page.after)
    try:
        return datetime.fromisoformat(value), shift_id
    except ValueError as exc:
        raise ValidationFailed("Invalid cursor.", field="after") from exc


def _overlapping(start: datetime, end: datetime) -> Document:
    """Shifts overlapping [start, end), as a range on `start` an index bounds on both sides."""
    return {"start": {"$lt": end, "$gt": start - MAX_SHIFT}, "end": {"$gt": start}}
