"""Inputs of the device, inbox and preference mutations."""

from __future__ import annotations

from datetime import time

import strawberry

from carecore.alerts.models import AddressKind, Preferences
from carecore.alerts.models import AlertKind as DomainAlertKind
from carecore.alerts.models import QuietHours as DomainQuietHours
from carecore.errors import ValidationFailed
from schema.types.alerts import AlertKind, Platform


@strawberry.input(description="Exactly one of installationId (current apps) or registrationToken (older apps).")
class DeviceAddressInput:
    installation_id: str | None = None
    registration_token: str | None = None

    def address(self) -> tuple[AddressKind, str]:
        if (self.installation_id is None) == (self.registration_token is None):
            raise ValidationFailed("Give exactly one of installationId or registrationToken.", field="installationId")
        if self.installation_id is not None:
            return AddressKind.INSTALLATION_ID, self.installation_id
        return AddressKind.REGISTRATION_TOKEN, self.registration_token or ""


@strawberry.input
class RegisterDeviceInput(DeviceAddressInput):
    platform: Platform
    locale: str = "ko"
    app_version: str = ""


@strawberry.input
class UnregisterDeviceInput(DeviceAddressInput):
    pass


@strawberry.input
class NotificationInput:
    id: strawberry.ID


@strawberry.input
class QuietHoursInput:
    start: time
    end: time


@strawberry.input
class UpdateNotificationPreferencesInput:
    expected_revision: int = strawberry.field(description="0 when never saved.")
    quiet_hours: QuietHoursInput | None = None
    timezone: str | None = None
    muted_kinds: list[AlertKind] = strawberry.field(default_factory=list)
    on_duty: bool = False

    def to_domain(self) -> Preferences:
        q = self.quiet_hours
        return Preferences(
            user_id="",  # the service sets the caller's
            quiet_hours=DomainQuietHours(q.start, q.end) if q else None,
            timezone=self.timezone,
            muted_kinds=frozenset(DomainAlertKind(k) for k in self.muted_kinds),
            on_duty=self.on_duty,
        )
