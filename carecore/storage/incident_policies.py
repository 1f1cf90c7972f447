"""The `incident_policies` collection: one document per agency that changed the defaults."""

from __future__ import annotations

from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from carecore.alerts.models import DEFAULT_NIGHT_WINDOW, QuietHours
from carecore.health.thresholds import DEFAULT_THRESHOLDS, NAMES, Thresholds
from carecore.incidents.policy import IncidentPolicy, LadderStep, ReportRule
from carecore.storage.codec import time_from_str, time_to_str
from carecore.storage.database import Db, Document
from carecore.vocabulary import Audience, IncidentType, Severity


def policy_to_doc(p: IncidentPolicy) -> Document:
    return {
        "review_threshold": p.review_threshold,
        "raise_threshold": p.raise_threshold,
        "merge_window_seconds": p.merge_window.total_seconds(),
        "base_severity": {t.value: s.value for t, s in p.base_severity.items()},
        "ladders": {
            s.value: [
                {
                    "after_seconds": step.after.total_seconds(),
                    "audiences": [a.value for a in step.audiences],
                    "escalate": step.escalate,
                }
                for step in steps
            ]
            for s, steps in p.ladders.items()
        },
        "report_rules": [
            {"min_severity": r.min_severity.value, "hours": r.hours, "types": [t.value for t in r.types]}
            for r in p.report_rules
        ],
        "safeguarding_report_hours": p.safeguarding_report_hours,
        "night_window": {"start": time_to_str(p.night_window.start), "end": time_to_str(p.night_window.end)},
        "health_thresholds": {name: getattr(p.health_thresholds, name) for name in NAMES},
    }


def _health_thresholds(d: Document) -> Thresholds:
    given = d.get("health_thresholds") or {}  # absent from policies saved before health checks
    return Thresholds(**{name: given[name] for name in NAMES if name in given}) if given else DEFAULT_THRESHOLDS


def _night_window(d: Document) -> QuietHours:
    night = d.get("night_window")  # absent from policies saved before the window existed
    return QuietHours(time_from_str(night["start"]), time_from_str(night["end"])) if night else DEFAULT_NIGHT_WINDOW


def policy_from_doc(d: Document) -> IncidentPolicy:
    return IncidentPolicy(
        review_threshold=d["review_threshold"],
        raise_threshold=d["raise_threshold"],
        merge_window=timedelta(seconds=d["merge_window_seconds"]),
        base_severity={IncidentType(t): Severity(s) for t, s in d["base_severity"].items()},
        ladders={
            Severity(s): tuple(
                LadderStep(
                    after=timedelta(seconds=x["after_seconds"]),
                    audiences=tuple(Audience(a) for a in x["audiences"]),
                    escalate=x["escalate"],
                )
                for x in steps
            )
            for s, steps in d["ladders"].items()
        },
        report_rules=tuple(
            ReportRule(Severity(r["min_severity"]), r["hours"], tuple(IncidentType(t) for t in r["types"]))
            for r in d["report_rules"]
        ),
        safeguarding_report_hours=d["safeguarding_report_hours"],
        night_window=_night_window(d),
        health_thresholds=_health_thresholds(d),
    )


class IncidentPolicyStore:
    def __init__(self, db: Db) -> None:
        self._c = db["incident_policies"]

    async def get(self, agency_id: str) -> IncidentPolicy | None:
        d = await self._c.find_one({"_id": agency_id})
        return policy_from_doc(d) if d else None

    async def night_window(self, agency_id: str) -> QuietHours:
        """The agency's night window: what the alerts pipeline needs of the policy, without the rest."""
        d = await self._c.find_one({"_id": agency_id}, {"night_window": 1})
        return _night_window(d) if d else DEFAULT_NIGHT_WINDOW

    async def get_with_revision(self, agency_id: str) -> tuple[IncidentPolicy | None, int]:
        """The stored policy and its revision; (None, 0) while the agency keeps the defaults."""
        d = await self._c.find_one({"_id": agency_id})
        return (policy_from_doc(d), d.get("revision", 1)) if d else (None, 0)

    async def put(self, agency_id: str, policy: IncidentPolicy, *, expected_revision: int) -> bool:
        """Compare-and-set on the revision: False when another edit was saved first."""
        doc = policy_to_doc(policy)
        if expected_revision == 0:
            try:
                await self._c.insert_one({"_id": agency_id, **doc, "revision": 1})
            except DuplicateKeyError:
                return False
            return True
        result = await self._c.update_one(
            {"_id": agency_id, "revision": expected_revision}, {"$set": doc, "$inc": {"revision": 1}}
        )
        return result.modified_count == 1
