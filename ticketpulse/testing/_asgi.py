"""The sandbox as a plain ASGI application (no framework), and serving it with uvicorn.

Faults that need the connection itself (:class:`Drop`, :class:`Truncate`)
cannot be expressed in ASGI, which has no "close the socket" message. Under
the uvicorn backend the sandbox keeps a handle on each connection's
transport (through a subclass of uvicorn's own protocol class), so both work
as on the built-in server. Under any other ASGI server a drop becomes a
response cut short after its headers, and a truncation ends when the app
returns (the server closes the connection, and may log an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, TypeAlias, cast

import anyio
import anyio.to_thread

from ._app import SandboxApp
from ._connections import ConnectionCounter
from ._http import Delivery, HTTPRequest

__all__ = ["ASGIApp", "make_asgi_app", "run_uvicorn"]

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]
_Closer: TypeAlias = Callable[[Any], bool]


def _pair(value: Any) -> tuple[str, int] | None:
    """An ASGI (host, port) pair, or None."""
    if isinstance(value, list | tuple):
        items = cast("tuple[Any, ...]", value)
        if len(items) >= 2 and isinstance(items[1], int):
            return str(items[0]), items[1]
    return None


def _address(value: Any) -> str:
    pair = _pair(value)
    if pair is None:
        return "localhost"
    host, port = pair
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def _read_body(receive: Receive) -> bytes | None:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _pause(seconds: float, receive: Receive) -> bool:
    """Wait ``seconds``; False, at once, if the client disconnects meanwhile."""
    gone = False
    async with anyio.create_task_group() as group:

        async def watch() -> None:
            nonlocal gone
            await _wait_disconnect(receive)
            gone = True
            group.cancel_scope.cancel()

        group.start_soon(watch)
        await anyio.sleep(seconds)
        group.cancel_scope.cancel()
    return not gone


def make_asgi_app(app: SandboxApp, close_connection: _Closer | None = None) -> ASGIApp:
    """An ASGI 3 application serving ``app``.

    ``close_connection(scope["client"])`` closes the client's connection if it
    can (True) -- the uvicorn backend supplies one; without it drops and
    truncations are approximated as described in the module docstring.
    """

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = await _read_body(receive)
        if body is None:
            return
        raw_path = scope.get("raw_path")
        path = raw_path.decode("ascii", "replace") if isinstance(raw_path, bytes) else scope["path"]
        request = HTTPRequest(
            method=scope["method"],
            path=path,
            query=scope.get("query_string", b"").decode("ascii", "replace"),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body=body,
            scheme=scope.get("scheme", "http"),
            server=_address(scope.get("server")),
        )
        if request.path.startswith("/files/"):
            # Rendering a PDF takes milliseconds: keep the other requests going.
            exchange = await anyio.to_thread.run_sync(app.exchange, request)
        else:
            exchange = app.exchange(request)
        if exchange.delay > 0 and not await _pause(exchange.delay, receive):
            return
        response = exchange.response
        closer = close_connection
        if response is None:  # a drop
            if closer is not None and closer(scope.get("client")):
                await _wait_disconnect(receive)
                return
            # Plain ASGI cannot close without answering: cut the answer short instead
            # (a status line, then the connection closes before the promised byte).
            await send(
                {
                    "type": "http.response.start",
                    "status": 502,
                    "headers": [(b"content-length", b"1")],
                }
            )
            return
        start = {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers],
        }
        await send(start)
        if exchange.delivery is Delivery.NORMAL:
            await send({"type": "http.response.body", "body": response.body})
            return
        split = exchange.split
        await send({"type": "http.response.body", "body": response.body[:split], "more_body": True})
        if exchange.delivery is Delivery.TRUNCATE:
            if closer is not None and closer(scope.get("client")):
                await _wait_disconnect(receive)
            return  # returning mid-body makes the server close the connection
        if await _pause(exchange.body_stall, receive):
            await send({"type": "http.response.body", "body": response.body[split:]})

    return asgi


async def run_uvicorn(
    app: SandboxApp,
    counter: ConnectionCounter,
    host: str,
    port: int,
    ready: Callable[[str, int], None],
    stop: asyncio.Event,
) -> None:
    """Serve ``app`` with uvicorn until ``stop`` is set; ``ready`` gets the bound address."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "serving the Ticket Pulse sandbox with uvicorn needs 'uvicorn': "
            "pip install 'ticketpulse[serve]' (or use server='builtin')"
        ) from exc

    transports: dict[tuple[str, int], asyncio.Transport] = {}

    def close_connection(client: Any) -> bool:
        key = _pair(client)
        transport = None if key is None else transports.get(key)
        if transport is None:
            return False
        transport.close()
        return True

    # An explicitly IPPROTO_TCP socket: asyncio sets TCP_NODELAY only on those, and
    # without it every answer waits out the client's delayed ACK (~40 ms).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    config = uvicorn.Config(
        make_asgi_app(app, close_connection),
        lifespan="off",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    config.load()
    base: Any = config.http_protocol_class

    # Subclassing uvicorn's protocol is the one place a connection is visible:
    # it lets the sandbox count connections and close one on a Drop fault.
    class CountingProtocol(base):  # type: ignore[misc]
        def connection_made(self, transport: Any) -> None:
            counter.opened()
            peer = _pair(transport.get_extra_info("peername"))
            self._tp_peer = peer
            if peer is not None:
                transports[peer] = transport
            super().connection_made(transport)  # pyright: ignore[reportUnknownMemberType]

        def connection_lost(self, exc: Exception | None) -> None:
            counter.closed()
            if self._tp_peer is not None:
                transports.pop(self._tp_peer, None)
            super().connection_lost(exc)  # pyright: ignore[reportUnknownMemberType]

    config.http_protocol_class = CountingProtocol
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        bound = sock.getsockname()
        ready(bound[0], bound[1])
        await stop.wait()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        sock.close()
