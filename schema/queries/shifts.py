"""Shift queries: caregivers' own and open shifts, coordinators' views and coverage gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from carecore.errors import NotFound
from carecore.shifts import queries
from carecore.shifts.caregivers import get_caregiver_profile
from carecore.shifts.models import ShiftStatus as DomainStatus
from carecore.shifts.open_shifts import list_open_shifts
from schema.context import Info
from schema.inputs.shifts import ShiftFilterInput
from schema.types.connections import Connection, connection, page_request
from schema.types.shifts import CaregiverProfile, CoverageGap, Shift, agency_zone


@strawberry.type
class ShiftQuery:
    @strawberry.field(description="Caregivers: your shifts overlapping [from, to), soonest first (at most 62 days).")
    async def my_shifts(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        first: int | None = None,
        after: str | None = None,
        updated_since: Annotated[
            datetime | None,
            strawberry.argument(
                description="Delta sync: only shifts changed after this time (a cancelled one with its new "
                "status), oldest change first; cursors are those of the delta. Pair with myFormerShiftIds."
            ),
        ] = None,
    ) -> Connection[Shift]:
        ctx = info.context
        request = page_request(first, after)
        page = await queries.my_shifts(ctx.ports, ctx.principal, from_, to, request, updated_since=updated_since)
        tz, now = await agency_zone(info), ctx.ports.clock.now()
        return connection(page, lambda s: Shift.from_domain(s, tz, now), after=after)

    @strawberry.field(
        description="Caregivers: ids of shifts overlapping [from, to) that were yours and stopped being yours "
        "after updatedSince (reassigned, swapped, opened), oldest change first, at most 500: drop them "
        "from a cache the myShifts delta keeps."
    )
    async def my_former_shift_ids(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        updated_since: datetime,
    ) -> list[strawberry.ID]:
        ctx = info.context
        found = await queries.my_former_shift_ids(ctx.ports, ctx.principal, from_, to, updated_since)
        return [strawberry.ID(i) for i in found]

    @strawberry.field
    async def shift(self, info: Info, id: strawberry.ID) -> Shift | None:
        ctx = info.context
        try:
            found = await queries.get_shift(ctx.ports, ctx.principal, id)
        except NotFound:
            return None
        return Shift.from_domain(found, await agency_zone(info), ctx.ports.clock.now())

    @strawberry.field(description="Open shifts not over yet: coordinators all, caregivers those they qualify for.")
    async def open_shifts(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Shift]:
        ctx = info.context
        page = await list_open_shifts(ctx.ports, ctx.principal, page_request(first, after))
        tz, now = await agency_zone(info), ctx.ports.clock.now()
        return connection(page, lambda s: Shift.from_domain(s, tz, now), after=after)

    @strawberry.field(description="Coordinators: the agency's shifts overlapping [from, to), soonest first.")
    async def shifts(
        self, info: Info, filter: ShiftFilterInput, first: int | None = None, after: str | None = None
    ) -> Connection[Shift]:
        ctx = info.context
        page = await queries.list_shifts(
            ctx.ports,
            ctx.principal,
            filter.from_,
            filter.to,
            page_request(first, after),
            person_id=filter.person_id,
            caregiver_id=filter.caregiver_id,
            statuses=tuple(DomainStatus(s) for s in filter.statuses) if filter.statuses else None,
        )
        tz, now = await agency_zone(info), ctx.ports.clock.now()
        return connection(page, lambda s: Shift.from_domain(s, tz, now), after=after)

    @strawberry.field(
        description="Coordinators: support hours without a caregiver, and open, late and missed shifts in "
        "[from, to) (at most 31 days), soonest first."
    )
    async def coverage_gaps(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        person_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[CoverageGap]:
        ctx = info.context
        request = page_request(first, after)
        page = await queries.coverage_gaps(ctx.ports, ctx.principal, from_, to, request, person_id=person_id)
        tz, now = await agency_zone(info), ctx.ports.clock.now()
        return connection(page, lambda g: CoverageGap.from_domain(g, tz, now), after=after)

    @strawberry.field(description="Coordinators: any caregiver's profile. Caregivers: their own.")
    async def caregiver_profile(self, info: Info, user_id: strawberry.ID) -> CaregiverProfile | None:
        ctx = info.context
        try:
            return CaregiverProfile.from_domain(await get_caregiver_profile(ctx.ports, ctx.principal, user_id))
        except NotFound:
            return None
