"""`attempt`: a mutation answers with its payload, a refusal its result union names, or a masked error."""

from __future__ import annotations

from typing import Annotated

import pytest
import strawberry

from carecore.errors import NotFound, StateConflict
from schema.errors import NotFoundError
from schema.mutations.support import attempt


@strawberry.type
class Done:
    value: int


Result = Annotated[Done | NotFoundError, strawberry.union("TestResult")]


async def test_the_payload_or_a_named_refusal_comes_back_as_the_union_member() -> None:
    async def works() -> int:
        return 7

    async def missing() -> int:
        raise NotFound("Shift", "s-1")

    assert await attempt(Result, works, lambda v: Done(value=v)) == Done(value=7)
    refused = await attempt(Result, missing, lambda v: Done(value=v))
    assert isinstance(refused, NotFoundError) and refused.message == "Shift not found."


async def test_a_refusal_the_union_does_not_name_is_raised_not_returned_as_a_wrong_type() -> None:
    async def conflicting() -> int:
        raise StateConflict("already closed")

    with pytest.raises(StateConflict):
        await attempt(Result, conflicting, lambda v: Done(value=v))
