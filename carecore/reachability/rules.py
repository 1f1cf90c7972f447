"""The reachability state machine as pure functions of (state, what happened, ladder, now).

Each returns the next `Reach` with the transition's `Effect` appended to `pending`, or None when
nothing changes state. Storage applies a result with one conditional update on `version`, so of two
workers or requests that computed a transition from the same version exactly one lands.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from carecore.alerts.models import QuietHours
from carecore.alerts.rules import in_quiet_hours
from carecore.errors import ValidationFailed
from carecore.reachability.models import (
    QUIET_MAX,
    QUIET_MIN,
    QUIET_WINDOW,
    SETTLED,
    CallSlot,
    Cause,
    Contact,
    ContactKind,
    Effect,
    HumanOutcome,
    Ladder,
    Reach,
    ReachState,
)

NO_RESPONSE = "NO_RESPONSE"
RISK_WORDS = "RISK_WORDS"
NEEDS_HELP = "NEEDS_HELP"
MAX_APPLIED = 100  # contact ids kept on the state to make applying one twice a no-op
MIN_QUIET_GAPS = 7  # fewer gaps than this in the window is no data: the 24-hour default holds


def in_no_call_window(ladder: Ladder, local: time) -> bool:
    # The same daily window as quiet hours: end <= start runs past midnight.
    return in_quiet_hours(QuietHours(ladder.no_calls_from, ladder.no_calls_until), local)


def check_schedule(ladder: Ladder, slots: Sequence[CallSlot]) -> tuple[CallSlot, ...]:
    """Slots sorted and without repeats; refuses a weekday out of range or a time in the no-call window."""
    for slot in slots:
        if not 0 <= slot.weekday <= 6:
            raise ValidationFailed("weekday must be 0 (Monday) to 6 (Sunday).", field="slots")
        if in_no_call_window(ladder, slot.at):
            window = f"{ladder.no_calls_from:%H:%M} to {ladder.no_calls_until:%H:%M}"
            raise ValidationFailed(f"No AI calls are made {window}; choose another time.", field="slots")
    if len(slots) > 21:
        raise ValidationFailed("At most 21 calls a week.", field="slots")
    return tuple(sorted(set(slots), key=lambda s: (s.weekday, s.at)))


# An agency's ladder may differ from Gyeonggi's, within bounds that keep I9: a human tries within a day.
LADDER_BOUNDS: dict[str, tuple[timedelta, timedelta]] = {
    "retryAfterMinutes": (timedelta(minutes=10), timedelta(hours=12)),
    "outcomeGraceMinutes": (timedelta(minutes=5), timedelta(hours=2)),
    "checkAnswerWithinMinutes": (timedelta(minutes=5), timedelta(hours=2)),
    "humanCallWithinMinutes": (timedelta(minutes=30), timedelta(hours=12)),
    "visitWithinMinutes": (timedelta(minutes=30), timedelta(hours=12)),
}
HUMAN_WITHIN = timedelta(hours=24)
MAX_RISK_WORDS = 100
MAX_RISK_WORD_LENGTH = 40


def _night(ladder: Ladder) -> timedelta:
    """How long the no-call window lasts (it may span midnight)."""
    start = timedelta(hours=ladder.no_calls_from.hour, minutes=ladder.no_calls_from.minute)
    end = timedelta(hours=ladder.no_calls_until.hour, minutes=ladder.no_calls_until.minute)
    return (end - start) % timedelta(days=1)


def check_ladder(ladder: Ladder) -> Ladder:
    """An agency's ladder as given, with its risk words trimmed; refuses one that could leave a person
    unreachable for more than a day before a human tries (I9): every AI attempt, each outcome's grace
    and a whole night of no calls must fit in 24 hours."""
    if not 1 <= ladder.unanswered_calls <= 10:
        raise ValidationFailed("unansweredCalls must be between 1 and 10.", field="unansweredCalls")
    given = {
        "retryAfterMinutes": ladder.retry_after,
        "outcomeGraceMinutes": ladder.outcome_grace,
        "checkAnswerWithinMinutes": ladder.check_answer_within,
        "humanCallWithinMinutes": ladder.human_call_within,
        "visitWithinMinutes": ladder.visit_within,
    }
    for name, value in given.items():
        low, high = LADDER_BOUNDS[name]
        if not low <= value <= high:
            minutes = f"{low // timedelta(minutes=1)} and {high // timedelta(minutes=1)} minutes"
            raise ValidationFailed(f"{name} must be between {minutes}.", field=name)
    to_human = (ladder.unanswered_calls - 1) * ladder.retry_after + ladder.outcome_grace + _night(ladder)
    if to_human > HUMAN_WITHIN:
        raise ValidationFailed(
            f"With these calls, retries and no-call hours a human would first try after {to_human}; "
            f"it must be within {HUMAN_WITHIN}.",
            field="unansweredCalls",
        )
    words = tuple(dict.fromkeys(w.strip() for w in ladder.risk_words if w.strip()))
    if not words or len(words) > MAX_RISK_WORDS or any(len(w) > MAX_RISK_WORD_LENGTH for w in words):
        raise ValidationFailed(
            f"riskWords: 1 to {MAX_RISK_WORDS} words of at most {MAX_RISK_WORD_LENGTH} characters.",
            field="riskWords",
        )
    return dataclasses.replace(ladder, risk_words=words)


def next_slot(schedule: Sequence[CallSlot], after: datetime, zone: ZoneInfo) -> datetime | None:
    """The first scheduled call strictly after `after` (UTC-aware in, UTC-aware out)."""
    if not schedule:
        return None
    local = after.astimezone(zone)
    best: datetime | None = None
    for days in range(8):
        day = local.date() + timedelta(days=days)
        for slot in schedule:
            if slot.weekday != day.weekday():
                continue
            at = datetime.combine(day, slot.at, tzinfo=zone)
            if at > local and (best is None or at < best):
                best = at
        if best is not None:
            break
    return None if best is None else best.astimezone(after.tzinfo)


def next_attempt_at(ladder: Ladder, after: datetime, zone: ZoneInfo) -> datetime:
    """When the wellness-call service tries again after an unanswered call, outside the no-call window."""
    at = (after + ladder.retry_after).astimezone(zone)
    if in_no_call_window(ladder, at.time()):
        day = at.date() if at.time() < ladder.no_calls_until else at.date() + timedelta(days=1)
        at = datetime.combine(day, ladder.no_calls_until, tzinfo=zone)
    return at.astimezone(after.tzinfo)


def learned_quiet(heard: Sequence[datetime], now: datetime) -> timedelta:
    """The person's usual longest quiet period: the 95th percentile of the gaps between signs of life over
    28 days, at least 6 h and at most 24 h; 24 h while there is too little data to say."""
    times = sorted(t for t in heard if now - QUIET_WINDOW <= t <= now)
    gaps = sorted((b - a) for a, b in itertools.pairwise(times))
    if len(gaps) < MIN_QUIET_GAPS:
        return QUIET_MAX
    rank = max(math.ceil(0.95 * len(gaps)) - 1, 0)  # nearest-rank percentile: an observed gap
    return min(max(gaps[rank], QUIET_MIN), QUIET_MAX)


def quiet_deadline(reach: Reach) -> datetime | None:
    """When silence becomes unusual; only for people with a passive source (a sign was ever received)."""
    if reach.last_sign_at is None or reach.last_heard_at is None:
        return None
    return reach.last_heard_at + reach.quiet_limit


def check_at(reach: Reach, ladder: Ladder) -> datetime | None:
    """When the job must next look at the person, given their state."""
    match reach.state:
        case ReachState.OK | ReachState.RESOLVED:
            times = [t for t in (reach.next_call_at, quiet_deadline(reach)) if t is not None]
            return min(times, default=None)
        case ReachState.DUE:
            wait = ladder.outcome_grace if reach.cause is Cause.CALL else ladder.check_answer_within
            return None if reach.awaiting_since is None else reach.awaiting_since + wait
        case ReachState.UNANSWERED:
            return None if reach.awaiting_since is None else reach.awaiting_since + ladder.outcome_grace
        case ReachState.HUMAN_CALLING:
            return None if reach.human_task_at is None else reach.human_task_at + ladder.human_call_within
        case ReachState.VISIT_REQUESTED:
            if reach.incident_id is not None or reach.state_since is None:
                return None
            return reach.state_since + ladder.visit_within
    return None


def _moved(
    reach: Reach,
    ladder: Ladder,
    now: datetime,
    state: ReachState,
    *,
    open_incident: str | None = None,
    contact_id: str | None = None,
    check: bool = False,
    **changes: Any,
) -> Reach:
    """`reach` in `state` (the same state for an incident step), its version bumped and the effect queued."""
    version = reach.version + 1
    moved = dataclasses.replace(reach, state=state, version=version, **changes)
    if state is not reach.state:
        moved = dataclasses.replace(moved, state_since=now)
    if state is ReachState.HUMAN_CALLING and reach.state is not ReachState.HUMAN_CALLING:
        moved = dataclasses.replace(moved, human_task_at=now)
    effect = Effect(
        version=version,
        state=state,
        previous=reach.state,
        unanswered=moved.unanswered,
        cause=moved.cause,
        episode=moved.episode,
        at=now,
        open_incident=open_incident,
        contact_id=contact_id,
        check=check,
    )
    return dataclasses.replace(moved, pending=(*reach.pending, effect), check_at=check_at(moved, ladder))


def _recorded(reach: Reach, ladder: Ladder, **changes: Any) -> Reach:
    """A change of what was last heard, with no transition: no effect, no event."""
    updated = dataclasses.replace(reach, version=reach.version + 1, **changes)
    return dataclasses.replace(updated, check_at=check_at(updated, ladder))


def _became_unreachable(reach: Reach, since: datetime) -> dict[str, Any]:
    """A new episode starts when a person first becomes unreachable; its incident key derives from it."""
    if reach.unreachable_since is not None:
        return {}
    return {"episode": reach.episode + 1, "unreachable_since": since}


def unanswered(
    reach: Reach, ladder: Ladder, now: datetime, zone: ZoneInfo, attempt_at: datetime, contact_id: str | None = None
) -> Reach:
    """One more AI attempt went unanswered: the next attempt is awaited, or a human must call now."""
    n = reach.unanswered + 1
    changes: dict[str, Any] = {"unanswered": n, "cause": reach.cause or Cause.CALL}
    changes |= _became_unreachable(reach, attempt_at)
    if n >= ladder.unanswered_calls:
        return _moved(
            reach, ladder, now, ReachState.HUMAN_CALLING, contact_id=contact_id, awaiting_since=None, **changes
        )
    awaited = next_attempt_at(ladder, attempt_at, zone)
    return _moved(reach, ladder, now, ReachState.UNANSWERED, contact_id=contact_id, awaiting_since=awaited, **changes)


def on_deadline(reach: Reach, ladder: Ladder, now: datetime, zone: ZoneInfo) -> Reach | None:
    """The job's step when `check_at` has passed: a call falls due, an awaited answer never came, a human
    step ran out of time. None when nothing is due (another worker moved it since)."""
    if reach.check_at is None or reach.check_at > now:
        return None
    match reach.state:
        case ReachState.OK | ReachState.RESOLVED:
            if reach.next_call_at is not None and reach.next_call_at <= now:
                due = reach.next_call_at
                following = next_slot(reach.schedule, max(due, now), zone)
                return _moved(
                    reach, ladder, now, ReachState.DUE, cause=Cause.CALL, awaiting_since=due, next_call_at=following
                )
            quiet = quiet_deadline(reach)
            if quiet is not None and quiet <= now:
                # The answer is awaited from when the person was asked, even if the job ran late.
                return _moved(reach, ladder, now, ReachState.DUE, cause=Cause.QUIET, awaiting_since=now, check=True)
            return _recorded(reach, ladder)
        case ReachState.DUE if reach.cause is Cause.QUIET:
            # No answer to "are you all right?" after an unusual silence: a human calls now.
            changes = _became_unreachable(reach, reach.awaiting_since or now)
            return _moved(reach, ladder, now, ReachState.HUMAN_CALLING, awaiting_since=None, **changes)
        case ReachState.DUE | ReachState.UNANSWERED:
            # No outcome within the grace: a dropped callback counts as no answer, never as silence.
            return unanswered(reach, ladder, now, zone, reach.awaiting_since or now)
        case ReachState.HUMAN_CALLING:
            return _moved(reach, ladder, now, ReachState.VISIT_REQUESTED)
        case ReachState.VISIT_REQUESTED:
            return _moved(reach, ladder, now, ReachState.VISIT_REQUESTED, open_incident=NO_RESPONSE)
    return None


def _reset(
    reach: Reach, ladder: Ladder, now: datetime, zone: ZoneInfo, contact: Contact, incident: str | None, **heard: Any
) -> Reach:
    """An answer or a sign of life at any step: back to OK (RESOLVED when a human reached the person)."""
    target = ReachState.RESOLVED if contact.is_human else ReachState.OK
    following = reach.next_call_at
    if following is None or following <= now:
        following = next_slot(reach.schedule, now, zone)
    return _moved(
        reach,
        ladder,
        now,
        target,
        open_incident=incident,
        contact_id=contact.id,
        unanswered=0,
        cause=None,
        unreachable_since=None,
        awaiting_since=None,
        human_task_at=None,
        incident_id=None,
        next_call_at=following,
        **heard,
    )


def on_contact(reach: Reach, contact: Contact, ladder: Ladder, now: datetime, zone: ZoneInfo) -> Reach | None:
    """What an outcome, a sign of life or a human's report changes; None when it was applied already."""
    if contact.id in reach.applied_contacts:
        return None
    heard: dict[str, Any] = {"applied_contacts": (*reach.applied_contacts, contact.id)[-MAX_APPLIED:]}
    if contact.heard_from:
        heard["last_heard_at"] = max(contact.at, reach.last_heard_at or contact.at)
    if contact.kind is ContactKind.SIGN:
        heard["last_sign_at"] = max(contact.at, reach.last_sign_at or contact.at)
    if contact.is_human:
        heard["last_human_contact_at"] = max(contact.at, reach.last_human_contact_at or contact.at)
    incident = _incident_for(contact)
    if contact.heard_from:
        since = reach.unreachable_since or reach.awaiting_since
        if reach.state not in SETTLED and (since is None or contact.at >= since or contact.is_human):
            return _reset(reach, ladder, now, zone, contact, incident, **heard)
        if incident is not None:
            return _moved(reach, ladder, now, reach.state, open_incident=incident, contact_id=contact.id, **heard)
        return _recorded(reach, ladder, **heard)
    if contact.kind is ContactKind.CALL:
        stale = reach.last_heard_at is not None and contact.at <= reach.last_heard_at
        if not stale and reach.state in (*SETTLED, ReachState.DUE, ReachState.UNANSWERED):
            return unanswered(dataclasses.replace(reach, **heard), ladder, now, zone, contact.at, contact.id)
        return _recorded(reach, ladder, **heard)
    # A human tried and did not reach the person: the next step now, not at its deadline.
    if reach.state is ReachState.HUMAN_CALLING:
        return _moved(reach, ladder, now, ReachState.VISIT_REQUESTED, contact_id=contact.id, **heard)
    if reach.state is ReachState.VISIT_REQUESTED and reach.incident_id is None and contact.kind is ContactKind.VISIT:
        return _moved(reach, ladder, now, reach.state, open_incident=NO_RESPONSE, contact_id=contact.id, **heard)
    return _recorded(reach, ladder, **heard)


def _incident_for(contact: Contact) -> str | None:
    if contact.kind is ContactKind.CALL and contact.heard_from and contact.risk_words:
        return RISK_WORDS
    if contact.human_outcome is HumanOutcome.NEEDS_HELP:
        return NEEDS_HELP
    return None


def risk_words_in(ladder: Ladder, reported: Sequence[str], transcript: str) -> tuple[str, ...]:
    """The risk words the service reported, plus the agency's own words found in what the person said."""
    found = [w for w in reported if w.strip()]
    found += [w for w in ladder.risk_words if w and w in transcript and w not in found]
    return tuple(found)
