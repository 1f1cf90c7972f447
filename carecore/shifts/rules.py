"""Pure rules of shifts: times, qualifications, and whether a caregiver's schedule can take a shift."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule

from carecore import validation
from carecore.agencies.models import Agency
from carecore.errors import ValidationFailed
from carecore.shifts.errors import RestTooShort, ShiftOverlap, WeeklyHoursExceeded
from carecore.shifts.models import AvailabilityWindow, Booking, CaregiverProfile, DeviceTiming, Limits, Location

MIN_SHIFT = timedelta(minutes=15)
MAX_SHIFT = timedelta(hours=24)
MAX_AHEAD = timedelta(days=400)
MAX_OCCURRENCES = 120
MAX_QUALIFICATIONS = 20
EARTH_RADIUS_M = 6_371_000.0
# Offline visits: a phone may send what happened up to a day later; later than that, a coordinator records it.
MAX_SUBMISSION_DELAY = timedelta(hours=24)
# Beyond this a phone's time is marked: sent late, or a clock that disagrees with the GPS fix's.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def checked_times(start: datetime, end: datetime, now: datetime) -> tuple[datetime, datetime]:
    """Shift times in UTC; a shift lasts 15 minutes to 24 hours and has not ended yet."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed("start and end need a time zone offset.", field="start")
    if end - start < MIN_SHIFT or end - start > MAX_SHIFT:
        raise ValidationFailed("A shift lasts from 15 minutes to 24 hours.", field="end")
    if end <= now:
        raise ValidationFailed("The shift would already be over.", field="end")
    if start > now + MAX_AHEAD:
        raise ValidationFailed("Shifts can be planned at most 400 days ahead.", field="start")
    return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)


def checked_codes(codes: Sequence[str], field: str) -> tuple[str, ...]:
    validation.items(codes, field, max_items=MAX_QUALIFICATIONS)
    trimmed = [validation.text(c, field, max_len=validation.MAX_NAME, required=True) for c in codes]
    return tuple(dict.fromkeys(trimmed))


def checked_profile(p: CaregiverProfile, agency: Agency) -> CaregiverProfile:
    """A caregiver's own limits may be stricter than the agency's, never looser."""
    checked_codes([q.code for q in p.qualifications], "qualifications.code")
    if p.max_weekly_hours is not None:
        validation.in_range(p.max_weekly_hours, "maxWeeklyHours", 1, agency.max_weekly_hours)
    if p.min_rest_hours is not None:
        validation.in_range(p.min_rest_hours, "minRestHours", agency.min_rest_hours, 24)
    validation.items(p.availability, "availability", max_items=50)
    for w in p.availability:
        validation.weekdays(w.weekdays, "availability.weekdays")
    return p


def limits_for(agency: Agency, profile: CaregiverProfile | None) -> Limits:
    weekly, rest = float(agency.max_weekly_hours), float(agency.min_rest_hours)
    if profile is not None and profile.max_weekly_hours is not None:
        weekly = min(weekly, profile.max_weekly_hours)
    if profile is not None and profile.min_rest_hours is not None:
        rest = max(rest, profile.min_rest_hours)
    return Limits(max_weekly_hours=weekly, min_rest_hours=rest)


def missing_qualifications(required: Sequence[str], profile: CaregiverProfile | None, day: date) -> tuple[str, ...]:
    """Required codes the caregiver does not hold, or holds only expired, on `day`."""
    held = profile.valid_codes(day) if profile else set()
    return tuple(code for code in required if code not in held)


def check_placement(
    bookings: Sequence[Booking], candidate: Booking, limits: Limits, tz: ZoneInfo, *, field: str | None = "caregiverId"
) -> None:
    """Raises the first rule `candidate` would break in a schedule of `bookings` (other shifts only)."""
    for b in bookings:
        if b.start < candidate.end and candidate.start < b.end:
            raise ShiftOverlap(b.shift_id, field=field)
    _check_rest(bookings, candidate, limits.min_rest_hours, field)
    _check_weekly_hours(bookings, candidate, limits.max_weekly_hours, tz, field)


def _check_rest(bookings: Sequence[Booking], candidate: Booking, min_rest_hours: float, field: str | None) -> None:
    """Shifts less than the minimum rest apart form one working day, which may span at most 24 h minus
    that rest: so every working day is followed by the minimum rest, while split visits stay allowed."""
    rest = timedelta(hours=min_rest_hours)
    if rest <= timedelta(0):
        return
    days: list[list[Booking]] = []
    day_end = candidate.end
    for b in sorted([*bookings, candidate], key=lambda b: b.start):
        if days and b.start - day_end < rest:
            days[-1].append(b)
            day_end = max(day_end, b.end)
        else:
            days.append([b])
            day_end = b.end
    day = next(d for d in days if any(b is candidate for b in d))
    span = max(b.end for b in day) - min(b.start for b in day)
    if len(day) == 1 or span <= timedelta(hours=24) - rest:
        return
    nearest = min((b for b in day if b is not candidate), key=lambda b: _gap(b, candidate))
    raise RestTooShort(
        rest_hours=_hours(_gap(nearest, candidate)),
        minimum_rest_hours=min_rest_hours,
        neighbouring_shift_id=nearest.shift_id,
        field=field,
    )


