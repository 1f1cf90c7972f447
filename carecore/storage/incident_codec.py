"""Incident documents: one per incident, its timeline embedded so every change and its entry are one write."""

from __future__ import annotations

from typing import Any

from carecore.incidents.models import (
    Detection,
    Escalation,
    Evidence,
    Incident,
    IncidentStatus,
    Safeguarding,
    SafeguardingKind,
    Signal,
    TimelineAction,
    TimelineEntry,
    Verdict,
)
from carecore.storage.database import Document
from carecore.vocabulary import IncidentSource, IncidentType, Severity


def entry_to_doc(e: TimelineEntry) -> Document:
    doc: Document = {
        "at": e.at,
        "action": e.action.value,
        "actor_id": e.actor_id,
        "status": e.status.value,
        "note": e.note,
        "detail": e.detail,
    }
    if e.id is not None:  # absent, not null, on the rest: the sparse index holds only keyed entries
        doc.update(id=e.id, key_hash=e.key_hash)
    return doc


def entry_from_doc(d: Document) -> TimelineEntry:
    return TimelineEntry(
        at=d["at"],
        action=TimelineAction(d["action"]),
        actor_id=d.get("actor_id"),
        status=IncidentStatus(d["status"]),
        note=d.get("note"),
        detail=d.get("detail"),
        id=d.get("id"),
        key_hash=d.get("key_hash"),
    )


def detection_to_doc(d: Detection | None) -> Document | None:
    if d is None:
        return None
    return {"service": d.service, "detector": d.detector, "model_version": d.model_version, "confidence": d.confidence}


def detection_from_doc(d: Document | None) -> Detection | None:
    return None if not d else Detection(d["service"], d["detector"], d["model_version"], d["confidence"])


def evidence_to_doc(e: Evidence | None) -> Document | None:
    if e is None:
        return None
    return {"summary": e.summary, "signals": [{"name": s.name, "value": s.value} for s in e.signals]}


def evidence_from_doc(d: Document | None) -> Evidence | None:
    if not d:
        return None
    return Evidence(d.get("summary", ""), tuple(Signal(s["name"], s["value"]) for s in d.get("signals", [])))


def _safeguarding_to_doc(s: Safeguarding | None) -> Document | None:
    return None if s is None else {"kind": s.kind.value, "alleged_perpetrator_id": s.alleged_perpetrator_id}


def incident_to_doc(i: Incident) -> Document:
    e = i.escalation
    return {
        "_id": i.id,
        "agency_id": i.agency_id,
        "person_id": i.person_id,
        "type": i.type.value,
        "severity": i.severity.value,
        "severity_rank": i.severity.rank,
        "status": i.status.value,
        "source": i.source.value,
        "summary": i.summary,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "revision": i.revision,
        "reported_by": i.reported_by,
        "detection": detection_to_doc(i.detection),
        "detectors": [{"detector": d, "model_version": m} for d, m in i.detectors],
        "evidence": evidence_to_doc(i.evidence),
        "flag_count": i.flag_count,
        "first_flagged_at": i.first_flagged_at,
        "last_flagged_at": i.last_flagged_at,
        "safeguarding": _safeguarding_to_doc(i.safeguarding),
        "related_shift_id": i.related_shift_id,
        "assignee_id": i.assignee_id,
        "acknowledged_by": i.acknowledged_by,
        "acknowledged_at": i.acknowledged_at,
        "resolved_at": i.resolved_at,
        "outcome": i.outcome,
        "dismissal_reason": i.dismissal_reason,
        "verdict": i.verdict.value if i.verdict else None,
        "actionable": i.actionable,
        "report_due_at": i.report_due_at,
        "reported_at": i.reported_at,
        "report_reference": i.report_reference,
        "escalation_round": e.round,
        "escalation_step": e.step,
        "escalation_started_at": e.started_at,
        "escalation_due_at": e.due_at,
        "timeline": [entry_to_doc(t) for t in i.timeline],
    }


def incident_from_doc(d: Document) -> Incident:
    s: dict[str, Any] | None = d.get("safeguarding")
    return Incident(
        id=d["_id"],
        agency_id=d["agency_id"],
        person_id=d["person_id"],
        type=IncidentType(d["type"]),
        severity=Severity(d["severity"]),
        status=IncidentStatus(d["status"]),
        source=IncidentSource(d["source"]),
        summary=d.get("summary", ""),
        created_at=d["created_at"],
        updated_at=d["updated_at"],
        revision=d["revision"],
        reported_by=d.get("reported_by"),
        detection=detection_from_doc(d.get("detection")),
        detectors=tuple((x["detector"], x["model_version"]) for x in d.get("detectors", [])),
        evidence=evidence_from_doc(d.get("evidence")),
        flag_count=d.get("flag_count", 1),
        first_flagged_at=d.get("first_flagged_at"),
        last_flagged_at=d.get("last_flagged_at"),
        safeguarding=None if not s else Safeguarding(SafeguardingKind(s["kind"]), s.get("alleged_perpetrator_id")),
        related_shift_id=d.get("related_shift_id"),
        assignee_id=d.get("assignee_id"),
        acknowledged_by=d.get("acknowledged_by"),
        acknowledged_at=d.get("acknowledged_at"),
        resolved_at=d.get("resolved_at"),
        outcome=d.get("outcome"),
        dismissal_reason=d.get("dismissal_reason"),
        verdict=Verdict(d["verdict"]) if d.get("verdict") else None,
        actionable=d.get("actionable"),
        report_due_at=d.get("report_due_at"),
        reported_at=d.get("reported_at"),
        report_reference=d.get("report_reference"),
        escalation=Escalation(
            round=d.get("escalation_round", 0),
            step=d.get("escalation_step", 0),
            started_at=d.get("escalation_started_at"),
            due_at=d.get("escalation_due_at"),
        ),
        timeline=tuple(entry_from_doc(t) for t in d.get("timeline", [])),
    )
