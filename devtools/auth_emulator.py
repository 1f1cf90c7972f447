"""Local Firebase Auth emulator for development and tests.

The emulator comes from the ``firebase-tools`` npm package pinned in
``tools/firebase`` and runs with a ``demo-`` project id, so it needs no Google
login, no real project and no network. Only the Auth emulator is started: it is
pure Node, unlike the Firestore/Database emulators, which download a JAR.

Usage from Python::

    with AuthEmulator() as emu:
        os.environ["FIREBASE_AUTH_EMULATOR_HOST"] = emu.host
        create_user(emu.host, emu.project_id, uid="u1", email="a@example.com",
                    password="secret123", display_name="A",
                    custom_claims={"role": "coordinator"})
        token = sign_in(emu.host, email="a@example.com", password="secret123")

From a shell::

    python -m devtools.auth_emulator run --port 9099
    python -m devtools.auth_emulator token --email a@example.com --password secret123
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_SUBDIR = Path("tools") / "firebase"
DEFAULT_PROJECT_ID = "demo-carecore"
DEFAULT_API_KEY = "fake-api-key"
# The emulator accepts this literal bearer token as a project owner, which is
# what admin-only fields (localId on sign-up, customAttributes) require.
OWNER_HEADERS = {"Authorization": "Bearer owner"}
# The emulator starts in ~15 s on a quiet machine; measured 105-128 s at load average 14 on two cores.
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 10.0
NPM_CI_TIMEOUT_S = 600.0

# Values for the emulator's environment. The machine may have no route to
# Google, so every start-up network call is switched off rather than left to
# fail: CI=true skips the MOTD fetch and the update check, NO_UPDATE_NOTIFIER
# stops update-notifier from spawning a detached child (which would escape our
# process group).
_QUIET_ENV = {
    "CI": "true",
    "NO_UPDATE_NOTIFIER": "1",
    "FORCE_COLOR": "0",
    "NO_COLOR": "1",
}


class AuthEmulatorError(RuntimeError):
    """The emulator could not be installed, started, or it rejected a request."""


# --------------------------------------------------------------------------
# Installation


def _tools_dir(root: Path) -> Path:
    return root / TOOLS_SUBDIR


def _pinned_versions(tools_dir: Path) -> dict[str, str]:
    manifest = json.loads((tools_dir / "package.json").read_text(encoding="utf-8"))
    return {str(name): str(version) for name, version in manifest["dependencies"].items()}


def _installed_version(tools_dir: Path, package: str) -> str | None:
    manifest = tools_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def _is_installed(tools_dir: Path) -> bool:
    # The version check makes a bump in package.json reinstall instead of
    # silently running the old packages out of a stale node_modules.
    pinned = _pinned_versions(tools_dir)
    return all(_installed_version(tools_dir, name) == version for name, version in pinned.items())


@contextlib.contextmanager
def _install_lock(tools_dir: Path) -> Iterator[None]:
    # Parallel test workers may all find node_modules missing; npm ci deletes
    # node_modules first, so two concurrent runs would break each other. The
    # lock lives in the temp dir so the work tree gets no stray file.
    digest = hashlib.sha256(str(tools_dir.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"carecore-npm-{digest}.lock"
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_npm_packages(tools_dir: Path) -> None:
    """Install the packages pinned in ``tools_dir``'s lockfile with ``npm ci`` unless already there.

    Used for firebase-tools (tools/firebase) and the browser assets the app serves (tools/web).
    """
    if _is_installed(tools_dir):
        return
    with _install_lock(tools_dir):
        if _is_installed(tools_dir):
            return
        npm = shutil.which("npm")
        if npm is None:
            raise AuthEmulatorError("npm is not on PATH; Node.js 20+ and npm are required")
        # --ignore-scripts: the Auth emulator needs no install script, and the
        # one optional native module (re2, used only by Hosting) would
        # otherwise try to download a prebuilt binary or compile with node-gyp.
        # The browser assets are plain files and need none either.
        command = [
            npm,
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--prefer-offline",
        ]
        env = {**os.environ, **_QUIET_ENV, "npm_config_update_notifier": "false"}
        try:
            result = subprocess.run(
                command,
                cwd=tools_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AuthEmulatorError(f"npm ci in {tools_dir} timed out") from exc
        if result.returncode != 0 or not _is_installed(tools_dir):
            raise AuthEmulatorError(
                f"npm ci in {tools_dir} failed (exit {result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )


def ensure_installed(root: Path) -> Path:
    """Install the pinned firebase-tools with ``npm ci`` unless already there.

    Returns the path of the ``firebase`` executable.
    """
    tools_dir = _tools_dir(root)
    binary = tools_dir / "node_modules" / ".bin" / "firebase"
    ensure_npm_packages(tools_dir)
    if not binary.exists():
        raise AuthEmulatorError(f"npm ci in {tools_dir} installed no firebase binary")
    return binary


# --------------------------------------------------------------------------
# Process management


def _free_ports(count: int) -> list[int]:
    # All sockets stay open until every port is picked, so the ports differ.
    # The emulator binds them a moment later; a clash in that window shows up
    # as a start failure with the port named in the output.
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Node listens with SO_REUSEADDR, so a port held only by TIME_WAIT
        # connections (an emulator stopped a moment ago) is free for it too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _parent_death_prefix() -> list[str]:
    """Command prefix that makes the kernel SIGTERM the emulator if we die.

    If the Python process is killed outright (SIGKILL, OOM, CI time-out),
    atexit never runs and the emulator would linger holding its port.
    ``setpriv`` (util-linux) sets the signal and then execs the CLI in the
    same pid, which avoids ``preexec_fn`` (unsafe once threads exist). Where
    it is missing (macOS) this protection is simply absent. Caveat: the
    signal fires when the *thread* that started the emulator exits, so start
    it from a long-lived thread (in pytest, the main thread).
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return []
    return [setpriv, "--pdeathsig", "TERM", "--"]


