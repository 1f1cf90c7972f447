"""The one MongoDB client of the process and the indexes the core relies on."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from carecore.errors import Unavailable

Document = dict[str, Any]
Db = AsyncDatabase[Document]
INDEX_NOT_FOUND = 27

# Indexes live next to the rules that need them; the unique ones carry rules, not just speed.
INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("firebase_uid", ASCENDING)], unique=True, name="firebase_uid_unique"),
        IndexModel([("agency_id", ASCENDING), ("name_key", ASCENDING), ("_id", ASCENDING)]),
        # publish_lagging_claims claims the profile whose claims lag longest (carecore.storage.leases).
        IndexModel([("claims_due_at", ASCENDING)]),
        # The coordinators (or caregivers) an alert goes to.
        IndexModel([("agency_id", ASCENDING), ("role", ASCENDING), ("active", ASCENDING), ("_id", ASCENDING)]),
    ],
    "people": [
        IndexModel([("agency_id", ASCENDING), ("name_key", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("care_team", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("guardians.user_id", ASCENDING)]),
        # One person per external reference of an AI service within an agency.
        IndexModel([("external_ref_keys", ASCENDING)], unique=True, sparse=True, name="external_ref_unique"),
    ],
    "care_plans": [
        # The FHIR export reads an agency's plans, optionally changed since a time.
        IndexModel([("agency_id", ASCENDING), ("updated_at", ASCENDING)]),
        IndexModel([("person_id", ASCENDING), ("version", DESCENDING)], unique=True, name="plan_version_unique"),
        # finish_approvals claims the earliest stalled approval; has_successor looks a version up by origin.
        IndexModel([("approval_due_at", ASCENDING)]),
        IndexModel([("based_on_id", ASCENDING)]),
    ],
    "events": [
        IndexModel([("at", ASCENDING), ("_id", ASCENDING)]),
        # A consumer's events of its kinds, oldest first; the parked ones for the operator.
        IndexModel([("kind", ASCENDING), ("at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("parked_at", ASCENDING), ("_id", ASCENDING)]),
    ],
    "alert_requests": [
        IndexModel([("due_at", ASCENDING)]),
        IndexModel([("subject_id", ASCENDING), ("created_at", ASCENDING)]),
    ],
    "devices": [
        # A user's devices, most recently seen first (push fans out to them in that order).
        IndexModel([("user_id", ASCENDING), ("last_seen_at", DESCENDING), ("_id", ASCENDING)]),
        IndexModel([("last_seen_at", ASCENDING)]),
    ],
    "notifications": [
        # The FHIR export reads an agency's notifications, optionally created since a time.
        IndexModel([("agency_id", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        # A user's inbox delta (notifications updatedSince), oldest change first.
        IndexModel([("user_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("next_attempt_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("request_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("subject_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]),
    ],
    "callouts": [
        IndexModel([("due_at", ASCENDING)]),
        # The FHIR export reads an agency's call-outs.
        IndexModel([("agency_id", ASCENDING)]),
    ],
    "incidents": [
        # At most one incident per (agency, person, type) takes repeated flags; absent on all others.
        IndexModel([("merge_key", ASCENDING)], unique=True, sparse=True, name="merge_key_unique"),
        IndexModel([("recent_flag_ids", ASCENDING)]),
        # Timeline entries a client appended with an idempotency key (addIncidentNote): a retry finds them.
        IndexModel([("timeline.id", ASCENDING)], sparse=True),
        IndexModel([("agency_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        # A mobile app's delta (incidents updatedSince), oldest change first.
        IndexModel([("agency_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("person_id", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)]),
        # Reports due: unreported incidents with a deadline, soonest first (reported ones leave the range).
        IndexModel(
            [("agency_id", ASCENDING), ("reported_at", ASCENDING), ("report_due_at", ASCENDING), ("_id", ASCENDING)]
        ),
        IndexModel([("escalation_due_at", ASCENDING)]),
    ],
    "incident_flags": [IndexModel([("finish_due_at", ASCENDING)])],
    "shifts": [
        IndexModel([("agency_id", ASCENDING), ("start", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("caregiver_id", ASCENDING), ("start", ASCENDING)]),
        # A caregiver's delta (myShifts updatedSince), and the shifts that left them since (its tombstones).
        IndexModel([("caregiver_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("history.from_caregiver_id", ASCENDING), ("updated_at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("person_id", ASCENDING), ("start", ASCENDING)]),
        # Task log entries and notes an idempotency key made: a retry finds them, on whichever shift.
        IndexModel([("task_log.id", ASCENDING)]),
        IndexModel([("progress_notes.id", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("status", ASCENDING), ("start", ASCENDING)]),
        # Background checks claim the earliest due shift (carecore.storage.leases).
        IndexModel([("late_check_at", ASCENDING)]),
        IndexModel([("missed_check_at", ASCENDING)]),
        IndexModel([("offer_due_at", ASCENDING)]),
        IndexModel([("task_check_at", ASCENDING)]),
        IndexModel([("announce_due_at", ASCENDING)]),
        IndexModel([("visit_flags_at", ASCENDING)]),
    ],
    "observations": [
        # Detection's history and dedupe look-ups, and a person's readings newest first.
        IndexModel(
            [("agency_id", ASCENDING), ("person_id", ASCENDING), ("metric", ASCENDING), ("effective_at", ASCENDING)]
        ),
        IndexModel(
            [("agency_id", ASCENDING), ("person_id", ASCENDING), ("effective_at", DESCENDING), ("_id", DESCENDING)]
        ),
        # health-evaluations claims readings whose detection a crash left unfinished.
        IndexModel([("evaluate_due_at", ASCENDING)]),
    ],
    "reachability": [
        # The reachability job claims the earliest deadline, and effects a request left unfinished.
        IndexModel([("check_at", ASCENDING)]),
        IndexModel([("effects_due_at", ASCENDING)]),
        IndexModel(
            [("agency_id", ASCENDING), ("state", ASCENDING), ("unreachable_since", ASCENDING), ("_id", ASCENDING)]
        ),
    ],
    "reachability_contacts": [
        IndexModel([("apply_due_at", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("person_id", ASCENDING), ("heard", ASCENDING), ("at", ASCENDING)]),
        IndexModel([("person_id", ASCENDING), ("kind", ASCENDING), ("at", DESCENDING)]),
    ],
    "reachability_settings": [
        IndexModel([("callback_token_hash", ASCENDING)], unique=True, sparse=True, name="callback_token_unique"),
    ],
    # A bulk export's worker claims the earliest due job; clean-up finds expired ones.
    "fhir_exports": [IndexModel([("due_at", ASCENDING)]), IndexModel([("expires_at", ASCENDING)])],
    "audit": [
        IndexModel([("object_id", ASCENDING), ("at", DESCENDING)]),
        # One kind of change to an object (a shift's refused assignments), past the reads of it.
        IndexModel([("object_id", ASCENDING), ("action", ASCENDING), ("at", DESCENDING)]),
    ],
}


def connect(uri: str, *, timeout_seconds: float | None = None) -> AsyncMongoClient[Document]:
    """The process's client; `timeout_seconds` bounds every operation that no `deadline` bounds tighter.

    Without a bound, an operation sent to a frozen server waits on its socket until the server's
    monitor gives up on it (measured: 20-36 s), or for ever.
    """
    options: dict[str, Any] = {"timeoutMS": int(timeout_seconds * 1000)} if timeout_seconds else {}
    # tz_aware: every datetime the core sees carries UTC, never a naive value.
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000, **options)


def deadline(seconds: float) -> AbstractContextManager[None]:
    """Every database operation awaited inside the block, together, ends within `seconds`.

    PyMongo's client-side operation timeout (CSOT): a context variable, so it reaches the tasks the
    block starts (GraphQL resolvers run in them); a nested deadline can only shorten it.
    """
    return pymongo.timeout(seconds)


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says a service did not answer (retry later), not that the request was wrong."""
    if isinstance(exc, Unavailable | ConnectionFailure):
        return True
    return isinstance(exc, PyMongoError) and exc.timeout


async def ensure_indexes(db: Db) -> None:
    """Creates every declared index and drops the ones no longer declared; idempotent, every instance runs it.

    Dropping matters: an index replaced by a better one would otherwise stay and slow every write.
    """
    for collection, models in INDEXES.items():
        wanted = set(await db[collection].create_indexes(models)) | {"_id_"}
        async for index in await db[collection].list_indexes():
            if index["name"] not in wanted:
                try:
                    await db[collection].drop_index(index["name"])
                except OperationFailure as exc:
                    if exc.code != INDEX_NOT_FOUND:  # another instance dropped it first
                        raise


async def ping(db: Db, *, timeout_seconds: float) -> bool:
    try:
        with deadline(timeout_seconds):
            await db.command("ping")
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        return False
    return True
