"""Onboarding an agency: a platform operator's work, from the command line (`python -m app onboard-agency`).

Everything is checked before anything is written. The writes then go in an order that is safe to
resume: the new accounts' claims (they grant nothing until a profile matches them, as in
`users.service.create_user`, and a uid without a Firebase account fails there, before anything is in
the database), the agency's settings, the profiles, then each AI service's configuration.
Ids derive from the spec's key and the accounts' Firebase uids, so running the same spec again, after
a crash or to change settings, finds what the earlier run made and completes it.
"""

from __future__ import annotations

import contextlib
import secrets
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carecore import validation
from carecore.access.principal import Role
from carecore.agencies.models import Agency, AgencySpec, AiServiceSpec, Onboarded
from carecore.audit.service import audited
from carecore.errors import AlreadyExists, ValidationFailed
from carecore.ids import id_for_key
from carecore.incidents.ai_services import MAX_SECRET_LENGTH, MIN_SECRET_LENGTH
from carecore.incidents.models import AiService
from carecore.ports import Ports
from carecore.users.models import User

MAX_WEEKLY_HOURS = 168
MAX_ACCOUNTS = 50


def agency_id_for(key: str) -> str:
    """The agency's id for the operator's key: the same key is the same agency."""
    return id_for_key("platform", "agency", key)


def user_id_for(agency_id: str, firebase_uid: str) -> str:
    return id_for_key(agency_id, "platform", "onboard_user", firebase_uid)


def checked_agency(spec: AgencySpec) -> Agency:
    """The agency the spec describes, or ValidationFailed naming the first bad field."""
    key = validation.text(spec.key, "key", max_len=64, required=True)
    if not all(c.isascii() and (c.isalnum() or c in "-_.") for c in key):
        raise ValidationFailed("key may hold only letters, digits, '-', '_' and '.'.", field="key")
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"timezone {spec.timezone!r} is not an IANA time zone.", field="timezone") from None
    validation.in_range(spec.max_weekly_hours, "max_weekly_hours", 1, MAX_WEEKLY_HOURS)
    validation.in_range(spec.min_rest_hours, "min_rest_hours", 0, 24)
    if not spec.coordinators:
        raise ValidationFailed("An agency needs at least one coordinator to manage it.", field="coordinators")
    validation.items(spec.coordinators, "coordinators", max_items=MAX_ACCOUNTS)
    validation.items(spec.ai_services, "ai_services", max_items=MAX_ACCOUNTS)
    uids = [a.firebase_uid for a in spec.coordinators] + [s.account.firebase_uid for s in spec.ai_services]
    if len(set(uids)) != len(uids):
        raise ValidationFailed("Each Firebase uid may appear once.", field="firebase_uid")
    for uid in uids:
        validation.text(uid, "firebase_uid", max_len=128, required=True)
    for account in [*spec.coordinators, *(s.account for s in spec.ai_services)]:
        validation.text(account.display_name, "display_name", max_len=validation.MAX_NAME, required=True)
        validation.optional_text(account.email, "email", max_len=254)
        validation.optional_text(account.phone, "phone", max_len=32)
    for s in spec.ai_services:
        validation.text(s.service, "service", max_len=validation.MAX_NAME, required=True)
        if s.secret is not None and not MIN_SECRET_LENGTH <= len(s.secret) <= MAX_SECRET_LENGTH:
            raise ValidationFailed(
                f"secret must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters.", field="secret"
            )
    return Agency(
        id=agency_id_for(key),
        name=validation.text(spec.name, "name", max_len=validation.MAX_NAME, required=True),
        timezone=spec.timezone,
        region=validation.text(spec.region, "region", max_len=validation.MAX_NAME),
        max_weekly_hours=spec.max_weekly_hours,
        min_rest_hours=spec.min_rest_hours,
        swap_requires_approval=spec.swap_requires_approval,
    )


async def onboard_agency(ports: Ports, *, operator: str, spec: AgencySpec) -> Onboarded:
    """Creates an agency (or updates its settings) with its first coordinators and AI services; idempotent."""
    operator = validation.text(operator, "operator", max_len=validation.MAX_NAME, required=True)
    agency = checked_agency(spec)
    now = ports.clock.now()
    wanted = [(a, Role.COORDINATOR) for a in spec.coordinators] + [
        (s.account, Role.AI_SERVICE) for s in spec.ai_services
    ]
    profiles: dict[str, User | None] = {}
    for account, role in wanted:  # every refusal before the first write
        user_id = user_id_for(agency.id, account.firebase_uid)
        existing = await ports.store.users.get_by_firebase_uid(account.firebase_uid)
        if existing is not None and (existing.id != user_id or existing.role is not role):
            raise ValidationFailed(
                f"Firebase uid {account.firebase_uid} already has a profile ({existing.role.value} of another "
                "agency, or another role); use a new account.",
                field="firebase_uid",
            )
        profiles[account.firebase_uid] = existing
    user_ids = {a.firebase_uid: user_id_for(agency.id, a.firebase_uid) for a, _ in wanted}
    new_secrets: dict[str, str] = {}
    created = [
        User(
            id=user_ids[account.firebase_uid],
            agency_id=agency.id,
            firebase_uid=account.firebase_uid,
            role=role,
            display_name=account.display_name.strip(),
            locale="ko",
            email=validation.optional_text(account.email, "email", max_len=254),
            phone=validation.optional_text(account.phone, "phone", max_len=32),
            active=True,
            revision=1,
            created_at=now,
            updated_at=now,
        )
        for account, role in wanted
        if profiles[account.firebase_uid] is None
    ]
    async with audited(ports, None, "agency.onboard", "Agency", [agency.id], agency_id=agency.id, operator=operator):
        # Claims first: they grant nothing until a profile matches them, and a uid with no Firebase
        # account is refused here, before the agency or any profile exists.
        for user in created:
            await ports.claims.set_claims(user.firebase_uid, user.claims())
        await ports.store.agencies.upsert(agency)
        if created:
            ids = [u.id for u in created]
            async with audited(ports, None, "user.create", "User", ids, agency_id=agency.id, operator=operator):
                for user in created:
                    with contextlib.suppress(AlreadyExists):  # a concurrent run of the same spec made it
                        await ports.store.users.insert(user)
        for s in spec.ai_services:
            if (secret := await _configure(ports, agency, user_ids[s.account.firebase_uid], s, operator)) is not None:
                new_secrets[user_ids[s.account.firebase_uid]] = secret
    return Onboarded(agency=agency, user_ids=user_ids, new_secrets=new_secrets)


async def _configure(ports: Ports, agency: Agency, user_id: str, s: AiServiceSpec, operator: str) -> str | None:
    """Configures one AI service; returns its secret when generated now (to hand to the service once)."""
    current = await ports.store.ai_services.get(user_id)
    generated = secrets.token_urlsafe(32) if s.secret is None and current is None else None
    secret = s.secret or generated or (current.secret if current else "")
    service = s.service.strip()
    if current is not None and current.service == service and current.secret == secret:
        return None  # a re-run: nothing changes
    async with audited(ports, None, "ai_service.configure", "User", [user_id], agency_id=agency.id, operator=operator):
        await ports.store.ai_services.put(AiService(user_id, agency.id, service, secret, ports.clock.now()))
    return generated
