"""A test event loop whose name resolution can send a public host to a local server.

firebase-admin 7.7 posts to the fixed `https://fcm.googleapis.com`; it has no option for another
endpoint, and its httpx client mounts its own transports for `http://` and `https://`, which take
precedence over the proxies httpx would read from HTTPS_PROXY (httpx/_client.py: explicit mounts
are applied after the environment's proxy map). What every client on an asyncio loop does use is the
loop's public `getaddrinfo` and `create_connection`, so tests route at that boundary, as /etc/hosts
and a port forward would: the client still speaks TLS to "fcm.googleapis.com" and checks the
certificate against the CA that SSL_CERT_FILE names (the local server's test CA).

Every test runs on this loop (tests/conftest.py sets `RoutingPolicy` before pytest-asyncio makes its
loops); with no route registered it is a plain selector loop. Benchmarks use it through
`asyncio.Runner(loop_factory=...)`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from typing import Any

_lock = threading.Lock()
# (host, port) as a client names it -> the stand-in address it resolves to. Each route gets its own
# address in 127.77.0.0/16 that nothing listens on, so a connection can only arrive through here.
_routes: dict[tuple[str, int], str] = {}
# Stand-in address -> the local (host, port) that answers for it.
_targets: dict[str, tuple[str, int]] = {}


def route(host: str, port: int, to: tuple[str, int]) -> None:
    """From now on, connections to host:port on a RoutingLoop reach `to`."""
    with _lock:
        stand_in = f"127.77.{len(_targets) // 250}.{len(_targets) % 250 + 1}"
        _routes[(host, port)] = stand_in
        _targets[stand_in] = to


def unroute(host: str, port: int, to: tuple[str, int]) -> None:
    """Removes the route if it still leads to `to` (a later server may have taken the name over)."""
    with _lock:
        stand_in = _routes.get((host, port))
        if stand_in is not None and _targets[stand_in] == to:
            del _routes[(host, port)]


class RoutingLoop(asyncio.SelectorEventLoop):
    async def getaddrinfo(  # type: ignore[override]
        self, host: bytes | str | None, port: bytes | str | int | None, *args: Any, **kwargs: Any
    ) -> Sequence[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]]:
        name = host.decode() if isinstance(host, bytes) else host
        with _lock:
            stand_in = _routes.get((name or "", int(port or 0)))
        if stand_in is None:
            return await super().getaddrinfo(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (stand_in, int(port or 0)))]

    async def create_connection(  # type: ignore[override]
        self, protocol_factory: Any, host: str | None = None, port: int | None = None, **kwargs: Any
    ) -> tuple[asyncio.Transport, asyncio.BaseProtocol]:
        if host is None or port is None:  # a connected socket passed as sock=
            return await super().create_connection(protocol_factory, **kwargs)
        with _lock:
            host, port = _targets.get(host, (host, port))
        return await super().create_connection(protocol_factory, host, port, **kwargs)


class RoutingPolicy(asyncio.DefaultEventLoopPolicy):
    """Makes every new loop a RoutingLoop. Set as the policy rather than given to pytest-asyncio as a loop
    factory: a factory parametrizes the async tests only, so a sync test that uses an async fixture asks for
    the session's runner without it, which tears the runner and every session fixture down mid-run."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return RoutingLoop()
