"""Devices: the app instances a user receives pushes on."""

from __future__ import annotations

from datetime import timedelta

from carecore import validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.alerts.models import AddressKind, Device, Platform
from carecore.alerts.rules import MAX_DEVICES_PER_USER
from carecore.audit.service import audited
from carecore.errors import NotFound, ValidationFailed
from carecore.ids import id_for_key
from carecore.ports import Ports
from carecore.users.models import SUPPORTED_LOCALES

# FCM forgets an app instance not seen for 270 days; so do we (DESIGN "Notifications").
STALE_AFTER = timedelta(days=270)
PUSH_ROLES = (Role.COORDINATOR, Role.CAREGIVER, Role.FAMILY)


def device_id(address_kind: AddressKind, address: str) -> str:
    return id_for_key("device", address_kind.value, address)


def _checked_address(address_kind: AddressKind, address: str) -> str:
    field = "installationId" if address_kind is AddressKind.INSTALLATION_ID else "registrationToken"
    return validation.text(address, field, max_len=4096, required=True)


async def register_device(
    ports: Ports,
    actor: Principal,
    *,
    address_kind: AddressKind,
    address: str,
    platform: Platform,
    locale: str,
    app_version: str,
) -> Device:
    """Registers the caller's app instance, moving it from whoever had it; refreshes its last-seen time."""
    require_role(actor, *PUSH_ROLES)
    address = _checked_address(address_kind, address)
    if locale not in SUPPORTED_LOCALES:
        raise ValidationFailed(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}.", field="locale")
    now = ports.clock.now()
    async with audited(ports, actor, "device.register", "Device", [device_id(address_kind, address)]):
        device = await ports.store.devices.put(
            Device(
                id=device_id(address_kind, address),
                user_id=actor.user_id,
                agency_id=actor.agency_id,
                address_kind=address_kind,
                address=address,
                platform=platform,
                locale=locale,
                app_version=validation.text(app_version, "appVersion", max_len=32),
                registered_at=now,
                last_seen_at=now,
            )
        )
        # A bounded fan-out per user: a phone reinstalled many times leaves old instances behind.
        for stale in (await ports.store.devices.for_user(actor.user_id))[MAX_DEVICES_PER_USER:]:
            await ports.store.devices.remove(stale.id, user_id=actor.user_id)
    return device


async def unregister_device(ports: Ports, actor: Principal, *, address_kind: AddressKind, address: str) -> str:
    """Stops pushes to one of the caller's app instances (e.g. on sign-out); returns its id."""
    require_role(actor, *PUSH_ROLES)
    found = device_id(address_kind, _checked_address(address_kind, address))
    async with audited(ports, actor, "device.unregister", "Device", [found]):
        if not await ports.store.devices.remove(found, user_id=actor.user_id):
            raise NotFound("Device", found, field="installationId")
    return found


async def list_devices(ports: Ports, actor: Principal) -> list[Device]:
    """The caller's own devices, most recently seen first."""
    require_role(actor, *PUSH_ROLES)
    return await ports.store.devices.for_user(actor.user_id)


async def remove_stale_devices(ports: Ports) -> int:
    """The clean-up job: devices unseen for 270 days."""
    return await ports.store.devices.remove_unseen_since(ports.clock.now() - STALE_AFTER)