def _log_tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output captured)"
    return text[-limit:]


class AuthEmulator:
    """Runs ``firebase emulators:start --only auth`` as a child process group."""

    def __init__(
        self,
        *,
        project_id: str = DEFAULT_PROJECT_ID,
        port: int | None = None,
        root: Path | None = None,
    ) -> None:
        if not project_id.startswith("demo-"):
            # A non-demo id makes the CLI look for credentials and real project
            # config, which fails without login and network.
            raise ValueError(f"project_id must start with 'demo-', got {project_id!r}")
        self.project_id = project_id
        self.port = port
        self.root = root if root is not None else REPO_ROOT
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._log_path: Path | None = None

    @property
    def host(self) -> str:
        """``host:port`` for ``FIREBASE_AUTH_EMULATOR_HOST``."""
        if self.port is None or self._proc is None:
            raise AuthEmulatorError("the emulator is not running; call start() first")
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output(self) -> str:
        """What the emulator printed so far (for diagnosing failures)."""
        return _log_tail(self._log_path) if self._log_path else ""

    def start(self) -> str:
        """Start the emulator and return ``host:port`` once it answers HTTP."""
        if self._proc is not None:
            return self.host
        binary = ensure_installed(self.root)
        auth_port, hub_port, logging_port = _free_ports(3)
        picked_port = self.port is None
        if self.port is None:
            self.port = auth_port
        elif not _port_is_free(self.port):
            # Checked up front because an emulator left over from an earlier
            # run would answer the readiness poll in place of ours.
            raise AuthEmulatorError(f"port {self.port} is already in use")
        workdir = Path(tempfile.mkdtemp(prefix="carecore-auth-emulator-"))
        self._workdir = workdir
        # Hub and logging ports are pinned too: left alone, every instance
        # tries 4400/4500 first, and two emulators starting together race.
        config = {
            "emulators": {
                "auth": {"host": "127.0.0.1", "port": self.port},
                "hub": {"host": "127.0.0.1", "port": hub_port},
                "logging": {"host": "127.0.0.1", "port": logging_port},
                "ui": {"enabled": False},
                "singleProjectMode": True,
            }
        }
        (workdir / "firebase.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        env = {
            **os.environ,
            **_QUIET_ENV,
            # The CLI writes its hub locator file to os.tmpdir() and its
            # settings to the configstore; both go to the throwaway workdir so
            # parallel runs do not share them and a developer's own firebase
            # login or analytics opt-in is never used.
            "TMPDIR": str(workdir),
            "XDG_CONFIG_HOME": str(workdir / "config"),
        }
        # An inherited value would point a nested tool at some other emulator.
        env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
        self._log_path = workdir / "emulator.log"
        command = [
            *_parent_death_prefix(),
            str(binary),
            "emulators:start",
            "--only",
            "auth",
            "--project",
            self.project_id,
            "--non-interactive",
        ]
        with self._log_path.open("wb") as log:
            # Output goes to a file, not a pipe: nobody reads a pipe while the
            # tests run, and a full pipe buffer would block the emulator.
            self._proc = subprocess.Popen(
                command,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own process group, so stop() can signal everything the CLI
                # spawned, and Ctrl-C in a terminal reaches only Python, which
                # then shuts the emulator down in order.
                start_new_session=True,
            )
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except AuthEmulatorError as exc:
            message = f"Auth emulator on port {self.port} did not become ready: {exc}. Output:\n{self.output()}"
            self._abort_start(picked_port)
            raise AuthEmulatorError(message) from None
        except BaseException:
            self._abort_start(picked_port)
            raise
        return self.host

    def _abort_start(self, picked_port: bool) -> None:
        port = self.port
        self.stop()
        # A retry should pick a fresh port rather than reuse one that failed.
        self.port = None if picked_port else port

    def _wait_ready(self) -> None:
        assert self._proc is not None
        url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self._proc.poll() is not None:
                    raise AuthEmulatorError(f"emulator exited with code {self._proc.returncode}")
                try:
                    response = client.get(url)
                    if response.status_code == 200 and response.json().get("authEmulator", {}).get("ready"):
                        return
                except (httpx.HTTPError, ValueError):
                    pass
                if time.monotonic() > deadline:
                    raise AuthEmulatorError(f"no answer within {START_TIMEOUT_S:.0f} s")
                time.sleep(0.2)

    def stop(self) -> None:
        """Stop the emulator and every process it spawned; safe to call twice."""
        proc = self._proc
        if proc is not None:
            atexit.unregister(self.stop)
            pgid = proc.pid  # start_new_session makes the child its group leader
            _signal_group(pgid, signal.SIGTERM)
            # The leader is not reaped until the group is killed: while it is a
            # zombie its pid (= the group id) cannot be reused by an unrelated
            # process, so the SIGKILL below cannot hit a stranger.
            _wait_exited_unreaped(proc, STOP_TIMEOUT_S)
            _signal_group(pgid, signal.SIGKILL)
            proc.wait()
            self._proc = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._log_path = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_exited_unreaped(proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            return
        try:
            # WNOWAIT reports the exit but leaves the zombie in place.
            status = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if status is not None:
            return
        time.sleep(0.05)


# --------------------------------------------------------------------------
# REST helpers (Identity Toolkit API as served by the emulator)


def _toolkit_url(host: str, path: str) -> str:
    return f"http://{host}/identitytoolkit.googleapis.com/v1/{path}"


def _client() -> httpx.Client:
    # trust_env=False: an HTTP(S)_PROXY in the environment must not capture
    # calls to a local emulator.
    return httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False)


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text


