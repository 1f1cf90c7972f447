"""The one table of error codes a client sees in `extensions.code`, and the boundary's texts in ko and en.

Every GraphQL error the API answers carries one of these codes: the HTTP door's refusals
(app/graphql_http.py), GraphQL's own parse, validation and variable errors, the input guard's
(schema/input_guard.py), the scalars' (schema/scalars.py), the domain's errors raised by query resolvers
and masked unexpected ones (schema/errors.py). docs/api.md shows the same table; a test keeps them equal.
Expected failures of mutations are not here: they are typed results (`UserError` in the schema).

A leaf module: it imports nothing of carecore, so the door and the schema can both use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DEFAULT_LOCALE = "ko"
LOCALES = ("ko", "en")


class Code(StrEnum):
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    MAX_COST_EXCEEDED = "MAX_COST_EXCEEDED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    http: str  # the HTTP status it comes with, as docs/api.md shows it
    meaning: str
    retry: str  # what a client does about it


TABLE: dict[Code, CodeInfo] = {
    Code.BAD_REQUEST: CodeInfo(
        "400, 405, 415",
        "The HTTP request is not a GraphQL request: not a JSON object of UTF-8, a parameter of the wrong type, "
        "a method or content type other than POST/GET with JSON, or a subscription over HTTP.",
        "Fix the client; never retry as is.",
    ),
    Code.PAYLOAD_TOO_LARGE: CodeInfo("413", "The body is over 256 KB.", "Send less; never retry as is."),
    Code.UNAUTHENTICATED: CodeInfo(
        "401 at the door, 200 inside a result",
        "No valid ID token, or no active profile for it.",
        "Refresh the ID token and retry once; then sign in again.",
    ),
    Code.FORBIDDEN: CodeInfo("200", "Your role may never do this.", "Do not retry."),
    Code.GRAPHQL_PARSE_FAILED: CodeInfo(
        "400 with application/graphql-response+json, else 200",
        "The document is not GraphQL, or is over 2,000 tokens.",
        "Fix the document.",
    ),
    Code.GRAPHQL_VALIDATION_FAILED: CodeInfo(
        "400 with application/graphql-response+json, else 200",
        "The document does not fit the schema or its limits (depth, aliases, 5,000 fields once fragments are "
        "spread), or names no operation to run among several.",
        "Fix the document.",
    ),
    Code.MAX_COST_EXCEEDED: CodeInfo(
        "400 with application/graphql-response+json, else 200",
        "The operation would cost more than 10,000: each field of an object type costs 1, and a list's "
        "`first` (its page size, 20 when not given) multiplies what is selected under it, nested lists "
        "multiplying again. `extensions.cost` and `extensions.maxCost` give both figures.",
        "Ask for smaller pages or fewer nested lists; never retry as is.",
    ),
    Code.PERSISTED_QUERY_NOT_FOUND: CodeInfo(
        "400 with application/graphql-response+json, else 200",
        "Trusted documents only: no registered document has the SHA-256 hash in "
        "`extensions.persistedQuery.sha256Hash`.",
        "Register the app's documents (`python -m app register-documents`) or update the app; never retry as is.",
    ),
    Code.PERSISTED_QUERY_REQUIRED: CodeInfo(
        "400 with application/graphql-response+json, else 200",
        "Trusted documents only: the request sends a document of its own, or no persisted-query hash.",
        "Send `extensions.persistedQuery` with the registered document's hash.",
    ),
    Code.BAD_USER_INPUT: CodeInfo(
        "400 for variables with application/graphql-response+json, else 200",
        "A variable or argument does not fit its type or range: a date outside 1900-2199, a time without an "
        "offset, text with a lone UTF-16 surrogate, a number that is not finite or over 1e9; or a query's "
        "argument breaks a rule (e.g. a range too long). `extensions.field` names it when known.",
        "Fix the input; nothing was written.",
    ),
    Code.NOT_FOUND: CodeInfo(
        "200", "No such object, or outside what you may see (both answer the same).", "Do not retry."
    ),
    Code.CONFLICT: CodeInfo(
        "200", "The object changed or is in a state that does not allow this.", "Reload, then decide."
    ),
    Code.IDEMPOTENCY_KEY_REUSED: CodeInfo(
        "200",
        "The `idempotencyKey` of this mutation already made something for a request with other values; nothing "
        "was written. The same key with the same values answers with the first result instead.",
        "Use a new key for each new request; keep one only for retries of the same request.",
    ),
    Code.UNAVAILABLE: CodeInfo(
        "200 (503 from /readyz)",
        "A dependency (the database, live updates) is not available now.",
        "Retry with backoff.",
    ),
    Code.INTERNAL_SERVER_ERROR: CodeInfo(
        "200", "An unexpected failure; its details are logged with the request id, never sent.", "Retry later."
    ),
}


# The boundary's own texts, by key: (en, ko). Domain errors keep the core's text.
TEXTS: dict[str, tuple[str, str]] = {
    "unauthenticated": ("Sign in to continue.", "로그인이 필요합니다."),
    "internal": ("Unexpected error.", "예기치 않은 오류가 발생했습니다."),
    "unavailable": (
        "The service is unavailable right now; try again shortly.",
        "지금은 서비스를 이용할 수 없습니다. 잠시 후 다시 시도하세요.",
    ),
    "not_json": ("The body is not JSON in UTF-8.", "본문이 UTF-8 JSON이 아닙니다."),
    "not_object": ("The body must be a JSON object with a `query`.", "본문은 `query`가 있는 JSON 객체여야 합니다."),
    "param_type": ("`{name}` must be {kind}.", "`{name}`은(는) {kind_ko}이어야 합니다."),
    "client_gone": ("The client went away.", "클라이언트 연결이 끊겼습니다."),
    "too_large": ("The body is larger than {kb} KB.", "본문이 {kb}KB보다 큽니다."),
    "post_only": ("Send GraphQL requests with POST.", "GraphQL 요청은 POST로 보내세요."),
    "mutation_get": ("Send mutations with POST.", "변경(mutation)은 POST로 보내세요."),
    "media_type": (
        "Send the body as application/json.",
        "본문은 application/json으로 보내세요.",
    ),
    "no_operation": ("The document has no operation.", "문서에 실행할 연산이 없습니다."),
    "name_operation": (
        "Name the operation to run (`operationName`).",
        "실행할 연산의 이름(`operationName`)을 지정하세요.",
    ),
    "unknown_operation": ("No operation named {name}.", "{name}(이)라는 연산이 없습니다."),
    "subscription_http": (
        "Subscriptions run over WebSocket (graphql-transport-ws).",
        "구독은 WebSocket(graphql-transport-ws)으로 실행됩니다.",
    ),
    "too_many_fields": (
        "The operation asks for more than {limit} fields.",
        "연산이 요청하는 필드가 {limit}개를 넘습니다.",
    ),
    "too_costly": (
        "The operation would cost {cost}, over the limit of {limit}: ask for smaller pages or fewer nested lists.",
        "연산 비용이 {cost}(으)로 한도 {limit}을(를) 넘습니다. 페이지 크기를 줄이거나 중첩 목록을 줄이세요.",
    ),
    "persisted_not_found": (
        "No registered document has this hash.",
        "이 해시로 등록된 문서가 없습니다.",
    ),
    "persisted_required": (
        "Only registered documents run here: send extensions.persistedQuery.sha256Hash.",
        "등록된 문서만 실행할 수 있습니다. extensions.persistedQuery.sha256Hash를 보내세요.",
    ),
    "persisted_mismatch": (
        "The document's SHA-256 hash is not the one sent.",
        "문서의 SHA-256 해시가 보낸 해시와 다릅니다.",
    ),
    "syntax": ("The document is not valid GraphQL: {detail}", "GraphQL 문서 구문이 올바르지 않습니다: {detail}"),
    "variable_invalid": (
        "Variable ${name} has an invalid value{at}.",
        "변수 ${name}의 값{at}이(가) 올바르지 않습니다.",
    ),
    "variable_invalid_because": (
        "Variable ${name} has an invalid value{at}: {reason}",
        "변수 ${name}의 값{at}이(가) 올바르지 않습니다: {reason}",
    ),
    "variable_missing": ("Variable ${name} is required.", "변수 ${name}은(는) 필수입니다."),
    "argument_invalid": ("`{field}`: {reason}", "`{field}`: {reason}"),
    # Reasons, shared by the scalars, the input guard and the variable messages.
    "date": (
        "a date is written YYYY-MM-DD, between 1900-01-01 and 2199-12-31",
        "날짜는 1900-01-01부터 2199-12-31 사이의 YYYY-MM-DD 형식이어야 합니다",
    ),
    "datetime": (
        "a time is ISO 8601 with an offset (e.g. 2026-12-02T09:00:00+09:00), between 1900 and 2199",
        "시각은 오프셋이 있는 ISO 8601 형식(예: 2026-12-02T09:00:00+09:00)이며 1900년부터 2199년 사이여야 합니다",
    ),
    "time": ("a time of day is written HH:MM or HH:MM:SS", "시각은 HH:MM 또는 HH:MM:SS 형식이어야 합니다"),
    "surrogate": (
        "text must be valid Unicode (it holds a lone UTF-16 surrogate)",
        "텍스트에 올바르지 않은 유니코드 문자(짝이 없는 UTF-16 서로게이트)가 있습니다",
    ),
    "number": ("a number must be finite and at most 1e9 in size", "숫자는 유한하고 크기가 1e9 이하여야 합니다"),
}

_KINDS_KO = {"a string": "문자열", "an object": "객체"}


def supported(locale: str | None) -> str:
    return locale if locale in LOCALES else DEFAULT_LOCALE


def text(key: str, locale: str, **params: object) -> str:
    """The boundary's text `key` in the caller's language (ko unless en), with its parameters."""
    en, ko = TEXTS[key]
    template = en if supported(locale) == "en" else ko
    if "kind" in params:
        params = {**params, "kind_ko": _KINDS_KO.get(str(params["kind"]), str(params["kind"]))}
    return template.format(**params)


def weighted(header: str | None) -> list[tuple[str, float]]:
    """The values of an Accept-style header in order, lower-cased, each with its quality (q, 1 unless given)."""
    found: list[tuple[str, float]] = []
    for part in (header or "").split(","):
        value, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, given = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(given)
                except ValueError:
                    q = 0.0
        found.append((value.lower(), q))
    return found


def locale_from_accept_language(header: str | None) -> str:
    """The supported language the Accept-Language header ranks highest (earliest on a tie); else ko."""
    ranked = [
        (q, -position, tag.split("-")[0])
        for position, (tag, q) in enumerate(weighted(header))
        if tag.split("-")[0] in LOCALES and q > 0
    ]
    return max(ranked)[2] if ranked else DEFAULT_LOCALE
