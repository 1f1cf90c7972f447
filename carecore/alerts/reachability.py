"""Pushes about people who stop answering: the reachability module publishes `reachability.changed` for
every transition, and this consumer turns them into alert requests.

- becoming unreachable: the person's caregivers and their guardians whose link allows `alerts`;
- the human call task: the coordinators on duty;
- the visit request: the person's care team, or the coordinators on duty when the person has none;
- "are you all right?" after a long silence: the person's own app account, when the schedule names one.
The NO_RESPONSE incident at the end of the ladder alerts through the incident ladder, not from here.

Requests are asked for before the event is claimed, under ids derived from the event, so instances that
race on one event, or one that dies between the two steps, ask once.
"""

from __future__ import annotations

from carecore.alerts.models import AlertKind, AlertRequest, Audience
from carecore.alerts.service import request_alert
from carecore.events.consumers import consumer
from carecore.events.models import DomainEvent
from carecore.ids import id_for_key
from carecore.people.models import Person
from carecore.ports import Ports
from carecore.vocabulary import Severity

REACHABILITY_CHANGED = "reachability.changed"
CONSUMER = consumer("reachability-alerts", REACHABILITY_CHANGED).name
# Mirrors carecore.reachability.models.UNREACHABLE by value: alerts read events, not that module.
UNREACHABLE_STATES = frozenset({"UNANSWERED", "HUMAN_CALLING", "VISIT_REQUESTED"})


def _request(
    event: DomainEvent, kind: AlertKind, audiences: tuple[Audience, ...], user_ids: tuple[str, ...] = ()
) -> AlertRequest:
    return AlertRequest(
        id=id_for_key(event.id, kind.value),
        agency_id=event.agency_id,
        kind=kind,
        # Urgent enough to pass the agency's night (a silent person at night is the case that matters),
        # never CRITICAL: the NO_RESPONSE incident is what wakes everyone.
        severity=Severity.HIGH,
        subject_type="Person",
        subject_id=event.subject_id,
        audiences=audiences,
        created_at=event.at,
        person_id=event.person_id,
        user_ids=user_ids,
    )


def requests_for(event: DomainEvent, person: Person) -> list[AlertRequest]:
    """The alert requests one reachability transition asks for (none for most)."""
    state, previous = event.data.get("state"), event.data.get("previous")
    requests: list[AlertRequest] = []
    if state in UNREACHABLE_STATES and previous not in UNREACHABLE_STATES:
        requests.append(_request(event, AlertKind.UNREACHABLE, (Audience.CARE_TEAM, Audience.GUARDIANS)))
    if state == "HUMAN_CALLING" and previous != "HUMAN_CALLING":
        requests.append(_request(event, AlertKind.HUMAN_CALL_TASK, (Audience.COORDINATORS_ON_DUTY,)))
    if state == "VISIT_REQUESTED" and previous == "HUMAN_CALLING":
        visitors = Audience.CARE_TEAM if person.care_team else Audience.COORDINATORS_ON_DUTY
        requests.append(_request(event, AlertKind.VISIT_REQUEST, (visitors,)))
    check_in = event.data.get("checkInUserId")
    if event.data.get("check") and isinstance(check_in, str):
        requests.append(_request(event, AlertKind.WELLNESS_CHECK, (Audience.USERS,), (check_in,)))
    return requests


async def alert_on_reachability(ports: Ports, *, limit: int = 100) -> int:
    """Asks for the alerts of unclaimed reachability transitions; returns how many events this call took."""
    taken = 0
    for event in await ports.store.events.unclaimed(
        CONSUMER, [REACHABILITY_CHANGED], now=ports.clock.now(), limit=limit
    ):
        person = await ports.store.people.get(event.subject_id)
        if person is not None and person.agency_id == event.agency_id:
            for request in requests_for(event, person):
                await request_alert(ports, request)
        if await ports.store.events.claim(event.id, CONSUMER):
            taken += 1
    return taken
