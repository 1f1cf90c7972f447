"""Schema tests execute documents directly against the schema with a real store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import strawberry

from carecore.ports import Ports
from carecore.users.models import User
from schema.build import build_schema
from schema.context import Context

Execute = Callable[..., Awaitable[Any]]


@pytest.fixture(scope="session")
def schema() -> strawberry.Schema:
    return build_schema()


@pytest.fixture
def execute(schema: strawberry.Schema, ports: Ports) -> Execute:
    """Runs a document as `as_user` (None: anonymous); returns strawberry's ExecutionResult."""

    async def run(document: str, variables: dict[str, Any] | None = None, *, as_user: User | None) -> Any:
        context = Context(ports=ports, principal_or_none=as_user.principal() if as_user else None)
        return await schema.execute(document, variable_values=variables or {}, context_value=context)

    return run
