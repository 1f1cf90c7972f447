"""The console's words in Korean and English; a page speaks the signed-in user's locale."""

from __future__ import annotations

from collections.abc import Callable

DEFAULT_LOCALE = "ko"

# key: (Korean, English)
_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("코디네이터 콘솔", "Coordinator console"),
    "signin": ("로그인", "Sign in"),
    "signin_intro": ("코디네이터 계정으로 로그인하세요.", "Sign in with your coordinator account."),
    "email": ("이메일", "Email"),
    "password": ("비밀번호", "Password"),
    "signin_failed": (
        "로그인하지 못했습니다. 이메일과 비밀번호를 확인하세요.",
        "Could not sign in: check the email and password.",
    ),
    "signin_needs_js": (
        "로그인에는 JavaScript가 필요합니다 (Firebase 인증).",
        "Signing in needs JavaScript (Firebase Auth).",
    ),
    "signout": ("로그아웃", "Sign out"),
    "not_coordinator_title": ("코디네이터 전용입니다", "For coordinators only"),
    "not_coordinator": (
        "이 콘솔은 기관 코디네이터용입니다. 돌봄 앱을 이용해 주세요.",
        "This console is for the agency's coordinators. Please use the care app instead.",
    ),
    "now": ("지금", "Now"),
    "updated_at": ("갱신", "Updated"),
    "incidents": ("확인되지 않은 위기 상황", "Unacknowledged incidents"),
    "no_incidents": ("확인을 기다리는 위기 상황이 없습니다.", "No incident waits for an acknowledgement."),
    "visits": ("지각·누락 방문", "Late and missed visits"),
    "no_visits": ("지각하거나 누락된 방문이 없습니다.", "No visit is late or missed."),
    "gaps": ("24시간 내 돌봄 공백", "Coverage gaps in the next 24 hours"),
    "no_gaps": ("24시간 내 공백이 없습니다.", "No gap in the next 24 hours."),
    "open_shifts": ("아무도 맡지 않은 근무", "Open shifts nobody claimed"),
    "no_open_shifts": ("열린 근무가 없습니다.", "No open shift."),
    "reports": ("기관 보고 기한", "Reports due to the authority"),
    "no_reports": ("보고할 사건이 없습니다.", "No report is due."),
    "overdue": ("기한 지남", "overdue"),
    "due": ("기한", "due"),
    "more": ("더 보기", "More"),
    "step": ("단계", "step"),
    "next_step_in": ("다음 단계까지", "next step in"),
    "ladder_stopped": ("에스컬레이션 멈춤", "ladder stopped"),
    "ladder_done": ("마지막 단계 지남", "past the last step"),
    "person": ("대상자", "Person"),
    "severity": ("심각도", "Severity"),
    "status": ("상태", "Status"),
    "type": ("유형", "Type"),
    "summary": ("요약", "Summary"),
    "created": ("발생", "Created"),
    "when": ("시간", "When"),
    "kind": ("구분", "Kind"),
    "timeline": ("경과", "Timeline"),
    "actions": ("조치", "Actions"),
    "note": ("메모", "Note"),
    "note_required_critical": ("위급(CRITICAL) 사건은 메모가 필요합니다.", "A note is required for CRITICAL."),
    "acknowledge": ("확인", "Acknowledge"),
    "resolve": ("해결", "Resolve"),
    "outcome": ("결과", "Outcome"),
    "actionable": ("조치가 필요한 알림이었나요?", "Did the alert call for action?"),
    "actionable_yes": ("예, 조치함", "Yes, someone acted"),
    "actionable_no": ("아니요", "No"),
    "dismiss": ("기각", "Dismiss"),
    "reason": ("사유", "Reason"),
    "reopen": ("다시 열기", "Reopen"),
    "mark_reported": ("보고 완료", "Mark reported"),
    "reference": ("접수 번호", "Reference"),
    "reported": ("보고함", "reported"),
    "back_to_now": ("지금 화면으로", "Back to Now"),
    "not_found": ("찾을 수 없습니다.", "Not found."),
    "refused": ("요청을 처리하지 못했습니다.", "The request was refused."),
    "LATE": ("지각", "late"),
    "MISSED": ("누락", "missed"),
    "UNCOVERED": ("공백", "uncovered"),
    "OPEN": ("열림", "open"),
    "review": ("검토 대기", "Review queue"),
    "review_intro": (
        "신뢰도가 낮은 AI 감지입니다. 확인하면 위기 상황이 되고 알림 단계가 시작됩니다.",
        "Low-confidence AI flags. Confirming one makes it an incident and starts its ladder.",
    ),
    "no_review": ("검토할 감지가 없습니다.", "No flag waits for review."),
    "confirm": ("확인 (위기 상황으로)", "Confirm as incident"),
    "confidence": ("신뢰도", "confidence"),
    "detectors": ("감지기별 정확도", "Precision per detector"),
    "detector": ("감지기", "Detector"),
    "confirmed": ("확인", "Confirmed"),
    "dismissed": ("기각", "Dismissed"),
    "pending": ("대기", "Pending"),
    "precision": ("정확도", "Precision"),
    "notifications": ("알림 전달", "Notifications"),
    "recipient": ("받는 사람", "Recipient"),
    "push": ("푸시", "Push"),
    "second_channel": ("문자·전화", "SMS and call"),
    "opened": ("열람", "Opened"),
    "acknowledged": ("확인함", "Acknowledged"),
    "no_notifications": ("보낸 알림이 없습니다.", "No notification was sent."),
    "shift": ("근무", "Shift"),
    "caregiver": ("요양보호사", "Caregiver"),
    "qualifications": ("필요 자격", "Required qualifications"),
    "checked_in": ("출근 확인", "Checked in"),
    "assign": ("배정", "Assign"),
    "override_reason": ("자격 예외 사유 (필요할 때만)", "Qualification override reason (only when needed)"),
    "history": ("이력", "History"),
    "conflicting_shift": ("겹치는 근무", "Conflicting shift"),
    "missing_qualifications": ("부족한 자격", "Missing qualifications"),
    "assignee": ("담당자", "Assignee"),
    "coordinator": ("코디네이터", "coordinator"),
    "people": ("대상자", "People"),
    "search": ("검색", "Search"),
    "no_people": ("대상자가 없습니다.", "Nobody found."),
    "support_level": ("지원 수준", "Support level"),
    "born": ("생년월일", "Born"),
    "allergies": ("알레르기", "Allergies"),
    "care_team": ("돌봄 팀", "Care team"),
    "guardians": ("보호자", "Guardians"),
    "guardian": ("보호자", "Guardian"),
    "relationship": ("관계", "Relationship"),
    "permissions": ("권한", "Permissions"),
    "plans": ("돌봄 계획", "Care plans"),
    "approved": ("승인", "approved"),
    "approve": ("승인", "Approve"),
    "critical_task": ("필수", "critical"),
    "coverage": ("근무 현황", "Coverage"),
    "previous_week": ("지난주", "Previous week"),
    "next_week": ("다음 주", "Next week"),
    "week": ("이번 주 대상자별", "The week per person"),
    "shifts_and_gaps": ("근무와 공백", "Shifts and gaps"),
    "swaps": ("승인을 기다리는 교대", "Swaps awaiting approval"),
    "refuse": ("거절", "Refuse"),
    "open_a_shift": ("근무 열기", "Open a shift"),
    "starts": ("시작", "Starts"),
    "hours": ("시간", "Hours"),
    "graphiql_loading": ("GraphiQL 불러오는 중…", "Loading GraphiQL…"),
}


def locale_of(preferred: str | None) -> str:
    """'en' or 'ko' from a profile's locale or an Accept-Language header."""
    first = (preferred or "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else DEFAULT_LOCALE


def translator(locale: str) -> Callable[[str], str]:
    index = 1 if locale == "en" else 0

    def t(key: str) -> str:
        return _TEXTS[key][index] if key in _TEXTS else key

    return t