def _gap(b: Booking, c: Booking) -> timedelta:
    return max(c.start - b.end, b.start - c.end, timedelta(0))


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def week_start(moment: datetime, tz: ZoneInfo) -> datetime:
    """Monday 00:00 in the agency's time zone of the week holding `moment`."""
    local = moment.astimezone(tz).date()
    return datetime.combine(local - timedelta(days=local.weekday()), time(0), tzinfo=tz)


def _check_weekly_hours(
    bookings: Sequence[Booking], candidate: Booking, limit: float, tz: ZoneInfo, field: str | None
) -> None:
    start = week_start(candidate.start, tz)
    while start < candidate.end:
        end = datetime.combine(start.date() + timedelta(days=7), time(0), tzinfo=tz)
        scheduled = sum(_overlap_hours(b, start, end) for b in bookings)
        own = _overlap_hours(candidate, start, end)
        if scheduled + own > limit + 1e-9:
            raise WeeklyHoursExceeded(
                week_start=start.date(),
                scheduled_hours=round(scheduled, 2),
                shift_hours=round(own, 2),
                limit_hours=limit,
                field=field,
            )
        start = end


def _overlap_hours(b: Booking, start: datetime, end: datetime) -> float:
    return max((min(b.end, end) - max(b.start, start)).total_seconds(), 0.0) / 3600


def distance_m(a: Location, latitude: float, longitude: float) -> float:
    """Great-circle distance (haversine); metres of error do not matter next to a geofence radius."""
    p1, p2 = math.radians(a.latitude), math.radians(latitude)
    dp, dl = p2 - p1, math.radians(longitude - a.longitude)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def checked_location(location: Location | None) -> Location | None:
    if location is None:
        return None
    validation.in_range(location.latitude, "location.latitude", -90, 90)
    validation.in_range(location.longitude, "location.longitude", -180, 180)
    if location.accuracy_m is not None:
        validation.in_range(location.accuracy_m, "location.accuracyM", 0, 100_000)
    return location


def weekly_occurrences(
    start: datetime, end: datetime, weekdays: tuple[int, ...], until: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """A weekly-repeating shift: the same local wall-clock times on `weekdays` up to `until` (inclusive).

    Computed on local times so that a change of UTC offset keeps the shift at the hour people expect.
    """
    validation.weekdays(weekdays, "recurrence.weekdays")
    local_start = start.astimezone(tz).replace(tzinfo=None)
    length = end - start
    last = datetime.combine(until, time(23, 59, 59))
    if last < local_start:
        raise ValidationFailed("recurrence.until is before the first shift.", field="recurrence.until")
    rule = rrule(WEEKLY, dtstart=local_start, byweekday=weekdays, until=last, count=None)
    found: list[tuple[datetime, datetime]] = []
    for local in rule:
        if len(found) == MAX_OCCURRENCES:
            raise ValidationFailed(f"A series holds at most {MAX_OCCURRENCES} shifts.", field="recurrence.until")
        aware = local.replace(tzinfo=tz).astimezone(start.tzinfo)
        found.append((aware, aware + length))
    return found


def fits_availability(windows: Sequence[AvailabilityWindow], start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """True when one availability window holds the whole shift, or the caregiver set none."""
    if not windows:
        return True
    local = start.astimezone(tz)
    for day in (local.date() - timedelta(days=1), local.date()):
        for w in windows:
            if day.weekday() not in w.weekdays:
                continue
            w_start = datetime.combine(day, w.start, tzinfo=tz)
            w_end_day = day if w.end > w.start else day + timedelta(days=1)
            w_end = datetime.combine(w_end_day, w.end, tzinfo=tz)
            if w_start <= start and end <= w_end:
                return True
    return False


def device_timing(device_at: datetime | None, fix_at: datetime | None, now: datetime) -> DeviceTiming | None:
    """Weighs a phone's times against the server's; None when the phone sent none (the server's time holds).

    Refused more than 24 hours late. A time ahead of the server's is a wrong clock, never a future act: it
    is marked and the record takes the server's time (`recorded_at`).
    """
    if device_at is None:
        if fix_at is not None:
            raise ValidationFailed("Send the device's time with the fix's time.", field="deviceTime")
        return None
    for value, name in ((device_at, "deviceTime"), (fix_at, "fixTime")):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{name} needs a time zone offset.", field=name)
    if now - device_at > MAX_SUBMISSION_DELAY:
        raise ValidationFailed(
            "This happened more than 24 hours ago; ask your coordinator to record it.", field="deviceTime"
        )
    skewed = device_at - now > MAX_CLOCK_SKEW or (fix_at is not None and abs(device_at - fix_at) > MAX_CLOCK_SKEW)
    return DeviceTiming(device_at, fix_at, now, now - device_at > MAX_CLOCK_SKEW, skewed)


def recorded_at(timing: DeviceTiming | None, now: datetime) -> datetime:
    """The time a visit record carries: the phone's, never later than the server's."""
    return now if timing is None else min(timing.device_at, now)
