"""Reachability values: the call schedule, what was heard from a person, and the one state per person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum


class ReachState(StrEnum):
    OK = "OK"
    DUE = "DUE"  # a scheduled AI call is due: its outcome is awaited
    UNANSWERED = "UNANSWERED"  # n AI calls (or a wellness check) went unanswered
    HUMAN_CALLING = "HUMAN_CALLING"  # a coordinator on duty has the task of calling the person today
    VISIT_REQUESTED = "VISIT_REQUESTED"  # the person's caregivers (else the coordinator) are asked to go
    RESOLVED = "RESOLVED"  # a human reached the person; behaves like OK until the next due call


# States in which the person is unreachable: they count for `unreachablePeople` and the 24-hour invariant.
UNREACHABLE = frozenset({ReachState.UNANSWERED, ReachState.HUMAN_CALLING, ReachState.VISIT_REQUESTED})
# States in which nothing is awaited from the person.
SETTLED = frozenset({ReachState.OK, ReachState.RESOLVED})


class Cause(StrEnum):
    CALL = "CALL"  # scheduled wellness calls went unanswered
    QUIET = "QUIET"  # no sign of life for longer than the person's usual longest quiet period


class ContactKind(StrEnum):
    """What was heard, or not heard, from or about a person."""

    CALL = "CALL"  # an AI wellness call's outcome
    SIGN = "SIGN"  # a passive sign of life
    HUMAN_CALL = "HUMAN_CALL"  # a coordinator's call, recorded on the human-call task
    VISIT = "VISIT"  # someone went to see the person


class CallOutcome(StrEnum):
    ANSWERED = "ANSWERED"
    NOT_ANSWERED = "NOT_ANSWERED"  # answering machines count as not answered
    FAILED = "FAILED"  # the call could not be placed: nobody heard the person either
    UNKNOWN = "UNKNOWN"  # no outcome arrived within the grace: treated as not answered


class SignKind(StrEnum):
    PHONE_USED = "PHONE_USED"
    POWER = "POWER"
    DOOR = "DOOR"
    APP_OPENED = "APP_OPENED"
    SOS_PRESSED = "SOS_PRESSED"
    CHECK_ANSWERED = "CHECK_ANSWERED"  # the person answered the "are you all right?" push


class HumanContactKind(StrEnum):
    """The contacts a human records: the subset of ContactKind the API takes."""

    HUMAN_CALL = "HUMAN_CALL"
    VISIT = "VISIT"


class HumanOutcome(StrEnum):
    REACHED = "REACHED"  # the person was spoken to, or seen, and is all right
    NOT_REACHED = "NOT_REACHED"  # a human call went unanswered: a visit is next
    NEEDS_HELP = "NEEDS_HELP"  # reached, and something is wrong: an incident at once


@dataclass(frozen=True, slots=True)
class CallSlot:
    """A weekly wellness call, in the agency's time zone."""

    weekday: int  # 0 = Monday
    at: time


@dataclass(frozen=True, slots=True)
class Ladder:
    """The agency's escalation of reachability: data, defaulting to Gyeonggi's rule."""

    unanswered_calls: int = 3  # unanswered AI calls before a human calls
    retry_after: timedelta = timedelta(hours=1)  # the wellness-call service's next attempt after no answer
    outcome_grace: timedelta = timedelta(minutes=30)  # a due call's outcome that has not come by then is UNKNOWN
    check_answer_within: timedelta = timedelta(minutes=30)  # for the "are you all right?" push
    human_call_within: timedelta = timedelta(hours=4)  # the same-day human call; then a visit
    visit_within: timedelta = timedelta(hours=4)  # the visit; then a NO_RESPONSE incident
    no_calls_from: time = time(21, 0)  # no AI calls from 21:00 ...
    no_calls_until: time = time(8, 0)  # ... to 07:59
    risk_words: tuple[str, ...] = ("아프다", "아파", "죽고 싶", "살려", "쓰러", "help", "hurts")


