"""The guideline rules' thresholds: the agency's defaults (in its incident policy) and a person's own.

A coordinator may set some thresholds for one person (a clinician agreed a higher blood pressure is
that person's normal, or a lower oxygen target); the rest stay the agency's. Leaf module: pure data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType

from carecore.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where the always-on safety rules fire (DESIGN "Health checks"); crisis is strictly above its limits."""

    crisis_systolic: float = 180.0  # mmHg, alerts above
    crisis_diastolic: float = 120.0  # mmHg, alerts above
    low_systolic: float = 90.0  # mmHg, alerts at or under
    low_spo2: float = 91.0  # %, at or under
    low_spo2_co2_retainer: float = 83.0  # %, at or under, for a person marked as a CO2 retainer
    low_heart_rate: float = 40.0  # /min, at or under
    high_heart_rate: float = 131.0  # /min, at or over
    weight_gain_kg: float = 2.0  # the 7-day median this far above the 28-day one


NAMES = tuple(f.name for f in fields(Thresholds))
DEFAULT_THRESHOLDS = Thresholds()

# What a value may be at all: a threshold outside these is a typing error, not a clinical choice.
_RANGES: dict[str, tuple[float, float]] = {
    "crisis_systolic": (100, 260),
    "crisis_diastolic": (60, 160),
    "low_systolic": (60, 140),
    "low_spo2": (70, 99),
    "low_spo2_co2_retainer": (70, 99),
    "low_heart_rate": (20, 80),
    "high_heart_rate": (80, 220),
    "weight_gain_kg": (0.5, 10),
}


def api_name(name: str) -> str:
    """The name a client uses for a threshold (camelCase), for error fields."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def check_thresholds(t: Thresholds, prefix: str = "") -> Thresholds:
    """The thresholds if each is in its range and low limits sit under high ones; ValidationFailed else."""
    for name in NAMES:
        low, high = _RANGES[name]
        value = getattr(t, name)
        if not low <= value <= high:
            name = api_name(name)
            raise ValidationFailed(f"{name} must be between {low:g} and {high:g}.", field=prefix + name)
    if t.low_systolic >= t.crisis_systolic:
        raise ValidationFailed("lowSystolic must be under crisisSystolic.", field=prefix + "lowSystolic")
    if t.low_heart_rate >= t.high_heart_rate:
        raise ValidationFailed("lowHeartRate must be under highHeartRate.", field=prefix + "lowHeartRate")
    return t


@dataclass(frozen=True, slots=True)
class PersonalThresholds:
    """The thresholds a coordinator set for one person, with who set them, when and why."""

    person_id: str
    agency_id: str
    overrides: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    reason: str = ""
    set_by: str = ""
    set_at: datetime | None = None
    revision: int = 0  # 0: never set

    def applied_to(self, defaults: Thresholds) -> Thresholds:
        """The thresholds in force for the person: theirs where set, the agency's elsewhere."""
        return dataclasses.replace(defaults, **dict(self.overrides))
