"""Care plan queries."""

from __future__ import annotations

import strawberry

from carecore.care_plans.service import get_plan_or_raise
from carecore.errors import NotFound
from schema.context import Info
from schema.types.care_plans import CarePlan


@strawberry.type
class CarePlanQuery:
    @strawberry.field
    async def care_plan(self, info: Info, id: strawberry.ID) -> CarePlan | None:
        try:
            plan, person = await get_plan_or_raise(info.context.ports, info.context.principal, id)
        except NotFound:
            return None
        return CarePlan.from_domain(plan, person.active_care_plan_id)
