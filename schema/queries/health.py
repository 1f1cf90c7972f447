"""Health queries: a person's readings."""

from __future__ import annotations

from datetime import datetime

import strawberry

from carecore.errors import NotFound
from carecore.health.models import Metric
from carecore.health.personal_thresholds import get_health_thresholds
from carecore.health.service import list_observations
from carecore.health.stats import health_rule_stats
from carecore.health.summary import health_summary
from carecore.pagination import Page
from schema.context import Info
from schema.types.connections import Connection, connection, page_request
from schema.types.health import HealthRuleStats, Observation, PersonHealthThresholds, VitalMetric, VitalSummary


@strawberry.type
class HealthQuery:
    @strawberry.field(
        description="A person's readings, newest first: coordinators, caregivers who serve the person, and "
        "guardians whose link allows `health`; empty for anyone else."
    )
    async def observations(
        self,
        info: Info,
        person_id: strawberry.ID,
        metric: VitalMetric | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Observation]:
        ctx = info.context
        try:
            page = await list_observations(
                ctx.ports,
                ctx.principal,
                person_id,
                page_request(first, after),
                metric=Metric(metric) if metric else None,
            )
        except NotFound:
            page = Page(edges=[], has_next_page=False)  # out of scope answers like a person with no readings
        return connection(page, Observation.from_domain, after=after)

    @strawberry.field(
        description="Coordinators and caregivers who serve the person: the agency's default thresholds, the "
        "person's own and those in force; null for a person outside your scope."
    )
    async def health_thresholds(self, info: Info, person_id: strawberry.ID) -> PersonHealthThresholds | None:
        ctx = info.context
        try:
            view = await get_health_thresholds(ctx.ports, ctx.principal, person_id)
        except NotFound:
            return None
        return PersonHealthThresholds.from_domain(view)

    @strawberry.field(
        description="Coordinators: per health rule of the agency, alerts, the share actionable (PPV) and alerts "
        "per person-week, over [since, until) (default: the last 90 days)."
    )
    async def health_rule_stats(
        self, info: Info, since: datetime | None = None, until: datetime | None = None
    ) -> HealthRuleStats:
        ctx = info.context
        return HealthRuleStats.from_domain(await health_rule_stats(ctx.ports, ctx.principal, start=since, end=until))

    @strawberry.field(
        description="Per metric measured in the last 28 days: the latest reading, the personal baseline (median, "
        "MAD, active or not) and the trend. Staff who serve the person, and guardians whose link allows "
        "`health`; empty for anyone else."
    )
    async def health_summary(self, info: Info, person_id: strawberry.ID) -> list[VitalSummary]:
        ctx = info.context
        try:
            found = await health_summary(ctx.ports, ctx.principal, person_id)
        except NotFound:
            return []  # out of scope answers like a person with no readings
        return [VitalSummary.from_domain(m) for m in found]
