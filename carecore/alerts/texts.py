"""Lock-screen texts: whom an alert concerns and how urgent it is, nothing else.

Lock screens are public. A title or body never names a diagnosis, an incident type or any detail;
the app fetches those through authenticated GraphQL with the ids of the data payload.
"""

from __future__ import annotations

from collections.abc import Mapping

from carecore.alerts.models import AlertKind
from carecore.vocabulary import Severity

DEFAULT_LOCALE = "ko"

URGENCY: dict[str, dict[Severity, str]] = {
    "ko": {
        Severity.CRITICAL: "긴급",
        Severity.HIGH: "중요",
        Severity.MEDIUM: "새",
        Severity.LOW: "새",
    },
    "en": {
        Severity.CRITICAL: "an urgent",
        Severity.HIGH: "an important",
        Severity.MEDIUM: "a new",
        Severity.LOW: "a new",
    },
}

TITLES: dict[str, dict[Severity, str]] = {
    "ko": {
        Severity.CRITICAL: "긴급 알림",
        Severity.HIGH: "중요 알림",
        Severity.MEDIUM: "알림",
        Severity.LOW: "알림",
    },
    "en": {
        Severity.CRITICAL: "Urgent alert",
        Severity.HIGH: "Important alert",
        Severity.MEDIUM: "Notification",
        Severity.LOW: "Notification",
    },
}

ABOUT_PERSON = {
    "ko": "{name} 님 관련 {urgency} 알림이 있습니다",
    "en": "There is {urgency} alert about {name}.",
}
ABOUT_SHIFTS = {
    "ko": "근무 관련 {urgency} 알림이 있습니다",
    "en": "There is {urgency} notification about your shifts.",
}
GENERIC = {
    "ko": "{urgency} 알림이 있습니다",
    "en": "You have {urgency} notification.",
}
# Read out by the voice call, then sent by SMS; the callee presses 1 to acknowledge.
CALL = {
    "ko": "케어코어 긴급 알림입니다. {about} 앱에서 확인해 주세요. 확인하셨으면 1번을 눌러 주세요.",
    "en": "This is an urgent alert from CareCore. {about} Please check the app. Press 1 to acknowledge.",
}
CALL_THANKS = {"ko": "확인되었습니다. 감사합니다.", "en": "Acknowledged. Thank you."}
# Pressing 1 acknowledged nothing for the team (a guardian, or someone no longer serving the person).
CALL_STILL_ALERTING = {
    "ko": "응답으로 알림이 처리되지 않았습니다. 담당 팀에 계속 알리고 있습니다.",
    "en": "Your answer could not acknowledge this alert. The care team is still being alerted.",
}
SMS = {
    "ko": "[케어코어] {about} 앱에서 확인해 주세요.",
    "en": "[CareCore] {about} Please check the app.",
}

SHIFT_KINDS = frozenset({AlertKind.OPEN_SHIFT_OFFER, AlertKind.SHIFT_CHANGE})


def supported(locale: str | None) -> str:
    return locale if locale in TITLES else DEFAULT_LOCALE


def title(locale: str, severity: Severity) -> str:
    return TITLES[supported(locale)][severity]


def body(locale: str, severity: Severity, kind: AlertKind, person_name: str | None) -> str:
    lang = supported(locale)
    urgency = URGENCY[lang][severity]
    if person_name and kind not in SHIFT_KINDS:
        return ABOUT_PERSON[lang].format(name=person_name, urgency=urgency)
    if kind in SHIFT_KINDS:
        return ABOUT_SHIFTS[lang].format(urgency=urgency)
    return GENERIC[lang].format(urgency=urgency)


def call_text(locale: str, about: str) -> str:
    return CALL[supported(locale)].format(about=about)


def sms_text(locale: str, about: str) -> str:
    return SMS[supported(locale)].format(about=about)


def every_template() -> list[str]:
    """For the privacy test: every fixed text a recipient may see."""
    tables: list[Mapping[str, object]] = [
        URGENCY,
        TITLES,
        ABOUT_PERSON,
        ABOUT_SHIFTS,
        GENERIC,
        CALL,
        CALL_THANKS,
        CALL_STILL_ALERTING,
        SMS,
    ]
    found: list[str] = []
    for table in tables:
        for value in table.values():
            found.extend(value.values() if isinstance(value, dict) else [str(value)])
    return found
