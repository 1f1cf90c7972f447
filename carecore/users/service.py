"""Authenticating callers and managing the profiles behind their Firebase accounts.

A role lives in two places: the profile and the account's Firebase custom claims, and `authenticate`
accepts a token only when both agree. A role change writes the profile first, marked as having
lagging claims, then publishes the claims, then records them as published. A process that dies in
between leaves the mark, and `publish_lagging_claims` (a lease-claimed background job) publishes them,
so the user's token refresh succeeds again without anybody retrying. The opposite order could leave
claims granting a role the profile does not have; `authenticate` refuses those anyway, but the mark
could not be written before the profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from carecore import tracing, validation
from carecore.access.policy import require_role
from carecore.access.principal import Principal, Role
from carecore.audit.service import audited
from carecore.errors import AlreadyExists, NotFound, Unauthenticated, ValidationFailed, VersionConflict
from carecore.ids import id_for_key, is_valid_id, new_id
from carecore.pagination import Page, PageRequest
from carecore.ports import Ports
from carecore.users.models import SUPPORTED_LOCALES, User, UserFields

# A caregiver sees the people they have a shift with from 7 days ago to 14 days ahead (DESIGN).
SERVED_BEFORE = timedelta(days=7)
SERVED_AHEAD = timedelta(days=14)
# How long a role change's request has to publish the claims before the job takes over, and its lease.
CLAIMS_GRACE = timedelta(seconds=30)
CLAIMS_LEASE = timedelta(minutes=1)


async def authenticate(ports: Ports, firebase_uid: str, claims: Mapping[str, Any]) -> Principal:
    """Turns a verified token into a principal; the profile must be active and agree with the claims.

    A token minted before a coordinator changed someone's role still carries the old claims; refusing
    it forces the app to refresh the token instead of acting on a stale role.
    """
    user = await ports.store.users.get_by_firebase_uid(firebase_uid)
    if user is None or not user.active:
        raise Unauthenticated("No active profile for this account.")
    if claims.get("role") != user.role.value or claims.get("agency") != user.agency_id:
        raise Unauthenticated("Token claims do not match the profile; refresh the token.")
    tracing.bind_caller(user.id, user.agency_id)
    return await principal_for(ports, user)


async def principal_for(ports: Ports, user: User) -> Principal:
    """The identity access is decided for: the one resolver behind tokens, key presses and assignees.

    A caregiver also serves the people they have a shift with from 7 days ago to 14 days ahead, not
    only their care teams; a principal built without them would refuse that caregiver (DESIGN "Users").
    The caller checks that the profile is active.
    """
    principal = user.principal()
    if user.role is Role.CAREGIVER:
        now = ports.clock.now()
        served = await ports.store.shifts.served_person_ids(user.id, now - SERVED_BEFORE, now + SERVED_AHEAD)
        principal = replace(principal, served_person_ids=frozenset(served))
    return principal


async def get_me(ports: Ports, actor: Principal) -> User:
    """Returns the caller's own profile."""
    user = await ports.store.users.get(actor.user_id)
    if user is None:
        raise Unauthenticated("No active profile for this account.")
    return user


async def get_user_or_raise(ports: Ports, actor: Principal, user_id: str) -> User:
    """Coordinators read any profile of their agency; everyone else only their own."""
    user = await ports.store.users.get(user_id) if is_valid_id(user_id) else None
    if user is None or user.agency_id != actor.agency_id:
        raise NotFound("User", user_id, field="id")
    if user.id != actor.user_id and not actor.is_coordinator:
        raise NotFound("User", user_id, field="id")
    return user


async def list_users(ports: Ports, actor: Principal, page: PageRequest, role: Role | None = None) -> Page[User]:
    """Lists the agency's profiles, by name."""
    require_role(actor, Role.COORDINATOR)
    return await ports.store.users.list(actor.agency_id, page, role)


def _checked(fields: UserFields) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if fields.display_name is not None:
        changes["display_name"] = validation.text(
            fields.display_name, "displayName", max_len=validation.MAX_NAME, required=True
        )
    if fields.role is not None:
        changes["role"] = fields.role.value
    if fields.locale is not None:
        if fields.locale not in SUPPORTED_LOCALES:
            raise ValidationFailed(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}.", field="locale")
        changes["locale"] = fields.locale
    if fields.email is not None:
        changes["email"] = validation.optional_text(fields.email, "email", max_len=254)
    if fields.phone is not None:
        changes["phone"] = validation.optional_text(fields.phone, "phone", max_len=32)
    if fields.active is not None:
        changes["active"] = fields.active
    return changes


