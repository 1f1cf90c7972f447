"""Real uvicorn servers in the test's event loop, on free loopback ports: HTTP and WebSockets end to end."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serves `app` (lifespan included) on 127.0.0.1; yields its base URL, host:port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, ws="websockets-sansio", lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(200):
            if server.started or task.done():
                break
            await asyncio.sleep(0.025)
        if not server.started:
            raise RuntimeError("the test server did not start")
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
        sock.close()


class Subscription:
    """One graphql-transport-ws operation on its own connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        """The next message of the operation (`next`, `error` or `complete`)."""
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            return dict(message)


@contextlib.asynccontextmanager
async def subscribe(
    host: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
) -> AsyncIterator[Subscription]:
    async with connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        payload = {"query": query, "variables": variables or {}}
        if extensions is not None:
            payload["extensions"] = extensions
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield Subscription(ws)
