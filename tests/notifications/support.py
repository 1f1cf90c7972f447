"""Builders and doubles for the alert pipeline's tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carecore.alerts.devices import device_id
from carecore.alerts.models import AddressKind, AlertKind, AlertRequest, Audience, Device, Platform
from carecore.alerts.ports import PushError, PushMessage, PushOutcome
from carecore.ids import new_id
from carecore.incidents.models import Severity
from carecore.ports import Ports
from carecore.shifts.scheduling import ShiftPlan, schedule_shift
from carecore.shifts.visits import check_in as visit_check_in
from carecore.storage.store import Store
from carecore.users.models import User
from tests.conftest import World


def incident_alert(
    world: World,
    now: datetime,
    *,
    severity: Severity = Severity.CRITICAL,
    audiences: tuple[Audience, ...] = (Audience.ON_SHIFT_CAREGIVERS, Audience.COORDINATORS_ON_DUTY, Audience.GUARDIANS),
    kind: AlertKind = AlertKind.INCIDENT,
    exclude: tuple[str, ...] = (),
    user_ids: tuple[str, ...] = (),
    subject_id: str | None = None,
) -> AlertRequest:
    """What the incidents branch asks for at step 0 of a ladder (the contract in carecore/alerts)."""
    return AlertRequest(
        id=new_id(),
        agency_id=world.agency.id,
        kind=kind,
        severity=severity,
        subject_type="Incident" if kind is AlertKind.INCIDENT else "Shift",
        subject_id=subject_id or new_id(),
        audiences=audiences,
        created_at=now,
        person_id=world.minji.id,
        user_ids=user_ids,
        exclude_user_ids=exclude,
    )


async def put_device(
    store: Store,
    owner: User,
    now: datetime,
    *,
    locale: str = "ko",
    platform: Platform = Platform.ANDROID,
    kind: AddressKind = AddressKind.INSTALLATION_ID,
    address: str | None = None,
) -> Device:
    address = address or f"fid-{new_id()}"
    return await store.devices.put(
        Device(
            id=device_id(kind, address),
            user_id=owner.id,
            agency_id=owner.agency_id,
            address_kind=kind,
            address=address,
            platform=platform,
            locale=locale,
            app_version="3.2.0",
            registered_at=now,
            last_seen_at=now,
        )
    )


async def check_in(ports: Ports, world: World, caregiver: User) -> str:
    """A shift of the caregiver with minji, starting now and checked into, through the shifts module."""
    now = ports.clock.now()
    plan = ShiftPlan(world.minji.id, now, now + timedelta(hours=4), caregiver_id=caregiver.id)
    shift = await schedule_shift(ports, world.coordinator.principal(), plan)
    await visit_check_in(ports, caregiver.principal(), shift.id, location=None)
    return shift.id


@dataclass
class FakeSender:
    """Records every push; answers with scripted errors per device address, else success."""

    sent: list[PushMessage] = field(default_factory=list)
    errors: dict[str, list[PushOutcome]] = field(default_factory=dict)
    crash_after: int | None = None  # raise after recording this many messages of a call

    async def send(self, messages: Sequence[PushMessage]) -> list[PushOutcome]:
        outcomes = []
        for i, m in enumerate(messages):
            if self.crash_after is not None and i == self.crash_after:
                raise ConnectionError("process killed mid-send")
            self.sent.append(m)
            queue = self.errors.get(m.address)
            outcomes.append(queue.pop(0) if queue else PushOutcome(message_id=f"projects/p/messages/{new_id()}"))
        return outcomes

    def to(self, device: Device) -> list[PushMessage]:
        return [m for m in self.sent if m.device_id == device.id]


UNAVAILABLE = PushOutcome(error=PushError.RETRYABLE, code="UNAVAILABLE", retry_after=30)
GONE = PushOutcome(error=PushError.UNREGISTERED, code="UNREGISTERED")
