"""A small FCM HTTP v1-compatible server on 127.0.0.1 that the real firebase-admin client talks to.

It also serves the OAuth token endpoint of the service account it hands out, so the client's whole
path runs: a signed JWT grant, a bearer token, `messages:send`. It checks the payload's shape the
way FCM does, records what it accepted, and can be told to fail (503 with Retry-After, UNREGISTERED).
It runs in threads of its own: google-auth refreshes tokens with blocking `requests` calls.

firebase-admin reaches it unmodified, through public mechanisms only: the OAuth grant through the
service account's `token_uri` (plain HTTP, `url`), and `https://fcm.googleapis.com` through the test
event loop's name resolution (tests/network.py) and TLS with a certificate for fcm.googleapis.com from
a test CA, which SSL_CERT_FILE makes httpx trust (httpx 0.28 `create_ssl_context` reads it while
building the transport; firebase-admin builds its messaging client on the first send).
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json
import os
import ssl
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests import network

PROJECT = "demo-carecore-push"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
FCM_HOST = "fcm.googleapis.com"  # where firebase-admin 7.7 sends, whatever the app's options say
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
        self._https = _Server(("127.0.0.1", 0), _handler(self), bind_and_activate=False)
        self._https.socket = _tls_context().wrap_socket(
            self._https.socket, server_side=True, do_handshake_on_connect=False
        )
        self._https.server_bind()
        self._https.server_activate()
        self._tls_address = ("127.0.0.1", self._https.server_address[1])

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
        # Process-wide and never undone: clients already built keep the context they made, and no
        # test talks to a real HTTPS service.
        os.environ["SSL_CERT_FILE"] = _test_ca()[0]
        for server in (self._http, self._https):
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        network.route(FCM_HOST, 443, self._tls_address)
        return self

    def __exit__(self, *exc: object) -> None:
        network.unroute(FCM_HOST, 443, self._tls_address)
        for server in (self._http, self._https):
            server.shutdown()
            server.server_close()

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


@functools.cache
def _test_ca() -> tuple[str, str, str]:
    """A CA of this process and its certificate for fcm.googleapis.com: PEM files (CA, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carecore test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, FCM_HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(FCM_HOST)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="carecore-test-ca-")
    paths = tuple(os.path.join(folder, n) for n in ("ca.pem", "cert.pem", "key.pem"))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for path, data in zip(paths, (ca.public_bytes(pem), cert.public_bytes(pem), key_pem), strict=True):
        with open(path, "wb") as f:
            f.write(data)
    return paths[0], paths[1], paths[2]


def _tls_context() -> ssl.SSLContext:
    _, cert, key = _test_ca()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])  # the handler speaks HTTP/1.1; httpx would prefer h2
    return context


def _handler(server: FcmServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as FCM clients expect
        wbufsize = 1 << 16  # headers and body in one segment: no delayed-ACK stall per response

        def setup(self) -> None:
            if isinstance(self.request, ssl.SSLSocket):
                # Here, in the connection's own thread, not in the accepting one: a hundred clients
                # connecting at once would otherwise wait for each other's handshakes.
                self.request.do_handshake()
            super().setup()

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
