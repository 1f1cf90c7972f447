"""A small Twilio REST-compatible server on 127.0.0.1 for the real `twilio` client (Calls and Messages).

It checks the account's Basic auth and the required form fields the way Twilio does, records what it
accepted, and can be told to fail.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "local-twilio-token"


class TwilioServer:
    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.messages: list[dict[str, str]] = []
        self.failing = False  # down: 503, with Retry-After when retry_after is set
        self.retry_after: int | None = None
        self.refusing = False  # every number refused as invalid (400, code 21211)
        self.attempts = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"

    def __enter__(self) -> TwilioServer:
        threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()

    def create(self, path: str, authorization: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if authorization != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        with self._lock:
            self.attempts += 1
        if self.failing:
            return 503, {"code": 20503, "message": "Service Unavailable", "status": 503}
        if self.refusing:
            return 400, {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
        prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/"
        kind = path.removeprefix(prefix)
        missing = [f for f in ("To", "From") if not form.get(f)]
        if kind == "Calls.json" and not (form.get("Twiml") or form.get("Url")):
            missing.append("Twiml")
        if kind == "Messages.json" and not form.get("Body"):
            missing.append("Body")
        if kind not in ("Calls.json", "Messages.json") or missing:
            return 400, {"code": 21201, "message": f"Missing {missing or kind}", "status": 400}
        with self._lock:
            sid = ("CA" if kind == "Calls.json" else "SM") + f"{next(self._ids):032x}"
            (self.calls if kind == "Calls.json" else self.messages).append({**form, "Sid": sid})
        return 201, {"sid": sid, "account_sid": ACCOUNT_SID, "to": form["To"], "from": form["From"], "status": "queued"}


def _handler(server: TwilioServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 1 << 16

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = dict(urllib.parse.parse_qsl(raw))
            status, body = server.create(self.path, self.headers.get("Authorization", ""), form)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 503 and server.retry_after is not None:
                self.send_header("Retry-After", str(server.retry_after))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
