"""Incident vocabulary shared by people's protocols and care plans' risk protocols."""

from __future__ import annotations

from enum import StrEnum


class IncidentType(StrEnum):
    FALL = "FALL"
    SEIZURE = "SEIZURE"
    WANDERING = "WANDERING"
    SELF_INJURY = "SELF_INJURY"
    AGGRESSION = "AGGRESSION"
    MEDICAL = "MEDICAL"
    NO_RESPONSE = "NO_RESPONSE"
    MEDICATION = "MEDICATION"
    MISSED_VISIT = "MISSED_VISIT"
    OTHER = "OTHER"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
