"""The executable schema with its protective limits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema.errors import ERROR_TYPES, IsOutage, MaskUnexpectedErrors, raised_unavailable
from schema.input_guard import InputGuard
from schema.mutations.alerts import AlertMutation
from schema.mutations.care_plans import CarePlanMutation
from schema.mutations.health import HealthMutation
from schema.mutations.incidents import IncidentMutation
from schema.mutations.people import PeopleMutation
from schema.mutations.reachability import ReachabilityMutation
from schema.mutations.shifts import ShiftMutation
from schema.mutations.users import UserMutation
from schema.queries.alerts import AlertQuery
from schema.queries.care_plans import CarePlanQuery
from schema.queries.health import HealthQuery
from schema.queries.incidents import IncidentQuery
from schema.queries.people import PeopleQuery
from schema.queries.reachability import ReachabilityQuery
from schema.queries.shifts import ShiftQuery
from schema.queries.users import UserQuery
from schema.query_cost import MAX_COST, QueryCostLimiter
from schema.scalars import SCALAR_OVERRIDES
from schema.subscriptions.alerts import AlertSubscription
from schema.subscriptions.incidents import IncidentSubscription
from schema.subscriptions.shifts import ShiftSubscription

logger = logging.getLogger("carecore.graphql")

# Each domain adds its own roots here.
Query = merge_types(
    "Query",
    (UserQuery, PeopleQuery, CarePlanQuery, ShiftQuery, IncidentQuery, AlertQuery, HealthQuery, ReachabilityQuery),
)
Mutation = merge_types(
    "Mutation",
    (
        PeopleMutation,
        CarePlanMutation,
        UserMutation,
        ShiftMutation,
        IncidentMutation,
        AlertMutation,
        HealthMutation,
        ReachabilityMutation,
    ),
)
Subscription = merge_types("Subscription", (IncidentSubscription, AlertSubscription, ShiftSubscription))


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 15
    max_cost: int = MAX_COST
    introspection: bool = True


class CareSchema(strawberry.Schema):
    """Strawberry logs every error with its traceback; here the masking extension (schema.errors) logs
    what deserves one (the unexpected), outages and refusals are one line, and a document the
    client got wrong is counted without its text (variables' values appear in coercion messages)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if error.original_error is None:  # coded access errors, and documents that do not validate
                code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
                logger.info("GraphQL refused: %s at %s", code, error.path or "-")


def build_schema(
    limits: SchemaLimits = SchemaLimits(), *, is_outage: IsOutage = raised_unavailable
) -> strawberry.Schema:
    # Factories, not instances: extensions keep per-operation state, so each operation gets its own.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: QueryCostLimiter(max_cost=limits.max_cost),
        InputGuard,
        lambda: MaskUnexpectedErrors(is_outage),
    ]
    if not limits.introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return CareSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(ERROR_TYPES),
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,  # dates and times bounded, with our texts (schema/scalars.py)
    )
