"""The dispatcher: claims due notifications with a lease, pushes them, records what each device said.

Crash safety comes from the order of effects: a notification is stored before it is claimed, claimed
before it is sent, and finished only while the claim is still ours. A dispatcher that dies after
sending leaves its claim to lapse; the next one sends again, with the notification id as collapse key,
so the phone shows it once. At most one extra send per crash, never none.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carecore import metrics
from carecore.alerts import texts
from carecore.alerts.models import (
    DeliveryState,
    Device,
    DeviceOutcome,
    DeviceResult,
    Finish,
    Notification,
)
from carecore.alerts.ports import PushError, PushMessage, PushOutcome, PushSender
from carecore.alerts.rules import TIME_TO_LIVE, retry_delay
from carecore.ids import new_id
from carecore.ports import Ports

logger = logging.getLogger(__name__)

DISPATCH_LEASE = timedelta(seconds=60)
BATCH_SIZE = 500
_FINAL_OUTCOMES = frozenset({DeviceOutcome.SENT, DeviceOutcome.FAILED, DeviceOutcome.UNREGISTERED})
_OUTCOME_OF = {
    PushError.RETRYABLE: DeviceOutcome.RETRYING,
    PushError.UNREGISTERED: DeviceOutcome.UNREGISTERED,
    PushError.PERMANENT: DeviceOutcome.FAILED,
}


def payload(n: Notification) -> dict[str, str]:
    """The data payload: ids and the kind; the app fetches everything else through GraphQL."""
    data = {
        "notificationId": n.id,
        "kind": n.kind.value,
        "severity": n.severity.value,
        "subjectType": n.subject_type,
        "subjectId": n.subject_id,
    }
    if n.person_id:
        data["personId"] = n.person_id
    return data


def push_message(n: Notification, device: Device) -> PushMessage:
    """One device's push, in the device's language when we speak it, else the recipient's."""
    locale = device.locale if device.locale in texts.TITLES else n.locale
    return PushMessage(
        notification_id=n.id,
        device_id=device.id,
        address_kind=device.address_kind,
        address=device.address,
        platform=device.platform,
        kind=n.kind,
        severity=n.severity,
        title=texts.title(locale, n.severity),
        body=texts.body(locale, n.severity, n.kind, n.person_name),
        data=payload(n),
        time_to_live=TIME_TO_LIVE[n.kind],
        thread_id=f"{n.subject_type}-{n.subject_id}",
    )


def expires_at(n: Notification) -> datetime:
    return (n.push_at or n.created_at) + TIME_TO_LIVE[n.kind]


@dataclass
class _Plan:
    notification: Notification
    targets: list[Device]
    finish: Finish | None = None  # decided without sending anything


def _plan(n: Notification, devices: list[Device], now: datetime) -> _Plan:
    done = {r.device_id for r in n.results if r.outcome in _FINAL_OUTCOMES}
    sent = any(r.outcome is DeviceOutcome.SENT for r in n.results)

    def final(state: DeliveryState) -> _Plan:
        return _Plan(n, [], Finish(n.id, state, n.attempts, None, n.results))

    if n.state is DeliveryState.HELD and (n.read_at or n.acknowledged_at or n.subject_acknowledged_at):
        return final(DeliveryState.SUPPRESSED)  # seen in the app while quiet hours held the push
    if now >= expires_at(n):
        return final(DeliveryState.SENT if sent else DeliveryState.EXPIRED)
    targets = [d for d in devices if d.id not in done]
    if targets:
        return _Plan(n, targets)
    if sent:
        return final(DeliveryState.SENT)
    return final(DeliveryState.FAILED if n.results else DeliveryState.NO_DEVICES)


