"""A budget for what one operation may ask of the database, checked before validation and execution.

Depth, token and alias limits bound a document's shape, not its fan-out: `people(first: 100) { ...
shifts(first: 100) ... }` is shallow and short, yet asks for ten thousand shifts. The cost model:
- a field that returns an object (or a list of them) costs 1; a leaf (scalar, enum) costs nothing;
- a field with a `first` argument (every connection) multiplies what is selected under it by `first`,
  as the resolver will take it: the literal, else the variable's value, else the variable's default,
  else the page default; clamped to 0..MAX_PAGE_SIZE (a larger `first` is the resolver's own
  BAD_USER_INPUT, so the cost stays about size, not range);
- nested connections multiply: `people(first: 100) { edges { node { shifts(first: 100) { edges { node
  { id } } } } } }` costs 1 + 100 * (1 + 1 + (1 + 100 * 2)) = 20,301.
The walk is one pass: each fragment's cost is computed once and reused wherever it is spread (its type
condition fixes its fields, so its cost does not depend on where it is spread), so checking costs time
linear in the document, whatever it spreads. It runs for every transport (HTTP and WebSocket), before
GraphQL's own validation: an over-budget document is refused with MAX_COST_EXCEEDED and nothing runs.
Unknown fields and types, and fragment cycles, cost nothing here; validation names them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension

from carecore.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema.error_codes import DEFAULT_LOCALE, Code, text

# The apps' largest screen (a week of 100 people) costs about two thirds of it (tests/schema/test_query_cost.py).
MAX_COST = 10_000


def operation_cost(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> int:
    """What `operation` costs under the model above, with these variables."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or () if d.default_value}
    costs: dict[str, int] = {}
    visiting: set[str] = set()

    def first_of(node: FieldNode) -> int:
        given: ValueNode | None = next((a.value for a in node.arguments or () if a.name.value == "first"), None)
        value: object = None
        if isinstance(given, VariableNode):
            name = given.name.value
            value = variables.get(name) if name in variables else _int_literal(defaults.get(name))
        elif given is not None:
            value = _int_literal(given)
        if not isinstance(value, int) or isinstance(value, bool):
            value = DEFAULT_PAGE_SIZE  # null or absent: the resolver's default; garbage: coercion refuses it
        return min(max(value, 0), MAX_PAGE_SIZE)

    def fragment(name: str) -> int:
        if name in costs:
            return costs[name]
        found = fragments.get(name)
        if found is None or name in visiting:
            return 0  # unknown, or a cycle: validation refuses both
        visiting.add(name)
        costs[name] = selections(found.selection_set, schema.get_type(found.type_condition.name.value))
        visiting.discard(name)
        return costs[name]

    def selections(selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> int:
        total = 0
        for s in selection_set.selections if selection_set else ():
            if isinstance(s, FieldNode):
                total += field(s, parent)
            elif isinstance(s, InlineFragmentNode):
                condition = schema.get_type(s.type_condition.name.value) if s.type_condition else parent
                total += selections(s.selection_set, condition)
            elif isinstance(s, FragmentSpreadNode):
                total += fragment(s.name.value)
        return total

    def field(node: FieldNode, parent: GraphQLNamedType | None) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0  # a union's only field is __typename; anything else is validation's to refuse
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        if is_leaf_type(returned):
            return 0
        multiplier = first_of(node) if "first" in definition.args else 1
        return 1 + multiplier * selections(node.selection_set, returned)

    root = schema.get_root_type(operation.operation)
    return selections(operation.selection_set, root)


def _int_literal(node: ValueNode | None) -> int | None:
    return int(node.value) if isinstance(node, IntValueNode) else None


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation over `max_cost` before validation; nothing of it runs."""

    def __init__(self, *, max_cost: int = MAX_COST) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document is not None else None
        if document is not None and operation is not None:
            cost = operation_cost(context.schema._schema, document, operation, context.variables or {})
            if cost > self.max_cost:
                locale = getattr(context.context, "locale", DEFAULT_LOCALE)
                message = text("too_costly", locale, cost=f"{cost:,}", limit=f"{self.max_cost:,}")
                extensions = {"code": Code.MAX_COST_EXCEEDED.value, "cost": cost, "maxCost": self.max_cost}
                # Set before validation runs: Strawberry then skips it and answers these errors.
                context.pre_execution_errors = [GraphQLError(message, extensions=extensions)]
        yield
