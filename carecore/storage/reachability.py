"""The `reachability` collection (one state per person, `_id` = person id), `reachability_contacts`
(every outcome, sign and human report, under an id derived from its source) and `reachability_settings`
(the agency's ladder and callback token).

Every change of a state document is one conditional update on `version` (no transactions, DEVDB.md):
of two writers that read the same version exactly one lands, the other reads again. Lease fields are
outside `version`, so a job's claim never makes a request's transition fail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from carecore.reachability.models import (
    CallOutcome,
    CallSlot,
    Cause,
    Contact,
    ContactKind,
    Effect,
    HumanOutcome,
    Ladder,
    Reach,
    ReachState,
    SignKind,
)
from carecore.storage.codec import insert_new, time_from_str, time_to_str
from carecore.storage.database import Db, Document
from carecore.storage.leases import claim_due, release

UNREACHABLE_STATES = [ReachState.UNANSWERED.value, ReachState.HUMAN_CALLING.value, ReachState.VISIT_REQUESTED.value]


def _effect_to_doc(e: Effect) -> Document:
    return {
        "version": e.version,
        "state": e.state.value,
        "previous": e.previous.value,
        "unanswered": e.unanswered,
        "cause": e.cause.value if e.cause else None,
        "episode": e.episode,
        "at": e.at,
        "open_incident": e.open_incident,
        "contact_id": e.contact_id,
        "check": e.check,
    }


def _effect_from_doc(d: Document) -> Effect:
    return Effect(
        version=d["version"],
        state=ReachState(d["state"]),
        previous=ReachState(d["previous"]),
        unanswered=d["unanswered"],
        cause=Cause(d["cause"]) if d.get("cause") else None,
        episode=d["episode"],
        at=d["at"],
        open_incident=d.get("open_incident"),
        contact_id=d.get("contact_id"),
        check=d.get("check", False),
    )


def _fields(r: Reach) -> Document:
    """Everything but `_id` and the lease: what a conditional save sets."""
    return {
        "agency_id": r.agency_id,
        "person_id": r.person_id,
        "state": r.state.value,
        "version": r.version,
        "unanswered": r.unanswered,
        "cause": r.cause.value if r.cause else None,
        "episode": r.episode,
        "state_since": r.state_since,
        "unreachable_since": r.unreachable_since,
        "schedule": [{"weekday": s.weekday, "at": time_to_str(s.at)} for s in r.schedule],
        "schedule_revision": r.schedule_revision,
        "check_in_user_id": r.check_in_user_id,
        "next_call_at": r.next_call_at,
        "awaiting_since": r.awaiting_since,
        "check_at": r.check_at,
        "last_heard_at": r.last_heard_at,
        "last_sign_at": r.last_sign_at,
        "last_human_contact_at": r.last_human_contact_at,
        "human_task_at": r.human_task_at,
        "quiet_limit_s": r.quiet_limit.total_seconds(),
        "quiet_learned_at": r.quiet_learned_at,
        "incident_id": r.incident_id,
        "applied_contacts": list(r.applied_contacts),
        "pending": [_effect_to_doc(e) for e in r.pending],
        # A promised effect the request did not finish is the job's after this (the request's own grace).
        "effects_due_at": min(e.at for e in r.pending) + EFFECTS_GRACE if r.pending else None,
    }


EFFECTS_GRACE = timedelta(seconds=10)


def reach_from_doc(d: Document) -> Reach:
    return Reach(
        person_id=d["_id"],
        agency_id=d["agency_id"],
        state=ReachState(d["state"]),
        version=d["version"],
        unanswered=d.get("unanswered", 0),
        cause=Cause(d["cause"]) if d.get("cause") else None,
        episode=d.get("episode", 0),
        state_since=d.get("state_since"),
        unreachable_since=d.get("unreachable_since"),
        schedule=tuple(CallSlot(s["weekday"], time_from_str(s["at"])) for s in d.get("schedule", [])),
        schedule_revision=d.get("schedule_revision", 0),
        check_in_user_id=d.get("check_in_user_id"),
        next_call_at=d.get("next_call_at"),
        awaiting_since=d.get("awaiting_since"),
        check_at=d.get("check_at"),
        last_heard_at=d.get("last_heard_at"),
        last_sign_at=d.get("last_sign_at"),
        last_human_contact_at=d.get("last_human_contact_at"),
        human_task_at=d.get("human_task_at"),
        quiet_limit=timedelta(seconds=d.get("quiet_limit_s", 86400)),
        quiet_learned_at=d.get("quiet_learned_at"),
        incident_id=d.get("incident_id"),
        applied_contacts=tuple(d.get("applied_contacts", [])),
        pending=tuple(_effect_from_doc(e) for e in d.get("pending", [])),
    )


class ReachabilityStore:
    def __init__(self, db: Db) -> None:
        self._c = db["reachability"]

    async def get(self, person_id: str) -> Reach | None:
        d = await self._c.find_one({"_id": person_id})
        return reach_from_doc(d) if d else None

    async def create(self, reach: Reach) -> None:
        """AlreadyExists when the person has a state already (a racer created it)."""
        await insert_new(self._c, {"_id": reach.person_id, **_fields(reach)})

    async def save(self, before: Reach, after: Reach) -> bool:
        """`after` if the stored state is still `before`'s version; False when another writer was first."""
        result = await self._c.update_one(
            {"_id": before.person_id, "version": before.version}, {"$set": _fields(after)}
        )
        return result.modified_count == 1

    async def finish_effect(self, person_id: str, version: int) -> None:
        """The effect of transition `version` is done; idempotent."""
        only = await self._c.update_one(
            {"_id": person_id, "pending": {"$size": 1}, "pending.version": version},
            {"$set": {"pending": [], "effects_due_at": None}, "$inc": {"version": 1}},
        )
        if only.modified_count == 0:
            await self._c.update_one(
                {"_id": person_id, "pending.version": version},
                {"$pull": {"pending": {"version": version}}, "$inc": {"version": 1}},
            )

    async def clear_effects_due(self, person_id: str) -> None:
        """Nothing is pending any more (a racer finished it): the effects job need not look again."""
        await self._c.update_one({"_id": person_id, "pending": {"$size": 0}}, {"$set": {"effects_due_at": None}})

    async def claim_due(self, now: datetime, owner: str, lease: timedelta) -> Reach | None:
        d = await claim_due(self._c, due_field="check_at", now=now, owner=owner, lease=lease)
        return reach_from_doc(d) if d else None

    async def claim_effects(self, now: datetime, owner: str, lease: timedelta) -> Reach | None:
        d = await claim_due(self._c, due_field="effects_due_at", now=now, owner=owner, lease=lease)
        return reach_from_doc(d) if d else None

    async def release(self, person_id: str, owner: str) -> None:
        await release(self._c, person_id, owner=owner, changes={})

    async def unreachable(self, agency_id: str, *, limit: int = 200) -> list[Reach]:
        """The agency's unreachable people, unreachable longest first."""
        query = {"agency_id": agency_id, "state": {"$in": UNREACHABLE_STATES}}
        docs = await self._c.find(query).sort([("unreachable_since", 1), ("_id", 1)]).limit(limit).to_list()
        return [reach_from_doc(d) for d in docs]