GYEONGGI = Ladder()

QUIET_MIN = timedelta(hours=6)
QUIET_MAX = timedelta(hours=24)
QUIET_WINDOW = timedelta(days=28)


@dataclass(frozen=True, slots=True)
class Contact:
    """One outcome or sign, stored under an id derived from its source so a resend is one contact."""

    id: str
    agency_id: str
    person_id: str
    kind: ContactKind
    at: datetime  # when it happened (the call, the sign)
    received_at: datetime
    source: str  # the service's name, or the user who recorded it
    call_outcome: CallOutcome | None = None
    sign: SignKind | None = None
    human_outcome: HumanOutcome | None = None
    session: str | None = None
    attempt: int | None = None
    risk_words: tuple[str, ...] = ()
    mood: str | None = None
    note: str = ""
    applied: bool = False

    @property
    def heard_from(self) -> bool:
        """Whether the person was heard from (an answer, a sign, a human who reached them)."""
        if self.kind is ContactKind.CALL:
            return self.call_outcome is CallOutcome.ANSWERED
        if self.kind is ContactKind.SIGN:
            return True
        return self.human_outcome in (HumanOutcome.REACHED, HumanOutcome.NEEDS_HELP)

    @property
    def is_human(self) -> bool:
        return self.kind in (ContactKind.HUMAN_CALL, ContactKind.VISIT)


@dataclass(frozen=True, slots=True)
class Effect:
    """What a transition must still make happen outside its document: an event, maybe an incident.

    Written in the same update as the transition, removed once done, so a crash in between leaves it
    for the `reachability` job (nothing a transition promised is lost).
    """

    version: int  # the version the transition produced: ids of its event and audit derive from it
    state: ReachState
    previous: ReachState
    unanswered: int
    cause: Cause | None
    episode: int
    at: datetime
    open_incident: str | None = None  # "NO_RESPONSE" or "RISK_WORDS"
    contact_id: str | None = None
    check: bool = False  # ask the person "are you all right?"


@dataclass(frozen=True, slots=True)
class Reach:
    """One person's reachability: the state, its deadlines, and what was last heard."""

    person_id: str
    agency_id: str
    state: ReachState = ReachState.OK
    version: int = 0
    unanswered: int = 0
    cause: Cause | None = None
    episode: int = 0  # counts escalations: one NO_RESPONSE incident per episode
    state_since: datetime | None = None
    unreachable_since: datetime | None = None
    schedule: tuple[CallSlot, ...] = ()
    schedule_revision: int = 0
    check_in_user_id: str | None = None  # the person's own app account, asked "are you all right?"
    next_call_at: datetime | None = None
    awaiting_since: datetime | None = None  # DUE / UNANSWERED: when the awaited attempt was due
    check_at: datetime | None = None  # when the job must look at this person next
    check_sent: bool = False  # QUIET: the "are you all right?" push went out
    last_heard_at: datetime | None = None  # an answer, a sign of life or a human who reached them
    last_sign_at: datetime | None = None  # a passive source exists once a sign was received
    last_human_contact_at: datetime | None = None  # a human attempt (call recorded, visit)
    human_task_at: datetime | None = None  # when the human call task was pushed
    quiet_limit: timedelta = QUIET_MAX
    quiet_learned_at: datetime | None = None
    incident_id: str | None = None
    applied_contacts: tuple[str, ...] = ()
    pending: tuple[Effect, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CallReport:
    """One attempt of a wellness call, as the service reports it."""

    person_ref: str
    session: str  # the service's id of the scheduled call; its retries share it
    attempt: int  # 1, 2, 3 ...
    outcome: CallOutcome
    at: datetime
    risk_words: tuple[str, ...] = ()
    mood: str | None = None
    transcript: str = ""  # searched for the agency's risk words, never stored


@dataclass(frozen=True, slots=True)
class SignReport:
    person_ref: str
    kind: SignKind
    at: datetime
    source_id: str | None = None  # the device's own id of the event, when it has one
