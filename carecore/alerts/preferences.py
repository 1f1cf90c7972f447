"""Notification preferences: quiet hours, muted kinds, and coordinators' on-duty flag."""

from __future__ import annotations

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.alerts.devices import PUSH_ROLES
from carecore.alerts.models import Preferences
from carecore.alerts.rules import check_timezone
from carecore.audit.service import audited
from carecore.errors import ValidationFailed, VersionConflict
from carecore.ports import Ports


async def get_preferences(ports: Ports, actor: Principal) -> Preferences:
    """The caller's own preferences (defaults until first saved)."""
    require_role(actor, *PUSH_ROLES)
    return await ports.store.notification_preferences.get(actor.user_id)


async def update_preferences(
    ports: Ports, actor: Principal, prefs: Preferences, *, expected_revision: int
) -> Preferences:
    """Replaces the caller's preferences; CRITICAL alerts push whatever they say."""
    require_role(actor, *PUSH_ROLES)
    check_timezone(prefs.timezone)
    if prefs.timezone is not None:
        validation.text(prefs.timezone, "timezone", max_len=64)
    if prefs.on_duty and actor.role is not Role.COORDINATOR:
        raise ValidationFailed("Only coordinators go on duty.", field="onDuty")
    mine = Preferences(
        user_id=actor.user_id,
        quiet_hours=prefs.quiet_hours,
        timezone=prefs.timezone,
        muted_kinds=prefs.muted_kinds,
        on_duty=prefs.on_duty,
    )
    async with audited(ports, actor, "notification_preferences.update", "User", [actor.user_id]):
        saved = await ports.store.notification_preferences.replace(mine, expected_revision=expected_revision)
        if saved is None:
            current = await ports.store.notification_preferences.get(actor.user_id)
            raise VersionConflict(
                "Your preferences changed since you loaded them.",
                current_revision=current.revision,
                field="expectedRevision",
            )
    return saved