async def create_user(
    ports: Ports, actor: Principal, *, firebase_uid: str, fields: UserFields, idempotency_key: str | None = None
) -> User:
    """Creates the profile for a Firebase account and writes its role and agency into its claims."""
    require_role(actor, Role.COORDINATOR)
    uid = validation.text(firebase_uid, "firebaseUid", max_len=128, required=True)
    if fields.role is None or fields.display_name is None:
        raise ValidationFailed("role and displayName are required.", field="role")
    changes = _checked(fields)
    now = ports.clock.now()
    user_id = (
        id_for_key(actor.agency_id, actor.user_id, "create_user", idempotency_key) if idempotency_key else new_id()
    )
    user = User(
        id=user_id,
        agency_id=actor.agency_id,
        firebase_uid=uid,
        role=Role(changes["role"]),
        display_name=changes["display_name"],
        locale=changes.get("locale", "ko"),
        email=changes.get("email"),
        phone=changes.get("phone"),
        active=changes.get("active", True),
        revision=1,
        created_at=now,
        updated_at=now,
    )
    existing = await ports.store.users.get(user_id)
    if existing is not None:
        return existing  # a retry of a create that already went through
    if await ports.store.users.get_by_firebase_uid(uid) is not None:
        raise ValidationFailed("A profile already exists for this Firebase uid.", field="firebaseUid")
    async with audited(ports, actor, "user.create", "User", [user.id]):
        # Claims first: they grant nothing until a profile matches them, and writing them proves the uid
        # exists. A profile written first could be left behind for an account that does not exist.
        await ports.claims.set_claims(uid, user.claims())
        try:
            await ports.store.users.insert(user)
        except AlreadyExists:
            return await get_user_or_raise(ports, actor, user_id)
    return user


async def update_user(
    ports: Ports, actor: Principal, user_id: str, *, expected_revision: int, fields: UserFields
) -> User:
    """Edits a profile; a change of role is written to the account's claims too."""
    require_role(actor, Role.COORDINATOR)
    current = await get_user_or_raise(ports, actor, user_id)
    changes = _checked(fields)
    if current.id == actor.user_id and (
        changes.get("active") is False or changes.get("role", "coordinator") != "coordinator"
    ):
        raise ValidationFailed("You cannot demote or deactivate yourself.", field="role")
    now = ports.clock.now()
    role_changes = "role" in changes
    async with audited(ports, actor, "user.update", "User", [current.id]):
        updated = await ports.store.users.update(
            current.id,
            changes,
            expected_revision=expected_revision,
            now=now,
            claims_due_at=now + CLAIMS_GRACE if role_changes else None,
        )
        if updated is None:
            latest = await get_user_or_raise(ports, actor, user_id)
            raise VersionConflict("The profile changed since you loaded it.", current_revision=latest.revision)
        if role_changes:
            await _publish_claims(ports, updated.id, owner=f"user.update-{new_id()}")
    return updated


async def _publish_claims(ports: Ports, user_id: str, *, owner: str) -> None:
    """Publishes a profile's lagging claims now; a publisher already at it (request or job) finishes them."""
    user = await ports.store.users.claim_claims(user_id, now=ports.clock.now(), owner=owner, lease=CLAIMS_LEASE)
    if user is not None:
        await _publish_claimed(ports, user, owner=owner)


async def _publish_claimed(ports: Ports, user: User, *, owner: str) -> None:
    # Publishers of one profile take turns under its lease, so the last claims written are those of
    # the revision last recorded; a revision that moved on meanwhile stays due and is published again.
    await ports.claims.set_claims(user.firebase_uid, user.claims())
    await ports.store.users.claims_published(user.id, revision=user.revision, owner=owner)


async def publish_lagging_claims(ports: Ports, owner: str) -> int:
    """Background job: publishes the claims of profiles whose role change died before it; returns how many."""
    done = 0
    while (
        user := await ports.store.users.claim_lagging_claims(now=ports.clock.now(), owner=owner, lease=CLAIMS_LEASE)
    ) is not None:
        await _publish_claimed(ports, user, owner=owner)
        done += 1
    return done


async def authenticate_token(ports: Ports, token: str) -> Principal:
    """Verifies an ID token and resolves the caller's principal."""
    uid, claims = await ports.tokens.verify(token)
    return await authenticate(ports, uid, claims)