def _after_send(
    n: Notification, outcomes: list[tuple[Device, PushOutcome]], now: datetime, rng: random.Random
) -> Finish:
    results = {r.device_id: r for r in n.results}
    for device, outcome in outcomes:
        results[device.id] = DeviceResult(
            device_id=device.id,
            outcome=DeviceOutcome.SENT if outcome.error is None else _OUTCOME_OF[outcome.error],
            at=now,
            error=outcome.code,
            message_id=outcome.message_id,
        )
    merged = tuple(results.values())
    attempts = n.attempts + 1
    sent = any(r.outcome is DeviceOutcome.SENT for r in merged)
    retrying = [o for _, o in outcomes if o.error is PushError.RETRYABLE]
    if not retrying:
        return Finish(n.id, DeliveryState.SENT if sent else DeliveryState.FAILED, attempts, None, merged)
    retry_after = max((o.retry_after or 0.0 for o in retrying), default=0.0)
    next_at = now + retry_delay(attempts, retry_after, rng)
    if next_at >= expires_at(n):
        return Finish(n.id, DeliveryState.SENT if sent else DeliveryState.EXPIRED, attempts, None, merged)
    return Finish(n.id, DeliveryState.QUEUED, attempts, next_at, merged)


@dataclass
class Dispatcher:
    ports: Ports
    sender: PushSender
    owner: str = field(default_factory=new_id)
    batch_size: int = BATCH_SIZE
    lease: timedelta = DISPATCH_LEASE
    rng: random.Random = field(default_factory=random.Random)

    async def run_once(self) -> int:
        """Claims one batch of due notifications and delivers it; returns how many it claimed."""
        now = self.ports.clock.now()
        claim = f"{self.owner}:{new_id()}"  # one claim per batch, so a re-read finds only this batch
        claimed = await self.ports.store.notifications.claim_due(
            now=now, owner=claim, lease=self.lease, limit=self.batch_size
        )
        if not claimed:
            return 0
        devices = await self.ports.store.devices.for_users({n.user_id for n in claimed})
        plans = [_plan(n, devices.get(n.user_id, []), now) for n in claimed]
        pairs = [(p, d) for p in plans for d in p.targets]
        outcomes = await self._send([push_message(p.notification, d) for p, d in pairs])
        by_plan: dict[str, list[tuple[Device, PushOutcome]]] = {}
        for (p, device), outcome in zip(pairs, outcomes, strict=True):
            by_plan.setdefault(p.notification.id, []).append((device, outcome))
        finishes = [p.finish or _after_send(p.notification, by_plan[p.notification.id], now, self.rng) for p in plans]
        held = await self.ports.store.notifications.finish(claim, finishes, now=now)
        if held < len(finishes):
            logger.warning("dispatcher %s lost %d leases before finishing", self.owner, len(finishes) - held)
        await self._forget_unregistered(pairs, outcomes)
        return len(claimed)

    async def run_until_idle(self, max_batches: int = 1000) -> int:
        total = 0
        for _ in range(max_batches):
            done = await self.run_once()
            if done == 0:
                break
            total += done
        return total

    async def _send(self, messages: Sequence[PushMessage]) -> list[PushOutcome]:
        if not messages:
            return []
        try:
            with metrics.DISPATCH_SECONDS.labels("push").time():
                outcomes = await self.sender.send(messages)
        except Exception:
            logger.exception("push gateway failed for %d messages; they will be retried", len(messages))
            metrics.DISPATCH_RESULTS.labels("push", "gateway_error").inc(len(messages))
            return [PushOutcome(error=PushError.RETRYABLE, code="GATEWAY_ERROR")] * len(messages)
        if len(outcomes) != len(messages):
            logger.error("push gateway answered %d of %d messages", len(outcomes), len(messages))
            return [PushOutcome(error=PushError.RETRYABLE, code="GATEWAY_ERROR")] * len(messages)
        for o in outcomes:
            metrics.DISPATCH_RESULTS.labels("push", "sent" if o.error is None else o.error.name.lower()).inc()
        return outcomes

    async def _forget_unregistered(self, pairs: list[tuple[_Plan, Device]], outcomes: list[PushOutcome]) -> None:
        gone = {d.id: d for (_, d), o in zip(pairs, outcomes, strict=True) if o.error is PushError.UNREGISTERED}
        for device in gone.values():
            await self.ports.store.devices.remove_if_unchanged(device)
