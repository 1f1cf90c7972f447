"""The Relay connection contract every list keeps: complete PageInfo, and `first: 0` asks for nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import World
from tests.schema.conftest import Execute

PEOPLE = """query ($first: Int, $after: String) {
  people(first: $first, after: $after) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def page(execute: Execute, world: World, **variables: Any) -> Any:
    result = await execute(PEOPLE, variables, as_user=world.coordinator)
    assert result.errors is None, result.errors
    return result.data["people"]


async def test_first_zero_returns_no_edges_and_says_whether_there_are_any(execute: Execute, world: World) -> None:
    empty = await page(execute, world, first=0)

    assert empty["edges"] == []
    assert empty["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None}


async def test_page_info_names_both_ends_and_whether_items_come_before(execute: Execute, world: World) -> None:
    first = await page(execute, world, first=1)
    second = await page(execute, world, first=1, after=first["pageInfo"]["endCursor"])

    for shown in (first, second):
        only = shown["edges"][0]["cursor"]
        assert shown["pageInfo"]["startCursor"] == only == shown["pageInfo"]["endCursor"]
    assert not first["pageInfo"]["hasPreviousPage"] and second["pageInfo"]["hasPreviousPage"]
    assert first["edges"][0]["node"]["id"] != second["edges"][0]["node"]["id"]


async def test_a_page_size_out_of_range_is_a_validation_error(execute: Execute, world: World) -> None:
    for first in (-1, 101):
        result = await execute(PEOPLE, {"first": first}, as_user=world.coordinator)

        assert result.errors is not None
        assert result.errors[0].extensions["code"] == "BAD_USER_INPUT"
        assert "between 0 and 100" in result.errors[0].message
