"""The query-cost budget: nested connections multiply, variables count, over budget nothing runs, and the
mobile apps' own operations (schema/operations) stay well under it."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import get_operation_ast, parse, validate

from carecore.ports import Ports
from schema.build import SchemaLimits, build_schema
from schema.context import Context
from schema.query_cost import MAX_COST, operation_cost
from tests.commands import counted
from tests.conftest import World

OPERATIONS = sorted((Path(__file__).resolve().parents[2] / "schema" / "operations").glob("*.graphql"))
SCHEMA = build_schema()
WEEK = {"from": "2026-11-30T00:00:00+09:00", "to": "2026-12-07T00:00:00+09:00"}
NESTED = """query ($people: Int, $shifts: Int) {
  people(first: $people) { edges { node { id
    shifts(from: "2026-11-30T00:00:00+09:00", to: "2026-12-07T00:00:00+09:00", first: $shifts) {
      edges { node { id caregiver { id } } } } } } }
}"""


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    parsed = parse(document)
    operation = get_operation_ast(parsed)
    assert operation is not None
    return operation_cost(SCHEMA._schema, parsed, operation, variables or {})


def test_nested_connections_multiply_by_each_first() -> None:
    # people: 1 + 100 * (edges 1 + node 1 + shifts (1 + 100 * (edges 1 + node 1 + caregiver 1)))
    assert cost(NESTED, {"people": 100, "shifts": 100}) == 1 + 100 * (2 + 1 + 100 * 3) == 30_301
    assert cost(NESTED, {"people": 10, "shifts": 10}) == 1 + 10 * (2 + 1 + 10 * 3)
    assert cost(NESTED, {}) == 1 + 20 * (2 + 1 + 20 * 3), "an absent `first` is the page default, 20"
    assert cost(NESTED, {"people": 0}) == 1


def test_a_first_out_of_range_counts_as_the_largest_page_and_the_resolver_refuses_it() -> None:
    assert cost(NESTED, {"people": 2**31 - 1, "shifts": 1}) == cost(NESTED, {"people": 100, "shifts": 1})
    assert cost(NESTED, {"people": -5, "shifts": 1}) == 1


def test_literals_variables_and_variable_defaults_count_alike() -> None:
    literal = NESTED.replace("query ($people: Int, $shifts: Int)", "").replace("$people", "30").replace("$shifts", "7")
    defaults = NESTED.replace("$people: Int, $shifts: Int", "$people: Int = 30, $shifts: Int = 7")
    assert cost(literal) == cost(defaults) == cost(NESTED, {"people": 30, "shifts": 7})


def test_a_fragment_is_costed_once_however_often_it_is_spread() -> None:
    # Each level spreads the one below twice: 2^60 copies of `me` once spread. A walk that spread the
    # fragments would never finish; costing each fragment once takes 61 small steps.
    levels = 60
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}\n" for i in range(1, levels + 1))
    document = f"query {{ ...F{levels} }}\nfragment F0 on Query {{ me {{ id }} }}\n{fragments}"
    assert cost(document) == 2**levels


@pytest.mark.parametrize("path", OPERATIONS, ids=[p.stem for p in OPERATIONS])
def test_the_apps_operations_validate_and_stay_under_budget_even_at_their_largest_pages(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    assert validate(SCHEMA._schema, document) == []
    operation = get_operation_ast(document)
    assert operation is not None
    names = {d.variable.name.value for d in operation.variable_definitions or ()}
    largest = {"first": 100} if "first" in names else {}
    largest |= {"people": 100, "shifts": 20} if path.stem == "CoordinatorSchedule" else {}
    assert operation_cost(SCHEMA._schema, document, operation, largest) <= MAX_COST * 0.7


async def test_an_operation_over_budget_is_refused_before_anything_runs(
    ports: Ports, world: World, mongo_uri: str, database_name: str
) -> None:
    async with counted(mongo_uri, database_name, ports) as (counted_ports, log):
        context = Context(ports=counted_ports, principal_or_none=world.coordinator.principal())
        refused = await SCHEMA.execute(NESTED, variable_values={"people": 100, "shifts": 50}, context_value=context)
        sent = sum(log.names.values())

    assert refused.data is None and refused.errors is not None
    [error] = refused.errors
    assert error.extensions == {"code": "MAX_COST_EXCEEDED", "cost": 15_301, "maxCost": MAX_COST}
    assert error.message.startswith("연산 비용이 15,301(으)로 한도 10,000을(를) 넘습니다.")
    assert sent == 0, "nothing ran: not even the people page was read"


async def test_the_same_operation_with_smaller_pages_runs(ports: Ports, world: World) -> None:
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    result = await SCHEMA.execute(NESTED, variable_values={"people": 100, "shifts": 20}, context_value=context)
    assert result.errors is None and result.data is not None
    assert {e["node"]["id"] for e in result.data["people"]["edges"]} >= {world.minji.id, world.jiho.id}


async def test_a_lower_budget_is_a_setting_of_the_schema(ports: Ports, world: World) -> None:
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    tight = build_schema(SchemaLimits(max_cost=100))
    result = await tight.execute(NESTED, variable_values={"people": 10, "shifts": 10}, context_value=context)
    assert result.errors and result.errors[0].extensions and result.errors[0].extensions["code"] == "MAX_COST_EXCEEDED"
