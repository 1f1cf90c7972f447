"""Inputs of reachability: a call schedule, a human contact, a callback token."""

from __future__ import annotations

from datetime import datetime, time

import strawberry

from carecore.errors import ValidationFailed
from carecore.reachability import models as m
from schema.types.reachability import HumanContactKind, HumanContactOutcome


@strawberry.input
class CallSlotInput:
    weekday: int = strawberry.field(description="0 = Monday ... 6 = Sunday.")
    time: str = strawberry.field(description="HH:MM in the agency's time zone; no AI calls 21:00-07:59.")

    def to_domain(self) -> m.CallSlot:
        try:
            at = time.fromisoformat(self.time)
        except ValueError:
            raise ValidationFailed("time must be HH:MM.", field="slots") from None
        return m.CallSlot(self.weekday, at.replace(second=0, microsecond=0))


@strawberry.input(description="Replaces the person's weekly wellness calls; an empty list stops them.")
class SetCallScheduleInput:
    person_id: strawberry.ID
    slots: list[CallSlotInput]
    check_in_user_id: strawberry.ID | None = strawberry.field(
        default=None, description='The person\'s own app account, asked "are you all right?" after a long silence.'
    )


@strawberry.input(description="A human call (the task pushed to you) or a visit; resending the key is harmless.")
class RecordHumanContactInput:
    person_id: strawberry.ID
    kind: HumanContactKind  # type: ignore[valid-type]
    outcome: HumanContactOutcome  # type: ignore[valid-type]
    idempotency_key: str
    at: datetime | None = strawberry.field(default=None, description="When it happened; now when omitted.")
    note: str = ""

    def to_domain(self, now: datetime) -> m.Contact:
        return m.Contact(
            id="",
            agency_id="",
            person_id=self.person_id,
            kind=m.ContactKind(m.HumanContactKind(self.kind).value),
            at=self.at or now,
            received_at=now,
            source="",
            human_outcome=m.HumanOutcome(self.outcome),
            note=self.note,
        )


@strawberry.input
class IssueCallCallbackTokenInput:
    service_user_id: strawberry.ID = strawberry.field(description="The wellness-call service's account.")
