"""Reachability mutations: a coordinator's call schedule, the human call or visit, the callback token."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.reachability.models import Ladder, Reach
from carecore.reachability.service import (
    Recorded,
    issue_callback_token,
    record_human_contact,
    set_call_schedule,
    set_ladder,
)
from schema.errors import NotFoundError, ValidationError
from schema.inputs.reachability import (
    IssueCallCallbackTokenInput,
    RecordHumanContactInput,
    SetCallScheduleInput,
    SetReachabilityLadderInput,
)
from schema.mutations.support import Info, attempt
from schema.types.reachability import Reachability, ReachabilityLadder


@strawberry.type
class SetCallSchedulePayload:
    reachability: Reachability


@strawberry.type
class RecordHumanContactPayload:
    reachability: Reachability
    duplicate: bool


@strawberry.type
class IssueCallCallbackTokenPayload:
    token: str = strawberry.field(description="Shown once. Issuing again replaces it.")
    callback_path: str = strawberry.field(description="POST call outcomes here, unsigned (README).")


@strawberry.type
class SetReachabilityLadderPayload:
    ladder: ReachabilityLadder


SetReachabilityLadderResult = Annotated[
    SetReachabilityLadderPayload | ValidationError, strawberry.union("SetReachabilityLadderResult")
]
SetCallScheduleResult = Annotated[
    SetCallSchedulePayload | ValidationError | NotFoundError, strawberry.union("SetCallScheduleResult")
]
RecordHumanContactResult = Annotated[
    RecordHumanContactPayload | ValidationError | NotFoundError, strawberry.union("RecordHumanContactResult")
]
IssueCallCallbackTokenResult = Annotated[
    IssueCallCallbackTokenPayload | NotFoundError, strawberry.union("IssueCallCallbackTokenResult")
]


def _laddered(ladder: Ladder) -> SetReachabilityLadderPayload:
    return SetReachabilityLadderPayload(ladder=ReachabilityLadder.from_domain(ladder, is_default=False))


def _scheduled(reach: Reach) -> SetCallSchedulePayload:
    return SetCallSchedulePayload(reachability=Reachability.from_domain(reach))


def _recorded(r: Recorded) -> RecordHumanContactPayload:
    return RecordHumanContactPayload(reachability=Reachability.from_domain(r.reach), duplicate=r.duplicate)


def _token(token: str) -> IssueCallCallbackTokenPayload:
    return IssueCallCallbackTokenPayload(token=token, callback_path=f"/callbacks/calls/{token}")


@strawberry.type
class ReachabilityMutation:
    @strawberry.mutation(
        description="Coordinators: the agency's reachability ladder (calls before a human, retries, deadlines, "
        "no-call hours, risk words); every person's next step follows it. Audited."
    )
    async def set_reachability_ladder(
        self, info: Info, input: SetReachabilityLadderInput
    ) -> SetReachabilityLadderResult:
        ctx = info.context

        async def run() -> Ladder:
            return await set_ladder(ctx.ports, ctx.principal, input.to_domain())

        return await attempt(SetReachabilityLadderResult, run, _laddered)

    @strawberry.mutation(description="Coordinators: a person's weekly wellness calls, so each outcome is known due.")
    async def set_call_schedule(self, info: Info, input: SetCallScheduleInput) -> SetCallScheduleResult:
        ctx = info.context

        async def run() -> Reach:
            slots = [s.to_domain() for s in input.slots]
            check_in = input.check_in_user_id
            return await set_call_schedule(ctx.ports, ctx.principal, input.person_id, slots, check_in_user_id=check_in)

        return await attempt(SetCallScheduleResult, run, _scheduled)

    @strawberry.mutation(
        description="Coordinators and caregivers who serve the person: the outcome of a human call or visit. "
        "REACHED resolves; NOT_REACHED takes the next step now; NEEDS_HELP opens an incident."
    )
    async def record_human_contact(self, info: Info, input: RecordHumanContactInput) -> RecordHumanContactResult:
        ctx = info.context
        contact = input.to_domain(ctx.ports.clock.now())
        return await attempt(
            RecordHumanContactResult,
            lambda: record_human_contact(
                ctx.ports, ctx.principal, input.person_id, contact, idempotency_key=input.idempotency_key
            ),
            _recorded,
        )

    @strawberry.mutation(
        description="Coordinators: the agency's callback URL token for a wellness-call provider that cannot sign."
    )
    async def issue_call_callback_token(
        self, info: Info, input: IssueCallCallbackTokenInput
    ) -> IssueCallCallbackTokenResult:
        ctx = info.context
        return await attempt(
            IssueCallCallbackTokenResult,
            lambda: issue_callback_token(ctx.ports, ctx.principal, input.service_user_id),
            _token,
        )
