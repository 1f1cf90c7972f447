"""A small FCM HTTP v1-compatible server on 127.0.0.1 that the real firebase-admin client talks to.

It also serves the OAuth token endpoint of the service account it hands out, so the client's whole
path runs: a signed JWT grant, a bearer token, `messages:send`. It checks the payload's shape the
way FCM does, records what it accepted, and can be told to fail (503 with Retry-After, UNREGISTERED).
It runs in threads of its own: google-auth refreshes tokens with blocking `requests` calls.
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "demo-carecore-push"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # firebase-admin opens up to 100 connections at once; the default is 5


@dataclass(frozen=True)
class Failure:
    http_status: int
    fcm_code: str
    retry_after: int | None = None


UNAVAILABLE = Failure(503, "UNAVAILABLE", retry_after=30)
UNREGISTERED = Failure(404, "UNREGISTERED")


class FcmServer:
    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public_key = key.public_key()
        self._pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        self._lock = threading.Lock()
        self._tokens: set[str] = set()
        self._ids = itertools.count(1)
        self.accepted: list[dict[str, Any]] = []  # the `message` objects FCM would deliver
        self.requests = 0
        self.token_grants = 0
        self.gone: set[str] = set()  # addresses answered with UNREGISTERED
        self._failures: list[Failure] = []
        self.outage: Failure | None = None  # while set, every send fails with it (an FCM outage)
        self.attempts: list[tuple[str, str]] = []  # (collapse key, address) of every well-formed send
        self._http = _Server(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def service_account(self) -> dict[str, str]:
        return {
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "local-test-key",
            "private_key": self._pem,
            "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
            "client_id": "1",
            "token_uri": f"{self.url}/token",
        }

    def fail_next(self, count: int, failure: Failure = UNAVAILABLE) -> None:
        with self._lock:
            self._failures += [failure] * count

    def issue_token(self) -> str:
        """A bearer token, as the OAuth endpoint grants one (for clients that are not google-auth)."""
        token = f"ya29.local-{next(self._ids)}"
        with self._lock:
            self._tokens.add(token)
        return token

    def delivered_to(self, address: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.accepted if m.get("fid", m.get("token")) == address]

    def __enter__(self) -> FcmServer:
        threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    # Called from handler threads.
    def grant(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return 400, {"error": "unsupported_grant_type"}
        try:
            # google-auth names Google's token endpoint as the audience, wherever token_uri points.
            claims = jwt.decode(
                form.get("assertion", ""), self._public_key, algorithms=["RS256"], audience=GOOGLE_TOKEN_URI
            )
        except jwt.PyJWTError as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if not any(s in claims.get("scope", "") for s in ("auth/cloud-platform", "auth/firebase.messaging")):
            return 400, {"error": "invalid_scope"}
        with self._lock:
            self.token_grants += 1
        return 200, {"access_token": self.issue_token(), "expires_in": 3600, "token_type": "Bearer"}

    def send(self, project: str, authorization: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], int | None]:
        with self._lock:
            self.requests += 1
            authorized = authorization.removeprefix("Bearer ") in self._tokens
            failure = self._failures.pop(0) if self._failures else None
        if not authorized:
            return _error(Failure(401, "THIRD_PARTY_AUTH_ERROR"), "Request had invalid authentication credentials.")
        problem = shape_problem(project, body)
        if problem:
            return _error(Failure(400, "INVALID_ARGUMENT"), problem)
        message = body["message"]
        address = message.get("fid", message.get("token"))
        with self._lock:
            self.attempts.append((message.get("android", {}).get("collapse_key", ""), address))
            failure = failure or self.outage
        if failure is None and address in self.gone:
            failure = UNREGISTERED
        if failure is not None:
            return _error(failure, "The service is currently unavailable." if failure.http_status == 503 else "Failed")
        with self._lock:
            self.accepted.append(message)
            return 200, {"name": f"projects/{project}/messages/{next(self._ids)}"}, None


def shape_problem(project: str, body: dict[str, Any]) -> str | None:
    """What FCM would refuse as INVALID_ARGUMENT; None when the message is well formed."""
    message = body.get("message")
    if project != PROJECT or not isinstance(message, dict):
        return "bad project or no message"
    if sum(k in message for k in ("fid", "token", "topic", "condition")) != 1:
        return "exactly one target"
    data = message.get("data", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return "data values must be strings"
    note = message.get("notification", {})
    if not isinstance(note.get("title"), str) or not isinstance(note.get("body"), str):
        return "notification needs title and body"
    android, apns = message.get("android", {}), message.get("apns", {})
    if android.get("priority") not in ("high", "normal") or not str(android.get("ttl", "")).endswith("s"):
        return "android priority and ttl"
    headers = apns.get("headers", {})
    if len(headers.get("apns-collapse-id", "")) > 64 or headers.get("apns-priority") not in ("5", "10"):
        return "apns headers"
    return None


def _error(failure: Failure, message: str) -> tuple[int, dict[str, Any], int | None]:
    status = _STATUS.get(failure.http_status, "UNKNOWN")
    details = [{"@type": _FCM_ERROR, "errorCode": failure.fcm_code}]
    body = {"error": {"code": failure.http_status, "message": message, "status": status, "details": details}}
    return failure.http_status, body, failure.retry_after


def _handler(server: FcmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as FCM clients expect
        wbufsize = 1 << 16  # headers and body in one segment: no delayed-ACK stall per response

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/token":
                form = dict(urllib.parse.parse_qsl(raw.decode()))
                status, body = server.grant(form)
                self._reply(status, body, None)
                return
            parts = self.path.strip("/").split("/")  # v1/projects/<p>/messages:send
            if len(parts) != 4 or parts[3] != "messages:send":
                self._reply(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": self.path}}, None)
                return
            self._reply(*server.send(parts[2], self.headers.get("Authorization", ""), json.loads(raw)))

        def _reply(self, status: int, body: dict[str, Any], retry_after: int | None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests assert on what the server recorded

    return Handler


def addresses(messages: list[dict[str, Any]]) -> Iterator[str]:
    for m in messages:
        yield m.get("fid") or m["token"]
