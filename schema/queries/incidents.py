"""Incident queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from carecore.errors import NotFound
from carecore.incidents import reads
from carecore.incidents.models import IncidentFilter
from carecore.incidents.policies import get_incident_policy
from schema.context import Info
from schema.inputs.incidents import IncidentFilterInput
from schema.types.connections import Connection, connection, page_request
from schema.types.incident_policy import IncidentPolicy
from schema.types.incidents import DetectorStats, Incident


@strawberry.type
class IncidentQuery:
    @strawberry.field(description="Incidents you may see, newest first.")
    async def incidents(
        self,
        info: Info,
        filter: IncidentFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
        updated_since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Delta sync: only incidents changed after this time (new status, notes, merged "
                "flags), oldest change first; cursors are those of the delta."
            ),
        ] = None,
    ) -> Connection[Incident]:
        ctx = info.context
        f = filter.to_domain() if filter else IncidentFilter()
        request = page_request(first, after)
        page = await reads.list_incidents(ctx.ports, ctx.principal, f, request, updated_since=updated_since)
        return connection(page, Incident.from_domain, after=after)

    @strawberry.field(description="One incident with its timeline.")
    async def incident(self, info: Info, id: strawberry.ID) -> Incident | None:
        try:
            found = await reads.get_incident_or_raise(info.context.ports, info.context.principal, id)
        except NotFound:
            return None
        return Incident.from_domain(found)

    @strawberry.field(description="Coordinators: flags waiting for review, oldest first.")
    async def review_queue(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Incident]:
        ctx = info.context
        page = await reads.review_queue(ctx.ports, ctx.principal, page_request(first, after))
        return connection(page, Incident.from_domain, after=after)

    @strawberry.field(description="Coordinators: incidents to report to the authority, the most pressing first.")
    async def reports_due(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Incident]:
        ctx = info.context
        page = await reads.reports_due(ctx.ports, ctx.principal, page_request(first, after))
        return connection(page, Incident.from_domain, after=after)

    @strawberry.field(description="Coordinators: the agency's triage, merging, escalation and reporting settings.")
    async def incident_policy(self, info: Info) -> IncidentPolicy:
        return IncidentPolicy.from_domain(await get_incident_policy(info.context.ports, info.context.principal))

    @strawberry.field(description="Coordinators: precision of each detector and model version.")
    async def detector_stats(self, info: Info) -> list[DetectorStats]:
        found = await reads.detector_stats(info.context.ports, info.context.principal)
        return [DetectorStats.from_domain(s) for s in found]