def contact_to_doc(c: Contact) -> Document:
    return {
        "_id": c.id,
        "agency_id": c.agency_id,
        "person_id": c.person_id,
        "kind": c.kind.value,
        "at": c.at,
        "received_at": c.received_at,
        "source": c.source,
        "call_outcome": c.call_outcome.value if c.call_outcome else None,
        "sign": c.sign.value if c.sign else None,
        "human_outcome": c.human_outcome.value if c.human_outcome else None,
        "session": c.session,
        "attempt": c.attempt,
        "risk_words": list(c.risk_words),
        "mood": c.mood,
        "note": c.note,
        "heard": c.heard_from,
        "applied": c.applied,
    }


def contact_from_doc(d: Document) -> Contact:
    return Contact(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        kind=ContactKind(d["kind"]),
        at=d["at"],
        received_at=d["received_at"],
        source=d["source"],
        call_outcome=CallOutcome(d["call_outcome"]) if d.get("call_outcome") else None,
        sign=SignKind(d["sign"]) if d.get("sign") else None,
        human_outcome=HumanOutcome(d["human_outcome"]) if d.get("human_outcome") else None,
        session=d.get("session"),
        attempt=d.get("attempt"),
        risk_words=tuple(d.get("risk_words", [])),
        mood=d.get("mood"),
        note=d.get("note", ""),
        applied=d.get("applied", False),
    )


