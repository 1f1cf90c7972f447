"""The executable schema with its protective limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.tools import merge_types

from schema.errors import ERROR_TYPES, MaskUnexpectedErrors
from schema.input_guard import InputGuard
from schema.mutations.alerts import AlertMutation
from schema.mutations.care_plans import CarePlanMutation
from schema.mutations.health import HealthMutation
from schema.mutations.incidents import IncidentMutation
from schema.mutations.people import PeopleMutation
from schema.mutations.shifts import ShiftMutation
from schema.mutations.users import UserMutation
from schema.queries.alerts import AlertQuery
from schema.queries.care_plans import CarePlanQuery
from schema.queries.health import HealthQuery
from schema.queries.incidents import IncidentQuery
from schema.queries.people import PeopleQuery
from schema.queries.shifts import ShiftQuery
from schema.queries.users import UserQuery
from schema.scalars import SCALAR_OVERRIDES
from schema.subscriptions.incidents import IncidentSubscription

# Each domain adds its own roots here.
Query = merge_types(
    "Query", (UserQuery, PeopleQuery, CarePlanQuery, ShiftQuery, IncidentQuery, AlertQuery, HealthQuery)
)
Mutation = merge_types(
    "Mutation",
    (PeopleMutation, CarePlanMutation, UserMutation, ShiftMutation, IncidentMutation, AlertMutation, HealthMutation),
)
Subscription = merge_types("Subscription", (IncidentSubscription,))


@dataclass(frozen=True, slots=True)
class SchemaLimits:
    max_depth: int = 10
    max_tokens: int = 2000
    max_aliases: int = 15
    introspection: bool = True


def build_schema(limits: SchemaLimits = SchemaLimits()) -> strawberry.Schema:
    # Factories, not instances: extensions keep per-operation state, so each operation gets its own.
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: QueryDepthLimiter(max_depth=limits.max_depth),
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        InputGuard,
        MaskUnexpectedErrors,
    ]
    if not limits.introspection:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(ERROR_TYPES),
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,  # dates and times bounded, with our texts (schema/scalars.py)
    )
