"""The built-in loopback server: asyncio streams speaking HTTP/1.1 through h11.

It owns every connection, so faults act on the wire exactly: a drop closes
the socket without a byte, a truncated body stops short of its
Content-Length, a stall keeps watching the socket so that a client giving up
is seen at once (and counted as closed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from http import HTTPStatus

import h11

from ._app import SandboxApp
from ._connections import ConnectionCounter
from ._http import Delivery, Exchange, HTTPRequest, HTTPResponse

__all__ = ["H11Server"]

logger = logging.getLogger("ticketpulse.testing")

_READ_SIZE = 65536
_MAX_BODY = 16 * 1024 * 1024


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b""


class _ClientGone(Exception):
    """The client closed the connection (or it broke) while the server was busy."""


class _Connection:
    def __init__(
        self,
        app: SandboxApp,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        server_name: str,
    ) -> None:
        self._app = app
        self._reader = reader
        self._writer = writer
        self._server_name = server_name
        self._h11 = h11.Connection(h11.SERVER)

    async def run(self) -> None:
        while True:
            try:
                request = await self._read_request()
            except h11.RemoteProtocolError as exc:
                await self._refuse(exc.error_status_hint, str(exc))
                return
            if request is None:
                return
            try:
                if request.path.startswith("/files/"):
                    # Rendering a PDF takes milliseconds: keep the other connections going.
                    exchange = await asyncio.to_thread(self._app.exchange, request)
                else:
                    exchange = self._app.exchange(request)
            except Exception as exc:
                logger.exception("the sandbox failed on %s %s", request.method, request.path)
                exchange = Exchange(HTTPResponse.text(500, f"Internal sandbox error: {exc}"))
            try:
                if not await self._deliver(exchange):
                    return
            except (_ClientGone, ConnectionError, h11.LocalProtocolError):
                return
            if h11.MUST_CLOSE in (self._h11.our_state, self._h11.their_state):
                return
            try:
                self._h11.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _read_request(self) -> HTTPRequest | None:
        method = target = b""
        headers: list[tuple[str, str]] = []
        body = bytearray()
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA:
                if self._h11.they_are_waiting_for_100_continue:
                    self._write(h11.InformationalResponse(status_code=100, headers=[]))
                try:
                    data = await self._reader.read(_READ_SIZE)
                except ConnectionError:
                    return None
                self._h11.receive_data(data)
            elif isinstance(event, h11.Request):
                method, target = event.method, event.target
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > _MAX_BODY:
                    await self._refuse(413, "Request body too large")
                    return None
            elif isinstance(event, h11.EndOfMessage):
                path, _, query = target.partition(b"?")
                return HTTPRequest(
                    method=method.decode("ascii"),
                    path=path.decode("ascii", "replace"),
                    query=query.decode("ascii", "replace"),
                    headers=headers,
                    body=bytes(body),
                    scheme="http",
                    server=self._server_name,
                )
            else:  # ConnectionClosed, or PAUSED after a protocol switch we never agree to
                return None

    def _write(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        if data:
            self._writer.write(data)

    async def _flush(self) -> None:
        await self._writer.drain()

    async def _refuse(self, status: int, message: str) -> None:
        if self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = message.encode("utf-8", "replace")
        with contextlib.suppress(ConnectionError, h11.LocalProtocolError):
            self._write(
                h11.Response(
                    status_code=status,
                    headers=[
                        ("content-type", "text/plain; charset=utf-8"),
                        ("content-length", str(len(body))),
                        ("connection", "close"),
                    ],
                    reason=_reason(status),
                )
            )
            self._write(h11.Data(data=body))
            self._write(h11.EndOfMessage())
            await self._flush()

    async def _pause(self, seconds: float) -> None:
        """Wait, watching the socket: raise :class:`_ClientGone` if the client leaves."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            read = asyncio.ensure_future(self._reader.read(_READ_SIZE))
            done, _ = await asyncio.wait({read}, timeout=remaining)
            if not done:
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await read
                return
            try:
                data = read.result()
            except ConnectionError:
                raise _ClientGone from None
            if not data:
                raise _ClientGone
            self._h11.receive_data(data)  # a pipelined request: h11 keeps it for later

    async def _deliver(self, exchange: Exchange) -> bool:
        """Send the answer; False when the connection must close afterwards."""
        if exchange.delay > 0:
            await self._pause(exchange.delay)
        response = exchange.response
        if response is None:  # Delivery.DROP
            return False
        self._write(
            h11.Response(
                status_code=response.status,
                headers=list(response.headers),
                reason=_reason(response.status),
            )
        )
        body = response.body
        if exchange.delivery is Delivery.NORMAL:
            if body:
                self._write(h11.Data(data=body))
            self._write(h11.EndOfMessage())
            await self._flush()
            return True
        split = exchange.split
        if split:
            self._write(h11.Data(data=body[:split]))
        await self._flush()
        if exchange.delivery is Delivery.TRUNCATE:
            return False  # close with the declared length unmet
        await self._pause(exchange.body_stall)
        self._write(h11.Data(data=body[split:]))
        self._write(h11.EndOfMessage())
        await self._flush()
        return True


class H11Server:
    """Serves a :class:`SandboxApp` on a TCP socket from the running event loop."""

    def __init__(self, app: SandboxApp, counter: ConnectionCounter) -> None:
        self._app = app
        self._counter = counter
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server_name = "localhost"

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Listen on ``host:port`` (0: any free port); returns the bound address."""
        self._server = await asyncio.start_server(self._accept, host, port, backlog=1024)
        bound = self._server.sockets[0].getsockname()
        name = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        self._server_name = f"{name}:{bound[1]}"
        return bound[0], bound[1]

    async def close(self) -> None:
        """Stop listening and close every open connection."""
        server = self._server
        if server is not None:
            # CPython's selector loop accepts a socket in a task whose first step,
            # a loop turn later, attaches its transport to the server; after
            # ``Server.close()`` that attach fails and the socket leaks. So stop
            # accepting first, let those tasks take their step, then close.
            loop = asyncio.get_running_loop()
            for sock in server.sockets:
                with contextlib.suppress(NotImplementedError):  # proactor: no such race
                    loop.remove_reader(sock.fileno())
            await asyncio.sleep(0)
            server.close()
        # Each attached transport calls connection_made (hence _accept) one turn later.
        for _ in range(2):
            await asyncio.sleep(0)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A task cancelled before its first step never ran its ``finally``:
        # close the sockets of connections accepted but not served yet.
        unserved = list(self._writers)
        self._writers.clear()
        for writer in unserved:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in unserved), return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Registered at once, not when the task first runs: close() must see
        # every accepted connection, served yet or not.
        self._writers.add(writer)
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._counter.opened()
        try:
            await _Connection(self._app, reader, writer, self._server_name).run()
        except asyncio.CancelledError:
            pass  # the server is stopping
        except Exception:
            logger.exception("sandbox connection failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()
            self._counter.closed()
            self._writers.discard(writer)
