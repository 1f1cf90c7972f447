"""Notification, device and preference types."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, TypeAlias

import strawberry

from carecore.alerts.models import AlertKind as DomainAlertKind
from carecore.alerts.models import DeliveryState as DomainDeliveryState
from carecore.alerts.models import Device as DomainDevice
from carecore.alerts.models import Notification as DomainNotification
from carecore.alerts.models import Platform as DomainPlatform
from carecore.alerts.models import Preferences as DomainPreferences
from schema.types.incidents import Severity

AlertKind: TypeAlias = Annotated[DomainAlertKind, strawberry.enum(name="AlertKind")]
DeliveryState: TypeAlias = Annotated[DomainDeliveryState, strawberry.enum(name="DeliveryState")]
Platform: TypeAlias = Annotated[DomainPlatform, strawberry.enum(name="Platform")]


@strawberry.type(description="One alert in your inbox. Details live on its subject, fetched by id.")
class Notification:
    id: strawberry.ID
    kind: AlertKind
    severity: Severity
    subject_type: str = strawberry.field(description='What it is about, e.g. "Incident" or "Shift".')
    subject_id: strawberry.ID
    person_id: strawberry.ID | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    acknowledged_at: datetime | None
    subject_acknowledged_at: datetime | None = strawberry.field(
        description="When someone eligible acknowledged the subject (e.g. the incident)."
    )
    delivery_state: DeliveryState = strawberry.field(description="Where the push stands.")
    updated_at: datetime = strawberry.field(description="The last change you could see: a delta's watermark.")

    @classmethod
    def from_domain(cls, n: DomainNotification) -> Notification:
        return cls(
            id=strawberry.ID(n.id),
            kind=n.kind,
            severity=n.severity,
            subject_type=n.subject_type,
            subject_id=strawberry.ID(n.subject_id),
            person_id=strawberry.ID(n.person_id) if n.person_id else None,
            title=n.title,
            body=n.body,
            created_at=n.created_at,
            read_at=n.read_at,
            acknowledged_at=n.acknowledged_at,
            subject_acknowledged_at=n.subject_acknowledged_at,
            delivery_state=n.state,
            updated_at=n.updated_at or n.created_at,
        )


@strawberry.type(description="An app instance of yours that receives pushes.")
class Device:
    id: strawberry.ID
    platform: Platform
    locale: str
    app_version: str
    legacy_token: bool = strawberry.field(description="Registered by an FCM registration token (older app).")
    registered_at: datetime
    last_seen_at: datetime

    @classmethod
    def from_domain(cls, d: DomainDevice) -> Device:
        return cls(
            id=strawberry.ID(d.id),
            platform=d.platform,
            locale=d.locale,
            app_version=d.app_version,
            legacy_token=d.address_kind.value == "REGISTRATION_TOKEN",
            registered_at=d.registered_at,
            last_seen_at=d.last_seen_at,
        )


@strawberry.type
class QuietHours:
    start: time
    end: time


@strawberry.type
class NotificationPreferences:
    quiet_hours: QuietHours | None = strawberry.field(
        description="Non-critical pushes wait until this window ends; they are in the inbox at once."
    )
    timezone: str | None = strawberry.field(description="Your time zone for quiet hours; null: the agency's.")
    muted_kinds: list[AlertKind]
    on_duty: bool = strawberry.field(description="Coordinators: receive the alerts for coordinators on duty.")
    revision: int

    @classmethod
    def from_domain(cls, p: DomainPreferences) -> NotificationPreferences:
        q = p.quiet_hours
        return cls(
            quiet_hours=QuietHours(start=q.start, end=q.end) if q else None,
            timezone=p.timezone,
            muted_kinds=sorted(p.muted_kinds),
            on_duty=p.on_duty,
            revision=p.revision,
        )
