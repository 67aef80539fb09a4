"""An httpcore network backend on asyncio's own transports, for the httpx-family transport.

httpcore does the HTTP (h11 framing, keep-alive, pooling); on asyncio its
default backend reaches the socket through anyio, which wraps every read and
every write in a cancel scope and a deadline, and yields to the event loop
once per operation even when bytes are already there. Here a read takes
bytes the protocol has already buffered, or waits on one future with one
timer; a write hands the bytes to the transport and waits only when its
buffer is full. Under trio (or anything else) httpcore's own backend is used.
"""

# ruff: noqa: ASYNC109 - httpcore's backend interface passes timeouts per operation.
from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

import httpcore

from ._reads import read_buffer
from ._shared import readable_now

__all__ = ["AsyncioBackend"]

_SocketOption = Any  # httpcore's SOCKET_OPTION: a setsockopt argument tuple


def _expire(waiter: asyncio.Future[None], error: type[Exception]) -> None:
    if not waiter.done():
        waiter.set_exception(error("timed out"))


class _StreamProtocol(asyncio.BufferedProtocol):
    """Buffers what arrives and wakes the one reader or writer waiting.

    Reads land in the thread's shared read buffer (see ``_reads``) and are
    appended to this connection's own buffer at once.

    Reads share one timer per connection: a read moves the deadline, and the
    timer, when it fires early, re-arms itself for the deadline. Most reads
    end long before their timeout, so most create no timer at all (a timer
    per read would also sit in the loop's heap, cancelled, until purged).
    """

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.deadline = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.read_waiter: asyncio.Future[None] | None = None
        self.write_waiter: asyncio.Future[None] | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not subclass asyncio's.
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return read_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.buffer += read_buffer()[:nbytes]
        self._wake_reader()

    def eof_received(self) -> bool | None:
        self.eof = True
        self._wake_reader()
        return None  # close the transport: HTTP/1.1 has no use for a half-open socket

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.eof = True
        self.error = exc
        self._wake_reader()
        self.paused = False
        self._wake_writer()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake_writer()

    def wait_readable(self, timeout: float | None) -> asyncio.Future[None]:
        """A future set when bytes (or the end) arrive, or failed with ReadTimeout."""
        waiter = self.read_waiter = self.loop.create_future()
        if timeout is not None:
            self.deadline = deadline = self.loop.time() + timeout
            timer = self.timer
            if timer is not None and timer.when() > deadline:  # a shorter timeout than before
                timer.cancel()
                timer = None
            if timer is None:
                self.timer = self.loop.call_at(deadline, self._expire)
        return waiter

    def _expire(self) -> None:
        self.timer = None
        waiter = self.read_waiter
        if waiter is None or waiter.done():
            return  # no read waiting: the next one arms the timer again
        if self.loop.time() < self.deadline:  # bytes came meanwhile, moving the deadline
            self.timer = self.loop.call_at(self.deadline, self._expire)
        else:
            waiter.set_exception(httpcore.ReadTimeout("timed out"))

    def _wake_reader(self) -> None:
        waiter = self.read_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        waiter = self.write_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def _wait(
    loop: asyncio.AbstractEventLoop,
    waiter: asyncio.Future[None],
    timeout: float | None,
    error: type[Exception],
) -> None:
    if timeout is None:
        await waiter
        return
    timer = loop.call_later(timeout, _expire, waiter, error)
    try:
        await waiter
    finally:
        timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection: an asyncio transport and the protocol buffering its bytes."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        transport: asyncio.Transport,
        protocol: _StreamProtocol,
    ) -> None:
        self._loop = loop
        self._transport = transport
        self._protocol = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if not protocol.buffer and not protocol.eof:
            try:
                await protocol.wait_readable(timeout)
            finally:
                protocol.read_waiter = None
        buffer = protocol.buffer
        if buffer:
            if len(buffer) <= max_bytes:
                data = bytes(buffer)
                buffer.clear()
            else:
                data = bytes(buffer[:max_bytes])
                del buffer[:max_bytes]
            return data
        if protocol.error is not None:
            raise httpcore.ReadError(str(protocol.error) or type(protocol.error).__name__)
        return b""  # the server closed the connection

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        protocol = self._protocol
        transport = self._transport
        if transport.is_closing():
            raise httpcore.WriteError(
                str(protocol.error) if protocol.error else "the connection is closed"
            )
        transport.write(buffer)
        if protocol.paused:  # the transport's buffer is full: wait for it to drain
            waiter = protocol.write_waiter = self._loop.create_future()
            try:
                await _wait(self._loop, waiter, timeout, httpcore.WriteTimeout)
            finally:
                protocol.write_waiter = None
            if protocol.error is not None or transport.is_closing():
                raise httpcore.WriteError(str(protocol.error or "the connection closed"))

    async def aclose(self) -> None:
        transport = self._transport
        if transport.is_closing():
            return
        transport.close()
        # asyncio closes the socket on the loop's next turn: take that turn now, so
        # the socket is closed when this returns (as with httpcore's own backend).
        await asyncio.sleep(0)
        transport.abort()  # a no-op once closed; drops anything still unsent

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                transport = await self._loop.start_tls(
                    self._transport,
                    self._protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                )
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(str(exc) or "TLS handshake timed out") from exc
        except (OSError, ssl.SSLError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # pragma: no cover - asyncio returns None only for a closed loop
            raise httpcore.ConnectError("TLS could not be started")
        return AsyncioStream(self._loop, transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":
            # Readable while idle means the server closed it (or sent something unasked).
            protocol = self._protocol
            if protocol.buffer or protocol.eof or transport.is_closing():
                return True
            return readable_now(transport.get_extra_info("socket"))
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend interface over asyncio transports (asyncio only)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        local = None if local_address is None else (local_address, 0)
        return await _open(
            loop,
            lambda: loop.create_connection(_StreamProtocol, host, port, local_addr=local),
            timeout,
            socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        return await _open(
            loop,
            lambda: loop.create_unix_connection(_StreamProtocol, path),
            timeout,
            socket_options,
        )

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _open(
    loop: asyncio.AbstractEventLoop,
    connect: Callable[[], Awaitable[tuple[asyncio.Transport, _StreamProtocol]]],
    timeout: float | None,
    socket_options: Iterable[_SocketOption] | None,
) -> AsyncioStream:
    """Connect within ``timeout``, httpcore's errors for failures; the stream."""
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await connect()
    except TimeoutError as exc:
        raise httpcore.ConnectTimeout(str(exc) or "connecting timed out") from exc
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    _apply(transport, socket_options)
    return AsyncioStream(loop, transport, protocol)


def _apply(transport: asyncio.Transport, options: Iterable[_SocketOption] | None) -> None:
    sock: socket.socket | None = transport.get_extra_info("socket")
    if sock is None:
        return
    for option in options or ():
        sock.setsockopt(*option)
