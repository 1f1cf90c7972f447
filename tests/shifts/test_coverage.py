"""Coverage gaps in the agency's time zone: uncovered support hours, open, late and missed shifts."""

from __future__ import annotations

from datetime import datetime, time

from carecore.pagination import PageRequest
from carecore.people.models import SupportWindow
from carecore.ports import Ports
from carecore.shifts.coverage import window_intervals
from carecore.shifts.models import GapKind
from carecore.shifts.queries import coverage_gaps
from tests.shifts.conftest import SEOUL, Shifts


async def test_a_two_hour_hole_in_round_the_clock_support_is_exactly_the_gap_in_seoul_time(
    shifts: Shifts, ports: Ports
) -> None:
    on_team, off_team = shifts.world.caregiver_on_team, shifts.world.caregiver_off_team
    await shifts.schedule(on_team, shifts.local(1, 0), shifts.local(1, 8))
    await shifts.schedule(off_team, shifts.local(1, 8), shifts.local(1, 14))
    await shifts.schedule(on_team, shifts.local(1, 16), shifts.local(2, 0))

    page = await coverage_gaps(
        ports,
        shifts.coordinator,
        shifts.local(1, 0),
        shifts.local(2, 0),
        PageRequest(),
        person_id=shifts.world.minji.id,
    )
    gaps = page.items

    assert [(g.kind, g.start.astimezone(SEOUL), g.end.astimezone(SEOUL)) for g in gaps] == [
        (GapKind.UNCOVERED, shifts.local(1, 14), shifts.local(1, 16))
    ]
    assert gaps[0].start.astimezone(SEOUL).isoformat() == f"{shifts.local(1, 0).date()}T14:00:00+09:00"


async def test_open_late_and_uncovered_come_sorted_by_how_soon_they_start(shifts: Shifts, ports: Ports) -> None:
    minji, jiho = shifts.world.minji.id, shifts.world.jiho.id
    # Now is 09:00 in Seoul: a shift that started at 08:30 without a check-in is late.
    late = await shifts.schedule(shifts.world.caregiver_on_team, shifts.local(0, 8, 30), shifts.local(0, 20))
    opened = await shifts.schedule(None, shifts.local(0, 10), shifts.local(0, 22), person_id=jiho)

    gaps = (
        await coverage_gaps(ports, shifts.coordinator, shifts.local(0, 8), shifts.local(0, 23), PageRequest())
    ).items

    assert [(g.kind, g.person_id, g.shift_id, g.start.astimezone(SEOUL).hour) for g in gaps] == [
        (GapKind.UNCOVERED, minji, None, 8),
        (GapKind.UNCOVERED, jiho, None, 8),
        (GapKind.LATE, minji, late.id, 8),
        (GapKind.OPEN, jiho, opened.id, 10),
        (GapKind.UNCOVERED, minji, None, 20),
        (GapKind.UNCOVERED, jiho, None, 22),
    ]


def test_support_windows_follow_local_days_and_run_past_midnight() -> None:
    overnight = SupportWindow((4,), time(18), time(8))  # Friday night into Saturday morning
    office = SupportWindow((0, 1, 2, 3, 4), time(9), time(17))
    friday = datetime(2026, 11, 27, tzinfo=SEOUL)
    monday = datetime(2026, 11, 30, tzinfo=SEOUL)

    intervals = window_intervals((overnight, office), friday, monday, SEOUL)

    assert [(s.astimezone(SEOUL).isoformat(), e.astimezone(SEOUL).isoformat()) for s, e in intervals] == [
        ("2026-11-27T09:00:00+09:00", "2026-11-27T17:00:00+09:00"),
        ("2026-11-27T18:00:00+09:00", "2026-11-28T08:00:00+09:00"),
    ]