class ContactStore:
    def __init__(self, db: Db) -> None:
        self._c = db["reachability_contacts"]

    async def insert(self, contact: Contact, *, apply_due_at: datetime) -> None:
        """AlreadyExists when this outcome or sign was received before."""
        await insert_new(self._c, {**contact_to_doc(contact), "apply_due_at": apply_due_at})

    async def get(self, contact_id: str) -> Contact | None:
        d = await self._c.find_one({"_id": contact_id})
        return contact_from_doc(d) if d else None

    async def mark_applied(self, contact_id: str) -> None:
        await self._c.update_one({"_id": contact_id}, {"$set": {"applied": True, "apply_due_at": None}})

    async def claim_unapplied(self, now: datetime, owner: str, lease: timedelta) -> Contact | None:
        d = await claim_due(self._c, due_field="apply_due_at", now=now, owner=owner, lease=lease)
        return contact_from_doc(d) if d else None

    async def heard_since(self, agency_id: str, person_id: str, since: datetime) -> list[datetime]:
        """When the person was heard from (answers, signs, human contact) since `since`, oldest first."""
        query = {"agency_id": agency_id, "person_id": person_id, "heard": True, "at": {"$gte": since}}
        docs = await self._c.find(query, projection={"at": 1}).sort([("at", 1)]).to_list()
        return [d["at"] for d in docs]

    async def last_human(self, person_ids: list[str]) -> dict[str, Contact]:
        """Each person's latest human contact attempt (a coordinator's call, a visit)."""
        kinds = [ContactKind.HUMAN_CALL.value, ContactKind.VISIT.value]
        found: dict[str, Contact] = {}
        query = {"person_id": {"$in": person_ids}, "kind": {"$in": kinds}}
        async for d in self._c.find(query).sort([("at", -1)]):
            found.setdefault(d["person_id"], contact_from_doc(d))
        return found


def _ladder_to_doc(ladder: Ladder) -> Document:
    return {
        "unanswered_calls": ladder.unanswered_calls,
        "retry_after_s": ladder.retry_after.total_seconds(),
        "outcome_grace_s": ladder.outcome_grace.total_seconds(),
        "check_answer_within_s": ladder.check_answer_within.total_seconds(),
        "human_call_within_s": ladder.human_call_within.total_seconds(),
        "visit_within_s": ladder.visit_within.total_seconds(),
        "no_calls_from": time_to_str(ladder.no_calls_from),
        "no_calls_until": time_to_str(ladder.no_calls_until),
        "risk_words": list(ladder.risk_words),
    }


def _ladder_from_doc(d: Document) -> Ladder:
    return Ladder(
        unanswered_calls=d["unanswered_calls"],
        retry_after=timedelta(seconds=d["retry_after_s"]),
        outcome_grace=timedelta(seconds=d["outcome_grace_s"]),
        check_answer_within=timedelta(seconds=d["check_answer_within_s"]),
        human_call_within=timedelta(seconds=d["human_call_within_s"]),
        visit_within=timedelta(seconds=d["visit_within_s"]),
        no_calls_from=time_from_str(d["no_calls_from"]),
        no_calls_until=time_from_str(d["no_calls_until"]),
        risk_words=tuple(d.get("risk_words", [])),
    )


class ReachabilitySettingsStore:
    """Per agency: the ladder (absent: Gyeonggi's) and the hash of the callback token."""

    def __init__(self, db: Db) -> None:
        self._c = db["reachability_settings"]

    async def ladder(self, agency_id: str) -> Ladder | None:
        d = await self._c.find_one({"_id": agency_id}, projection={"ladder": 1})
        return _ladder_from_doc(d["ladder"]) if d and d.get("ladder") else None

    async def put_ladder(self, agency_id: str, ladder: Ladder) -> None:
        await self._c.update_one({"_id": agency_id}, {"$set": {"ladder": _ladder_to_doc(ladder)}}, upsert=True)

    async def put_callback_token(self, agency_id: str, token_hash: str, service_id: str, at: datetime) -> None:
        """Replaces the agency's callback token: the old URL stops working at once."""
        changes: dict[str, Any] = {"callback_token_hash": token_hash, "callback_service_id": service_id}
        await self._c.update_one({"_id": agency_id}, {"$set": {**changes, "callback_issued_at": at}}, upsert=True)

    async def by_callback_token(self, token_hash: str) -> tuple[str, str] | None:
        """(agency id, service account id) of the token's hash, or None."""
        d = await self._c.find_one({"callback_token_hash": token_hash})
        return (d["_id"], d["callback_service_id"]) if d else None
