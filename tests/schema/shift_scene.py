"""Shifts for the authorization matrix around minji, built only as far as an operation needs them.

Now (FakeClock) is 09:00 in Seoul. The caregiver on minji's team may have a visit in progress (07:00
to 09:05), an upcoming one (09:10 to 12:10, open for check-in), and tomorrow one with a swap asked of
the caregiver off the team and one whose swap waits for a coordinator; minji may have an open shift,
and the day after tomorrow one given away from the caregiver on the team to the one off it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Literal

from carecore.ports import Ports
from carecore.shifts import swaps, visits
from carecore.shifts.models import Shift, SwapStatus
from carecore.shifts.scheduling import ShiftPlan, assign_shift, schedule_shift
from tests.conftest import World

Part = Literal["in_progress", "upcoming", "open", "swap_asked", "swap_awaiting", "given_away"]


@dataclass
class ShiftScene:
    world: World
    built: dict[str, Shift] = field(default_factory=dict)
    critical_task_id: str = ""

    def _get(self, part: Part) -> Shift:
        assert part in self.built, f"the operation must ask for the {part} shift"
        return self.built[part]

    @property
    def in_progress(self) -> Shift:
        return self._get("in_progress")

    @property
    def upcoming(self) -> Shift:
        return self._get("upcoming")

    @property
    def open(self) -> Shift:
        return self._get("open")

    @property
    def swap_asked(self) -> Shift:
        return self._get("swap_asked")

    @property
    def swap_awaiting(self) -> Shift:
        return self._get("swap_awaiting")

    @property
    def given_away(self) -> Shift:
        return self._get("given_away")

    @property
    def period(self) -> dict[str, str]:
        start = self.world.minji.created_at - timedelta(days=1)
        return {"from": start.isoformat(), "to": (start + timedelta(days=7)).isoformat()}


async def shift_scene(ports: Ports, world: World, parts: tuple[Part, ...]) -> ShiftScene:
    coordinator, mine, other = world.coordinator.principal(), world.caregiver_on_team, world.caregiver_off_team.id
    now = ports.clock.now()
    scene = ShiftScene(world)

    async def schedule(start: timedelta, end: timedelta, caregiver: bool = True) -> Shift:
        plan = ShiftPlan(world.minji.id, now + start, now + end, caregiver_id=mine.id if caregiver else None)
        return await schedule_shift(ports, coordinator, plan)

    if "in_progress" in parts:
        started = await schedule(-timedelta(hours=2), timedelta(minutes=5))
        scene.built["in_progress"] = await visits.check_in(ports, mine.principal(), started.id, location=None)
        plan = await ports.store.care_plans.get(world.minji.active_care_plan_id or "")
        assert plan is not None
        scene.critical_task_id = next(t.id for t in plan.content.tasks if t.critical)
    if "upcoming" in parts:
        scene.built["upcoming"] = await schedule(timedelta(minutes=10), timedelta(hours=3))
    if "open" in parts:
        scene.built["open"] = await schedule(timedelta(days=1), timedelta(days=1, hours=4), caregiver=False)
    if "swap_asked" in parts:
        asked = await schedule(timedelta(days=1, hours=5), timedelta(days=1, hours=9))
        scene.built["swap_asked"] = await swaps.request_swap(ports, mine.principal(), asked.id, to_caregiver_id=other)
    if "swap_awaiting" in parts:
        agreed = await schedule(timedelta(days=1, hours=10), timedelta(days=1, hours=13))
        asked = await swaps.request_swap(ports, mine.principal(), agreed.id, to_caregiver_id=other)
        assert asked.swap is not None
        awaiting = replace(asked.swap, status=SwapStatus.AWAITING_APPROVAL)
        stored = await ports.store.shifts.put_swap(
            asked.id, awaiting, expected_swap=(asked.swap.id, SwapStatus.PENDING), caregiver_id=mine.id, now=now
        )
        assert stored is not None
        scene.built["swap_awaiting"] = stored
    if "given_away" in parts:
        given = await schedule(timedelta(days=2), timedelta(days=2, hours=3))
        taken = await assign_shift(ports, coordinator, given.id, caregiver_id=other, reason="병가 대체")
        scene.built["given_away"] = taken
    return scene
