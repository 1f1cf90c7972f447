"""Agencies (기관): the care providers that own all data."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TIMEZONE = "Asia/Seoul"


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    region: str = ""
    max_weekly_hours: int = 52
    min_rest_hours: int = 8
    # Called at the last step of a ladder (DESIGN "Escalation"); none set: every coordinator.
    emergency_contact_user_ids: tuple[str, ...] = ()
    # A swap two caregivers agreed on waits for a coordinator's approval.
    swap_requires_approval: bool = False


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """A Firebase account (created by the operator beforehand) to give a role in a new agency."""

    firebase_uid: str
    display_name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class AiServiceSpec:
    """An AI service account: its `service` name (people's external references use it) and webhook secret.

    `secret` None keeps the secret already configured, or has one generated on the first run.
    """

    account: AccountSpec
    service: str
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """What a platform operator onboards: the agency's settings, its first coordinators and AI services.

    `key` is the operator's stable name for the agency (e.g. "gyeonggi-hamkke"): running the same spec
    again finds the same agency and accounts, so onboarding is idempotent and resumable.
    """

    key: str
    name: str
    timezone: str = DEFAULT_TIMEZONE
    region: str = ""
    max_weekly_hours: int = 52
    min_rest_hours: int = 8
    swap_requires_approval: bool = False
    coordinators: tuple[AccountSpec, ...] = ()
    ai_services: tuple[AiServiceSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Onboarded:
    agency: Agency
    user_ids: dict[str, str]  # Firebase uid -> profile id
    new_secrets: dict[str, str] = field(repr=False)  # AI service user id -> a secret generated now
