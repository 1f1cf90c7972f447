"""Each health rule's record: how many alerts it raised, the share that were actionable (PPV, from the
dispositions of whoever resolved them) and alerts per person-week of monitoring."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.errors import ValidationFailed
from carecore.incidents.models import HEALTH_DETECTOR_SERVICE
from carecore.ports import Ports

DEFAULT_PERIOD = timedelta(days=90)
MAX_PERIOD = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule: str  # the finding's key: a family ("bp_crisis"), or family and series ("trend:8480-6")
    alerts: int  # incidents the rule opened (later readings joining one are not new alerts)
    dispositioned: int  # of those, closed with a say on whether they were actionable
    actionable: int
    # Repeat requests the repeat answered (closed by the system), apart from the alerts: the protocol
    # working, not an alarm someone had to judge, so neither the PPV nor the alert rate counts them.
    repeats_answered: int = 0

    @property
    def ppv(self) -> float | None:
        """The share of dispositioned alerts that were actionable; None before any was."""
        return self.actionable / self.dispositioned if self.dispositioned else None


@dataclass(frozen=True, slots=True)
class HealthRuleStats:
    start: datetime
    end: datetime
    person_weeks: int  # (person, week of the period) pairs with at least one accepted reading
    rules: tuple[RuleStats, ...]

    def alerts_per_person_week(self, rule: RuleStats) -> float | None:
        return rule.alerts / self.person_weeks if self.person_weeks else None


def person_weeks(measured: set[tuple[str, str]], start: datetime) -> int:
    """Weeks of the period in which each person was measured at least once, summed over people."""
    first = start.date()
    return len({(person, (date.fromisoformat(day) - first).days // 7) for person, day in measured})


async def health_rule_stats(
    ports: Ports, actor: Principal, *, start: datetime | None = None, end: datetime | None = None
) -> HealthRuleStats:
    """Coordinators: per health rule of their agency, alerts, PPV and alerts per person-week in [start, end)."""
    require_role(actor, Role.COORDINATOR)
    end = end or ports.clock.now() + timedelta(seconds=1)  # up to and including this moment
    start = start or end - DEFAULT_PERIOD
    if not timedelta(0) < end - start <= MAX_PERIOD:
        raise ValidationFailed("The period must be forward and at most a year long.", field="since")
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for rule, actionable, repeat_answered in await ports.store.incidents.dispositions(
        actor.agency_id, HEALTH_DETECTOR_SERVICE, start, end
    ):
        c = counts[rule]
        if repeat_answered:
            c[3] += 1
            continue
        c[0] += 1
        c[1] += actionable is not None
        c[2] += actionable is True
    measured = await ports.store.observations.measured_days(actor.agency_id, start, end)
    rules = tuple(RuleStats(rule, *c) for rule, c in sorted(counts.items()))
    return HealthRuleStats(start, end, person_weeks(measured, start), rules)
