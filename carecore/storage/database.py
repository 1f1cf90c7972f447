"""The one MongoDB client of the process and the indexes the core relies on."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
Db = AsyncDatabase[Document]

# Indexes live next to the rules that need them; the unique ones carry rules, not just speed.
INDEXES: dict[str, list[IndexModel]] = {
    "users": [
        IndexModel([("firebase_uid", ASCENDING)], unique=True, name="firebase_uid_unique"),
        IndexModel([("agency_id", ASCENDING), ("name_key", ASCENDING), ("_id", ASCENDING)]),
        # publish_lagging_claims claims the profile whose claims lag longest (carecore.storage.leases).
        IndexModel([("claims_due_at", ASCENDING)]),
    ],
    "people": [
        IndexModel([("agency_id", ASCENDING), ("name_key", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("care_team", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("guardians.user_id", ASCENDING)]),
        # One person per external reference of an AI service within an agency.
        IndexModel([("external_ref_keys", ASCENDING)], unique=True, sparse=True, name="external_ref_unique"),
    ],
    "care_plans": [
        IndexModel([("person_id", ASCENDING), ("version", DESCENDING)], unique=True, name="plan_version_unique"),
        # finish_approvals claims the earliest stalled approval; has_successor looks a version up by origin.
        IndexModel([("approval_due_at", ASCENDING)]),
        IndexModel([("based_on_id", ASCENDING)]),
    ],
    "events": [
        IndexModel([("at", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("kind", ASCENDING), ("at", ASCENDING)]),
    ],
    "alert_requests": [
        IndexModel([("due_at", ASCENDING)]),
        IndexModel([("subject_id", ASCENDING)]),
    ],
    "devices": [IndexModel([("user_id", ASCENDING)]), IndexModel([("last_seen_at", ASCENDING)])],
    "notifications": [
        IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("next_attempt_at", ASCENDING)]),
        IndexModel([("request_id", ASCENDING)]),
        IndexModel([("subject_id", ASCENDING)]),
    ],
    "callouts": [IndexModel([("due_at", ASCENDING)]), IndexModel([("call_id", ASCENDING)])],
    "incidents": [
        # At most one incident per (agency, person, type) takes repeated flags; absent on all others.
        IndexModel([("merge_key", ASCENDING)], unique=True, sparse=True, name="merge_key_unique"),
        IndexModel([("recent_flag_ids", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("person_id", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("report_due_at", ASCENDING)]),
        IndexModel([("escalation_due_at", ASCENDING)]),
    ],
    "incident_flags": [IndexModel([("incident_id", ASCENDING)]), IndexModel([("finish_due_at", ASCENDING)])],
    "shifts": [
        IndexModel([("agency_id", ASCENDING), ("start", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("caregiver_id", ASCENDING), ("start", ASCENDING)]),
        IndexModel([("person_id", ASCENDING), ("start", ASCENDING)]),
        IndexModel([("agency_id", ASCENDING), ("status", ASCENDING), ("start", ASCENDING)]),
        # Background checks claim the earliest due shift (carecore.storage.leases).
        IndexModel([("late_check_at", ASCENDING)]),
        IndexModel([("missed_check_at", ASCENDING)]),
        IndexModel([("offer_due_at", ASCENDING)]),
        IndexModel([("task_check_at", ASCENDING)]),
        IndexModel([("announce_due_at", ASCENDING)]),
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
    # A bulk export's worker claims the earliest due job; clean-up finds expired ones.
    "fhir_exports": [IndexModel([("due_at", ASCENDING)]), IndexModel([("expires_at", ASCENDING)])],
    "audit": [
        IndexModel([("agency_id", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("object_id", ASCENDING), ("at", DESCENDING)]),
    ],
}


def connect(uri: str) -> AsyncMongoClient[Document]:
    # tz_aware: every datetime the core sees carries UTC, never a naive value.
    return AsyncMongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=10_000)


async def ensure_indexes(db: Db) -> None:
    """Creates every index; idempotent, so every instance runs it at start-up."""
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)


async def ping(db: Db) -> bool:
    try:
        await db.command("ping")
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        return False
    return True
