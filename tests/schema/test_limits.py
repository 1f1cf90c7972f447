"""Protective limits of the schema: depth, aliases, tokens, introspection, masked errors."""

from __future__ import annotations

from carecore.ports import Ports
from schema.build import SchemaLimits, build_schema
from schema.context import Context
from tests.conftest import World

DEEP = "{ people { edges { node { carePlanVersions { edges { node { tasks { schedule { weekdays } } } } } } } } }"


async def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(ports: Ports, world: World) -> None:
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    shallow = build_schema(SchemaLimits(max_depth=5))

    result = await shallow.execute(DEEP, context_value=context)

    assert result.errors and "exceeds maximum operation depth" in result.errors[0].message
    assert result.data is None


async def test_the_default_limit_allows_the_deepest_real_query(ports: Ports, world: World) -> None:
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    result = await build_schema().execute(DEEP, context_value=context)
    assert result.errors is None


async def test_introspection_can_be_turned_off(ports: Ports, world: World) -> None:
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())
    closed = build_schema(SchemaLimits(introspection=False))

    result = await closed.execute("{ __schema { types { name } } }", context_value=context)

    assert result.errors and "introspection" in result.errors[0].message.lower()
    assert (await closed.execute("{ me { id } }", context_value=context)).errors is None


async def test_an_unexpected_exception_is_masked(ports: Ports, world: World) -> None:
    class Broken:
        async def get(self, user_id: str) -> None:
            raise RuntimeError("connection string with a password in it")

    ports.store.users = Broken()  # type: ignore[assignment]
    context = Context(ports=ports, principal_or_none=world.coordinator.principal())

    result = await build_schema().execute("{ me { id } }", context_value=context)

    assert result.errors and result.errors[0].message == "예기치 않은 오류가 발생했습니다."  # the caller's ko
    assert result.errors[0].extensions == {"code": "INTERNAL_SERVER_ERROR"}
