"""Start/stop the local MongoDB stand-in (mongo-java-server, see devdb/) for dev and tests.

python -m devtools.devdb --backend .data/dev.h2 --port 27018
"""

from __future__ import annotations

import argparse
import atexit
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from pymongo import MongoClient
from pymongo.errors import PyMongoError

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def ensure_classpath(root: Path = ROOT) -> str:
    """Return the launcher's classpath, asking Maven only if the cached one is missing or stale."""
    cache = root / "devdb" / ".classpath"
    if cache.is_file():
        cp = cache.read_text().strip()
        # A wiped ~/.m2 leaves a cache that names jars which are gone.
        if cp and all(Path(jar).is_file() for jar in cp.split(os.pathsep)):
            return cp
    # Write beside the cache and rename, so a concurrent caller never reads a half-written file.
    tmp = cache.with_name(f".classpath.{os.getpid()}")
    result = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(root / "devdb" / "pom.xml"),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={tmp.name}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not tmp.is_file():
        raise RuntimeError(f"mvn failed to resolve devdb classpath:\n{result.stdout}{result.stderr}")
    os.replace(tmp, cache)
    return cache.read_text().strip()


class DevDatabase:
    """One mongo-java-server child process; `backend` is "memory" or the path of an H2 file."""

    def __init__(self, *, backend: str = "memory", port: int | None = None, durable: bool = True) -> None:
        self.backend = backend
        self.port = port
        # An H2 file commits before each write is acknowledged; durable=False keeps H2's own
        # once-a-second commit (only the durability benchmark's baseline wants that).
        self.durable = durable
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._uri: str | None = None

    @property
    def uri(self) -> str:
        if self._uri is None:
            raise RuntimeError("DevDatabase is not started")
        return self._uri

    def start(self) -> str:
        if self._proc is not None:
            return self.uri
        # Resolved before the clock starts: a cold Maven download is not the server's start time.
        classpath = ensure_classpath(ROOT)
        deadline = time.monotonic() + START_TIMEOUT
        backend = self.backend
        if backend != "memory":
            path = Path(backend).resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            backend = str(path)
        java = shutil.which("java") or "java"
        # stderr goes to a file, not a pipe nobody drains, so a chatty JVM can never block on it.
        self._stderr = tempfile.TemporaryFile("w+")  # noqa: SIM115 - lives until stop()
        self._proc = subprocess.Popen(
            # C1 only: this is a short-lived dev server, and full JIT costs start time.
            [
                java,
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classpath,
                str(ROOT / "devdb" / "Launcher.java"),
                str(self.port or 0),
                backend,
                "--exit-on-eof",
            ],
            # The child exits on EOF of this pipe, i.e. when we die, even by SIGKILL.
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env={**os.environ, "DEVDB_COMMIT": "write" if self.durable else "auto"},
        )
        atexit.register(self.stop)
        try:
            port = self._wait_ready(deadline)
            self._uri = f"mongodb://127.0.0.1:{port}/"
            self._wait_ping(deadline)
        except BaseException:
            self.stop()
            raise
        return self._uri

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM killer would: no shutdown hook runs (for durability tests)."""
        proc, self._proc, self._uri = self._proc, None, None
        atexit.unregister(self.stop)
        if proc is not None:
            proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def freeze(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing, like a stalled VM or a GC pause (outage tests)."""
        if self._proc is None:
            raise RuntimeError("DevDatabase is not started")
        self._proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def wait(self) -> int:
        """Block until the server exits (for the CLI's foreground mode)."""
        if self._proc is None:
            raise RuntimeError("DevDatabase is not started")
        return self._proc.wait()

    def _wait_ready(self, deadline: float) -> int:
        assert self._proc is not None and self._proc.stdout is not None
        while time.monotonic() < deadline:
            self._check_alive()
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.1)
            if ready:
                line = self._proc.stdout.readline()
                if line.startswith("READY "):
                    return int(line.split()[1])
                self._check_alive()
        raise TimeoutError(f"devdb did not report READY in {START_TIMEOUT:.0f}s\n{self._read_stderr()}")

    def _wait_ping(self, deadline: float) -> None:
        while True:
            self._check_alive()
            client: MongoClient[dict[str, Any]] = MongoClient(self.uri, serverSelectionTimeoutMS=1000)
            try:
                client.admin.command("ping")
                return
            except PyMongoError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)
            finally:
                client.close()

    def _check_alive(self) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None:
            err = self._read_stderr()
            print(err, file=sys.stderr)
            raise RuntimeError(f"devdb exited with code {self._proc.returncode}:\n{err}")

    def _read_stderr(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> None:
        proc, self._proc, self._uri = self._proc, None, None
        atexit.unregister(self.stop)
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a frozen server would hold the SIGTERM until thawed
                # SIGTERM runs the JVM shutdown hook, which closes the H2 store cleanly.
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.devdb", description=__doc__)
    parser.add_argument("--backend", default="memory", help='"memory" or path of an H2 file')
    parser.add_argument("--port", type=int, default=27018, help="0 picks a free port")
    args = parser.parse_args(argv)
    db = DevDatabase(backend=args.backend, port=args.port)
    t0 = time.monotonic()
    print(
        f"{db.start()}  (up in {time.monotonic() - t0:.1f}s; Ctrl-C to stop)",
        flush=True,
    )
    try:
        db.wait()
    except KeyboardInterrupt:
        pass
    finally:
        db.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
