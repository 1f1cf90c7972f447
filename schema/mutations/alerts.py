"""Device registration, the inbox's read and acknowledge, and notification preferences."""

from __future__ import annotations

from typing import Annotated

import strawberry

from carecore.alerts import devices, inbox, preferences
from carecore.alerts.inbox import Acknowledgement
from carecore.alerts.models import Device as DomainDevice
from carecore.alerts.models import Notification as DomainNotification
from carecore.alerts.models import Preferences as DomainPreferences
from schema.errors import NotFoundError, ValidationError, VersionConflictError
from schema.inputs.alerts import (
    NotificationInput,
    RegisterDeviceInput,
    UnregisterDeviceInput,
    UpdateNotificationPreferencesInput,
)
from schema.mutations.support import Info, attempt
from schema.types.alerts import Device, Notification, NotificationPreferences


@strawberry.type
class DevicePayload:
    device: Device


@strawberry.type
class UnregisterDevicePayload:
    device_id: strawberry.ID


@strawberry.type
class NotificationPayload:
    notification: Notification


@strawberry.type
class AcknowledgeNotificationPayload:
    notification: Notification
    subject_acknowledged: bool = strawberry.field(
        description="An eligible responder acknowledged the subject (e.g. the incident): you now, or someone "
        "before. False after a guardian's acknowledgement: it is recorded, and the staff are still alerted."
    )


@strawberry.type
class NotificationPreferencesPayload:
    preferences: NotificationPreferences


DeviceResult = Annotated[DevicePayload | ValidationError, strawberry.union("DeviceResult")]
UnregisterDeviceResult = Annotated[
    UnregisterDevicePayload | ValidationError | NotFoundError, strawberry.union("UnregisterDeviceResult")
]
NotificationResult = Annotated[NotificationPayload | NotFoundError, strawberry.union("NotificationResult")]
AcknowledgeNotificationResult = Annotated[
    AcknowledgeNotificationPayload | NotFoundError, strawberry.union("AcknowledgeNotificationResult")
]
NotificationPreferencesResult = Annotated[
    NotificationPreferencesPayload | ValidationError | VersionConflictError,
    strawberry.union("NotificationPreferencesResult"),
]


def _device(d: DomainDevice) -> DevicePayload:
    return DevicePayload(device=Device.from_domain(d))


def _notification(n: DomainNotification) -> NotificationPayload:
    return NotificationPayload(notification=Notification.from_domain(n))


def _acknowledged(a: Acknowledgement) -> AcknowledgeNotificationPayload:
    return AcknowledgeNotificationPayload(
        notification=Notification.from_domain(a.notification), subject_acknowledged=a.subject_acknowledged
    )


def _preferences(p: DomainPreferences) -> NotificationPreferencesPayload:
    return NotificationPreferencesPayload(preferences=NotificationPreferences.from_domain(p))


@strawberry.type
class AlertMutation:
    @strawberry.mutation(description="Registers this app instance for pushes; moves it to you if another user had it.")
    async def register_device(self, info: Info, input: RegisterDeviceInput) -> DeviceResult:
        ctx = info.context

        async def run() -> DomainDevice:
            kind, address = input.address()
            return await devices.register_device(
                ctx.ports,
                ctx.principal,
                address_kind=kind,
                address=address,
                platform=input.platform,
                locale=input.locale,
                app_version=input.app_version,
            )

        return await attempt(DeviceResult, run, _device)

    @strawberry.mutation(description="Stops pushes to one of your app instances (e.g. on sign-out).")
    async def unregister_device(self, info: Info, input: UnregisterDeviceInput) -> UnregisterDeviceResult:
        ctx = info.context

        async def run() -> str:
            kind, address = input.address()
            return await devices.unregister_device(ctx.ports, ctx.principal, address_kind=kind, address=address)

        return await attempt(UnregisterDeviceResult, run, lambda i: UnregisterDevicePayload(device_id=strawberry.ID(i)))

    @strawberry.mutation(description="Marks one of your notifications read.")
    async def mark_read(self, info: Info, input: NotificationInput) -> NotificationResult:
        ctx = info.context
        return await attempt(
            NotificationResult, lambda: inbox.mark_read(ctx.ports, ctx.principal, input.id), _notification
        )

    @strawberry.mutation(
        description="Acknowledges one of your notifications, and its incident too when you may respond to it."
    )
    async def acknowledge_notification(self, info: Info, input: NotificationInput) -> AcknowledgeNotificationResult:
        ctx = info.context
        return await attempt(
            AcknowledgeNotificationResult,
            lambda: inbox.acknowledge_notification(ctx.ports, ctx.principal, input.id),
            _acknowledged,
        )

    @strawberry.mutation(description="Replaces your notification preferences. CRITICAL alerts always push.")
    async def update_notification_preferences(
        self, info: Info, input: UpdateNotificationPreferencesInput
    ) -> NotificationPreferencesResult:
        ctx = info.context
        return await attempt(
            NotificationPreferencesResult,
            lambda: preferences.update_preferences(
                ctx.ports, ctx.principal, input.to_domain(), expected_revision=input.expected_revision
            ),
            _preferences,
        )