def _post(
    client: httpx.Client,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    response = client.post(url, json=body, headers=headers, params=params)
    if response.status_code != 200:
        raise AuthEmulatorError(f"POST {url} -> {response.status_code}: {_error_message(response)}")
    result: dict[str, Any] = response.json()
    return result


def create_user(
    host: str,
    project_id: str,
    *,
    uid: str,
    email: str,
    password: str,
    display_name: str,
    custom_claims: Mapping[str, Any],
    email_verified: bool = True,
) -> None:
    """Create the user, or bring an existing one with this uid up to date.

    Passwords must be at least 6 characters (the emulator enforces Firebase's
    rule). Raises AuthEmulatorError if another uid already holds the email.
    """
    admin_base = f"projects/{project_id}"
    profile = {
        "localId": uid,
        "email": email,
        "password": password,
        "displayName": display_name,
        "emailVerified": email_verified,
    }
    with _client() as client:
        response = client.post(
            _toolkit_url(host, f"{admin_base}/accounts"),
            json=profile,
            headers=OWNER_HEADERS,
        )
        if response.status_code != 200 and _error_message(response) != "DUPLICATE_LOCAL_ID":
            reason = _error_message(response)
            raise AuthEmulatorError(f"creating {uid} failed: {reason}")
        # Sign-up does not take custom claims, and for an existing user this
        # call also resets email/password/name, which makes the whole
        # function idempotent.
        _post(
            client,
            _toolkit_url(host, f"{admin_base}/accounts:update"),
            {**profile, "customAttributes": json.dumps(dict(custom_claims))},
            headers=OWNER_HEADERS,
        )


def sign_in(host: str, *, email: str, password: str, api_key: str = DEFAULT_API_KEY) -> str:
    """Sign in with email and password; returns the Firebase ID token.

    The emulator accepts any API key. Tokens it issues are unsigned
    (``alg: none``); firebase-admin accepts them only while
    FIREBASE_AUTH_EMULATOR_HOST is set.
    """
    with _client() as client:
        data = _post(
            client,
            _toolkit_url(host, "accounts:signInWithPassword"),
            {"email": email, "password": password, "returnSecureToken": True},
            params={"key": api_key},
        )
    return str(data["idToken"])


def clear_users(host: str, project_id: str) -> None:
    """Delete every account in the project (emulator-only endpoint)."""
    url = f"http://{host}/emulator/v1/projects/{project_id}/accounts"
    with _client() as client:
        response = client.delete(url)
    if response.status_code != 200:
        raise AuthEmulatorError(f"DELETE {url} -> {response.status_code}: {_error_message(response)}")


# --------------------------------------------------------------------------
# Command line


def _default_host() -> str | None:
    return os.environ.get("FIREBASE_AUTH_EMULATOR_HOST") or None


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.auth_emulator",
        description="Firebase Auth emulator helpers for local development.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the emulator in the foreground until Ctrl-C")
    run.add_argument("--port", type=int, default=9099)
    run.add_argument("--project-id", default=DEFAULT_PROJECT_ID)

    host_help = "emulator host:port (default: $FIREBASE_AUTH_EMULATOR_HOST)"
    token = commands.add_parser("token", help="sign in and print an ID token")
    token.add_argument("--email", required=True)
    token.add_argument("--password", required=True)
    token.add_argument("--host", default=_default_host(), help=host_help)
    token.add_argument("--api-key", default=DEFAULT_API_KEY)

    user = commands.add_parser("create-user", help="create or update a user")
    user.add_argument("--uid", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--display-name", default="")
    user.add_argument("--claims", default="{}", help='custom claims as JSON, e.g. {"role":"x"}')
    user.add_argument("--project-id", default=DEFAULT_PROJECT_ID)
    user.add_argument("--host", default=_default_host(), help=host_help)
    return parser


def _require_host(parser: argparse.ArgumentParser, host: str | None) -> str:
    if not host:
        parser.error("no emulator host: pass --host or set FIREBASE_AUTH_EMULATOR_HOST")
    return host


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            # SIGTERM (e.g. from a process manager) should shut down as
            # cleanly as Ctrl-C instead of leaving the emulator to the kernel.
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
            with (
                contextlib.suppress(KeyboardInterrupt),
                AuthEmulator(project_id=args.project_id, port=args.port) as emulator,
            ):
                print(f"export FIREBASE_AUTH_EMULATOR_HOST={emulator.host}", flush=True)
                print(f"project id: {emulator.project_id}; Ctrl-C to stop", flush=True)
                signal.pause()
        elif args.command == "token":
            host = _require_host(parser, args.host)
            print(sign_in(host, email=args.email, password=args.password, api_key=args.api_key))
        elif args.command == "create-user":
            host = _require_host(parser, args.host)
            claims = json.loads(args.claims)
            if not isinstance(claims, dict):
                parser.error("--claims must be a JSON object")
            create_user(
                host,
                args.project_id,
                uid=args.uid,
                email=args.email,
                password=args.password,
                display_name=args.display_name,
                custom_claims=claims,
            )
    except AuthEmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
