"""Reachability as the API shows it: the state, the schedule, and the people nobody has reached."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, TypeAlias

import strawberry

from carecore.reachability import models as m
from carecore.reachability.service import Unreachable
from schema.types.people import Person

ReachabilityState: TypeAlias = Annotated[m.ReachState, strawberry.enum(name="ReachabilityState")]
UnreachableCause: TypeAlias = Annotated[m.Cause, strawberry.enum(name="UnreachableCause")]
HumanContactKind: TypeAlias = Annotated[m.HumanContactKind, strawberry.enum(name="HumanContactKind")]
HumanContactOutcome: TypeAlias = Annotated[m.HumanOutcome, strawberry.enum(name="HumanContactOutcome")]


@strawberry.type(description="A weekly wellness call in the agency's time zone.")
class CallSlot:
    weekday: int = strawberry.field(description="0 = Monday ... 6 = Sunday.")
    time: str = strawberry.field(description="HH:MM.")


@strawberry.type
class Reachability:
    person_id: strawberry.ID
    state: ReachabilityState
    unanswered: int = strawberry.field(description="AI attempts unanswered in a row (dropped callbacks count).")
    cause: UnreachableCause | None
    state_since: datetime | None
    unreachable_since: datetime | None
    schedule: list[CallSlot]
    next_call_at: datetime | None
    last_heard_at: datetime | None = strawberry.field(description="An answer, a sign of life or a human visit.")
    last_human_contact_at: datetime | None
    human_task_at: datetime | None = strawberry.field(description="When the human call task was pushed.")
    usual_quiet_hours: float = strawberry.field(description="Learned: p95 of 28 days, 6 to 24 hours.")
    incident_id: strawberry.ID | None = strawberry.field(description="The NO_RESPONSE incident, once opened.")

    @classmethod
    def from_domain(cls, r: m.Reach) -> Reachability:
        return cls(
            person_id=strawberry.ID(r.person_id),
            state=r.state,
            unanswered=r.unanswered,
            cause=r.cause,
            state_since=r.state_since,
            unreachable_since=r.unreachable_since,
            schedule=[CallSlot(weekday=s.weekday, time=s.at.strftime("%H:%M")) for s in r.schedule],
            next_call_at=r.next_call_at,
            last_heard_at=r.last_heard_at,
            last_human_contact_at=r.last_human_contact_at,
            human_task_at=r.human_task_at,
            usual_quiet_hours=r.quiet_limit.total_seconds() / 3600,
            incident_id=strawberry.ID(r.incident_id) if r.incident_id else None,
        )


@strawberry.type
class HumanContact:
    kind: HumanContactKind
    outcome: HumanContactOutcome
    at: datetime
    recorded_by_id: strawberry.ID
    note: str


@strawberry.type
class UnreachablePerson:
    person: Person
    reachability: Reachability
    last_human_contact: HumanContact | None

    @classmethod
    def from_domain(cls, u: Unreachable) -> UnreachablePerson:
        last = u.last_human
        contact = None
        if last is not None and last.human_outcome is not None:
            kind = m.HumanContactKind(last.kind.value)
            contact = HumanContact(
                kind=kind,
                outcome=last.human_outcome,
                at=last.at,
                recorded_by_id=strawberry.ID(last.source),
                note=last.note,
            )
        return cls(
            person=Person.from_domain(u.person),
            reachability=Reachability.from_domain(u.reach),
            last_human_contact=contact,
        )


@strawberry.type(description="The agency's escalation when nobody answers: Gyeonggi's rule unless changed.")
class ReachabilityLadder:
    is_default: bool
    unanswered_calls: int = strawberry.field(description="Unanswered AI calls before a human calls.")
    retry_after_minutes: int
    outcome_grace_minutes: int = strawberry.field(description="A due call's outcome missing this long is no answer.")
    check_answer_within_minutes: int
    human_call_within_minutes: int
    visit_within_minutes: int
    no_calls_from: str = strawberry.field(description="HH:MM, agency time: no AI calls from here ...")
    no_calls_until: str = strawberry.field(description="... to here.")
    risk_words: list[str]

    @classmethod
    def from_domain(cls, ladder: m.Ladder, *, is_default: bool) -> ReachabilityLadder:
        def minutes(d: timedelta) -> int:
            return d // timedelta(minutes=1)

        return cls(
            is_default=is_default,
            unanswered_calls=ladder.unanswered_calls,
            retry_after_minutes=minutes(ladder.retry_after),
            outcome_grace_minutes=minutes(ladder.outcome_grace),
            check_answer_within_minutes=minutes(ladder.check_answer_within),
            human_call_within_minutes=minutes(ladder.human_call_within),
            visit_within_minutes=minutes(ladder.visit_within),
            no_calls_from=f"{ladder.no_calls_from:%H:%M}",
            no_calls_until=f"{ladder.no_calls_until:%H:%M}",
            risk_words=list(ladder.risk_words),
        )
