"""Inputs of reachability: a call schedule, a human contact, a callback token."""

from __future__ import annotations

from datetime import datetime, time, timedelta

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
    kind: HumanContactKind
    outcome: HumanContactOutcome
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


def _time(value: str, field: str) -> time:
    try:
        return time.fromisoformat(value).replace(second=0, microsecond=0)
    except ValueError:
        raise ValidationFailed(f"{field} must be HH:MM.", field=field) from None


@strawberry.input(
    description="Replaces the agency's whole ladder; the core refuses one that delays a human past a day."
)
class SetReachabilityLadderInput:
    unanswered_calls: int
    retry_after_minutes: int
    outcome_grace_minutes: int
    check_answer_within_minutes: int
    human_call_within_minutes: int
    visit_within_minutes: int
    no_calls_from: str
    no_calls_until: str
    risk_words: list[str]

    def to_domain(self) -> m.Ladder:
        return m.Ladder(
            unanswered_calls=self.unanswered_calls,
            retry_after=timedelta(minutes=self.retry_after_minutes),
            outcome_grace=timedelta(minutes=self.outcome_grace_minutes),
            check_answer_within=timedelta(minutes=self.check_answer_within_minutes),
            human_call_within=timedelta(minutes=self.human_call_within_minutes),
            visit_within=timedelta(minutes=self.visit_within_minutes),
            no_calls_from=_time(self.no_calls_from, "noCallsFrom"),
            no_calls_until=_time(self.no_calls_until, "noCallsUntil"),
            risk_words=tuple(self.risk_words),
        )
