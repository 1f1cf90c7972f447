"""Shift documents: how a shift, its visit (checks, task log, notes), history, swap and placement hold are stored.

The `shifts` collection's queries and conditional updates are in carecore/storage/shifts.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.shifts.models import (
    LATE_AFTER,
    MISSED_AFTER,
    DeviceTiming,
    HistoryAction,
    HistoryEntry,
    Hold,
    Location,
    ProgressNote,
    QualificationOverride,
    Shift,
    ShiftStatus,
    SwapRequest,
    SwapStatus,
    TaskLogEntry,
    TaskOutcome,
    VisitCheck,
)
from carecore.storage.database import Document


def _location_doc(loc: Location | None) -> Document | None:
    return None if loc is None else {"latitude": loc.latitude, "longitude": loc.longitude, "accuracy_m": loc.accuracy_m}


def _timing_doc(t: DeviceTiming | None) -> Document | None:
    if t is None:
        return None
    return {
        "device_at": t.device_at,
        "fix_at": t.fix_at,
        "received_at": t.received_at,
        "late_submission": t.late_submission,
        "clock_skew": t.clock_skew,
    }


def _timing_from(d: Document | None) -> DeviceTiming | None:
    if not d:
        return None
    return DeviceTiming(d["device_at"], d.get("fix_at"), d["received_at"], d["late_submission"], d["clock_skew"])


def check_doc(c: VisitCheck | None) -> Document | None:
    if c is None:
        return None
    return {
        "at": c.at,
        "location": _location_doc(c.location),
        "distance_m": c.distance_m,
        "outside_geofence": c.outside_geofence,
        "timing": _timing_doc(c.timing),
    }


def _check_from(d: Document | None) -> VisitCheck | None:
    if not d:
        return None
    loc = d.get("location")
    location = None if not loc else Location(loc["latitude"], loc["longitude"], loc.get("accuracy_m"))
    return VisitCheck(d["at"], location, d.get("distance_m"), d["outside_geofence"], _timing_from(d.get("timing")))


def history_doc(h: HistoryEntry) -> Document:
    return {
        "action": h.action.value,
        "at": h.at,
        "by": h.by,
        "from_caregiver_id": h.from_caregiver_id,
        "to_caregiver_id": h.to_caregiver_id,
        "reason": h.reason,
    }


def _history_from(d: Document) -> HistoryEntry:
    return HistoryEntry(
        HistoryAction(d["action"]), d["at"], d["by"], d.get("from_caregiver_id"), d.get("to_caregiver_id"), d["reason"]
    )


def hold_doc(h: Hold) -> Document:
    return {"token": h.token, "caregiver_id": h.caregiver_id, "start": h.start, "end": h.end, "at": h.at}


def override_doc(o: QualificationOverride | None) -> Document | None:
    return None if o is None else {"missing": list(o.missing), "reason": o.reason, "by": o.by, "at": o.at}


def swap_doc(s: SwapRequest) -> Document:
    return {
        "id": s.id,
        "from_caregiver_id": s.from_caregiver_id,
        "to_caregiver_id": s.to_caregiver_id,
        "status": s.status.value,
        "requested_at": s.requested_at,
        "message": s.message,
        "decided_at": s.decided_at,
        "decided_by": s.decided_by,
        "reason": s.reason,
    }


def _swap_from(d: Document | None) -> SwapRequest | None:
    if not d:
        return None
    return SwapRequest(
        id=d["id"],
        from_caregiver_id=d["from_caregiver_id"],
        to_caregiver_id=d["to_caregiver_id"],
        status=SwapStatus(d["status"]),
        requested_at=d["requested_at"],
        message=d.get("message", ""),
        decided_at=d.get("decided_at"),
        decided_by=d.get("decided_by"),
        reason=d.get("reason"),
    )


def task_entry_doc(e: TaskLogEntry) -> Document:
    return {
        "id": e.id,
        "task_id": e.task_id,
        "outcome": e.outcome.value,
        "reason": e.reason,
        "note": e.note,
        "at": e.at,
        "by": e.by,
        "timing": _timing_doc(e.timing),
        "key_hash": e.key_hash,
    }


def _task_entry_from(e: Document) -> TaskLogEntry:
    outcome = TaskOutcome(e["outcome"])
    timing = _timing_from(e.get("timing"))
    return TaskLogEntry(
        e["id"], e["task_id"], outcome, e["reason"], e["note"], e["at"], e["by"], timing, e.get("key_hash")
    )


def shift_from_doc(d: Document) -> Shift:
    h, o = d.get("hold"), d.get("qualification_override")
    return Shift(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        caregiver_id=d.get("caregiver_id"),
        status=ShiftStatus(d["status"]),
        start=d["start"],
        end=d["end"],
        required_qualifications=tuple(d.get("required_qualifications", [])),
        notes=d.get("notes", ""),
        revision=d["revision"],
        created_by=d["created_by"],
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        series_id=d.get("series_id"),
        check_in=_check_from(d.get("check_in")),
        check_out=_check_from(d.get("check_out")),
        plan_id=d.get("plan_id"),
        task_log=tuple(_task_entry_from(e) for e in d.get("task_log", [])),
        progress_notes=tuple(
            ProgressNote(n["id"], n["text"], n["at"], n["by"], n.get("key_hash")) for n in d.get("progress_notes", [])
        ),
        handover_note=d.get("handover_note"),
        unlogged_critical_reason=d.get("unlogged_critical_reason"),
        history=tuple(_history_from(x) for x in d.get("history", [])),
        qualification_override=None
        if not o
        else QualificationOverride(tuple(o["missing"]), o["reason"], o["by"], o["at"]),
        swap=_swap_from(d.get("swap")),
        late_at=d.get("late_at"),
        missed_at=d.get("missed_at"),
        cancel_reason=d.get("cancel_reason"),
        booking_token=d.get("booking_token"),
        hold=None if not h else Hold(h["token"], h["caregiver_id"], h["start"], h["end"], h["at"]),
    )


def check_times(start: datetime) -> Document:
    """The due times of the late and missed checks of a shift starting at `start`."""
    return {"late_check_at": start + LATE_AFTER, "missed_check_at": start + MISSED_AFTER}


NO_CHECKS: Document = {"late_check_at": None, "missed_check_at": None, "offer_due_at": None}


def shift_to_doc(s: Shift, offer_unplaced_after: timedelta | None = None) -> Document:
    offer_due_at = None
    if s.status is ShiftStatus.OPEN:
        # An open shift is offered to free, qualified caregivers by a background job; one held for a
        # placement only if that placement has not committed `offer_unplaced_after` later (it died).
        unplaced_at = s.hold.at + offer_unplaced_after if s.hold and offer_unplaced_after is not None else None
        offer_due_at = s.created_at if s.hold is None else unplaced_at
    return {
        "_id": s.id,
        "agency_id": s.agency_id,
        "person_id": s.person_id,
        "caregiver_id": s.caregiver_id,
        "status": s.status.value,
        "start": s.start,
        "end": s.end,
        "required_qualifications": list(s.required_qualifications),
        "notes": s.notes,
        "series_id": s.series_id,
        "revision": s.revision,
        "created_by": s.created_by,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "check_in": None,
        "check_out": None,
        "plan_id": None,
        "task_log": [],
        "progress_notes": [],
        "handover_note": None,
        "unlogged_critical_reason": None,
        "history": [history_doc(h) for h in s.history],
        "qualification_override": override_doc(s.qualification_override),
        "swap": None,
        "late_at": None,
        "missed_at": None,
        "cancel_reason": None,
        "booking_token": s.booking_token,
        "hold": hold_doc(s.hold) if s.hold else None,
        **check_times(s.start),
        "task_check_at": None,  # set by check-in: the critical tasks of a visit (carecore.shifts.critical_tasks)
        "offer_due_at": offer_due_at,
        "visit_flags_at": None,  # set by a visit record with an exception (carecore.shifts.visit_flags)
        "visit_flags": [],
    }


# Coverage and presence read many shifts and need none of what a visit recorded.
SUMMARY = dict.fromkeys(
    ("agency_id", "person_id", "caregiver_id", "status", "start", "end", "check_in.at", "late_at", "missed_at"), 1
)


def summary_from_doc(d: Document) -> Shift:
    checked_in = d.get("check_in")
    return Shift(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        caregiver_id=d.get("caregiver_id"),
        status=ShiftStatus(d["status"]),
        start=d["start"],
        end=d["end"],
        required_qualifications=(),
        notes="",
        revision=0,
        created_by="",
        created_at=d["start"],
        updated_at=d["start"],
        check_in=VisitCheck(checked_in["at"], None, None, False) if checked_in else None,
        late_at=d.get("late_at"),
        missed_at=d.get("missed_at"),
    )
