"""The builtin transport on asyncio: the SDK's HTTP/1.1 (``_http11``) on asyncio protocols.

No request or response objects, no per-operation cancel scopes: each answer is
parsed in the callback that receives its bytes, which makes it a few times
cheaper per request than aiohttp and an order of magnitude cheaper than httpx.
asyncio only (uvloop too); ``AsyncClient(transport="builtin")`` refuses trio.
"""

# ruff: noqa: ASYNC109 - a timeout here arms one timer per connection (moved on
# while bytes come), cheaper than a cancel scope per read on this hot path.
from __future__ import annotations

import asyncio
import select
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, cast

import httpx

from .._core import Answer, Call, Failure, new_record
from .._errors import UsageError
from .._files import FileSink
from ._http11 import END, NEED_DATA, Head, ProtocolError, ResponseParser
from ._origin import Origin, RequestHead
from ._reads import read_buffer
from ._shared import (
    BodyReader,
    ConnectError,
    ConnectTimeout,
    PoolTimeout,
    ReadError,
    ReadTimeout,
    RemoteProtocolError,
    Settings,
    TransportError,
    WriteTimeout,
    asyncio_loop,
    attempt_deadline,
    failure,
    fork_generation,
    refuse_content_coding,
)

__all__ = ["AsyncioTransport", "Step"]

Step = Callable[[Answer], "tuple[Call[Any], str] | None"]
"""Given a chained call's answer, the next call of the chain and its URL, or None."""

_Following = tuple[Step, RequestHead, "float | None"]
# A chain, as its connection sees it: the step, the request builder, and the
# seconds each attempt may take (None: no deadline).


class _Exchange:
    """One request's answer as it arrives."""

    __slots__ = (
        "body",
        "deadline",
        "error",
        "following",
        "headers",
        "last_read",
        "reader",
        "status",
        "waiter",
    )

    def __init__(
        self,
        waiter: asyncio.Future[bool],
        reader: BodyReader | None,
        now: float,
        deadline: float | None,
        following: _Following | None,
    ) -> None:
        # Resolved at the end of the answer (True: it went to ``following``), or failed.
        self.waiter = waiter
        self.following = following  # a chain's: what to send next, from this answer
        self.reader = reader  # a download's; None: the body is kept in memory (``body``)
        self.last_read = now  # for the read timeout: the time since bytes last came
        self.deadline = deadline
        self.error: BaseException | None = None
        self.status = 0
        self.headers: Mapping[str, str] = {}
        self.body = b""


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection; parses each answer as its bytes arrive.

    Reads land in the thread's shared read buffer (see ``_reads``). No answer
    may pass ``max_body`` bytes.
    """

    def __init__(
        self, pool: _Pool, origin: Origin, loop: asyncio.AbstractEventLoop, max_body: int
    ) -> None:
        self.loop = loop
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False  # lost, or cannot carry another request: never reused
        self.idle_since = 0.0
        self.parser = ResponseParser(max_body=max_body)
        self._exchange: _Exchange | None = None
        # Set while the transport's buffer is full (pause_writing): await drained().
        self.write_blocked: asyncio.Future[None] | None = None
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._poller: select.poll | None = None
        # Every read goes into the thread's shared buffer (connections are made
        # and read on their loop's thread): looked up once, not per read.
        self._view = read_buffer()
        # The loop's clock: asyncio's is time.monotonic, called directly (one
        # Python call fewer per read); another loop's (uvloop's) as it is.
        self._clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: uvloop's transports do not subclass asyncio's.
        self.transport = cast("asyncio.Transport", transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        exchange = self._exchange
        if exchange is None:
            # Bytes while idle (SPEC §9): they would be read as the next answer.
            self.closed = True
            self._abort()
            return
        exchange.last_read = self._clock()
        try:
            if exchange.reader is None:  # kept in memory: the whole answer in one step
                message = self.parser.next_message(self._view[:nbytes])
                if message is not NEED_DATA and message is not END:
                    self._finish(exchange, message)
            else:
                self.parser.feed(self._view[:nbytes])
                self._stream(exchange)
        except ProtocolError as exc:
            self._fail(RemoteProtocolError(str(exc)))
        except Exception as exc:  # noqa: BLE001 - the body reader's: raised in send()
            self._fail(exc)

    def eof_received(self) -> bool | None:
        self.closed = True
        exchange = self._exchange
        if exchange is not None:
            try:
                self.parser.feed_eof()
                if exchange.reader is None:
                    message = self.parser.next_message()
                    if message is not NEED_DATA and message is not END:
                        self._finish(exchange, message)
                else:
                    self._stream(exchange)
            except ProtocolError as exc:
                self._fail(RemoteProtocolError(str(exc)))
            except Exception as exc:  # noqa: BLE001 - the body reader's: raised in send()
                self._fail(exc)
        return None  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._exchange is not None:
            self._fail(
                ReadError(f"the connection broke: {exc}")
                if exc
                else RemoteProtocolError("the server closed the connection before answering")
            )
        writable, self.write_blocked = self.write_blocked, None
        if writable is not None and not writable.done():
            writable.set_result(None)
        self.pool.lost(self)

    def pause_writing(self) -> None:
        if self.write_blocked is None:
            self.write_blocked = self.loop.create_future()

    def resume_writing(self) -> None:
        writable, self.write_blocked = self.write_blocked, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    # -- requests

    def start(
        self,
        request: bytes,
        method: str,
        reader: BodyReader | None,
        read_timeout: float | None,
        deadline: float | None,
        now: float,
        following: _Following | None = None,
    ) -> _Exchange:
        """Send ``request`` (``now`` is the loop's time); its answer arrives in the
        returned exchange: through ``reader`` (a download), or whole in memory.
        ``following`` chains requests: see :meth:`AsyncioTransport.send_chain`.

        The exchange fails with :class:`ReadTimeout` once ``read_timeout``
        seconds pass without a byte of the answer, or at ``deadline``.
        """
        assert self.transport is not None
        loop = self.loop
        self.parser.start(method)
        self._exchange = exchange = _Exchange(
            loop.create_future(), reader, now, deadline, following
        )
        self._read_timeout = read_timeout
        if self._timer is None and (read_timeout is not None or deadline is not None):
            self._timer = loop.call_at(self._due(exchange), self._check_quiet)
        self.transport.write(request)
        return exchange

    def _due(self, exchange: _Exchange) -> float:
        timeout = self._read_timeout
        quiet = float("inf") if timeout is None else exchange.last_read + timeout
        return quiet if exchange.deadline is None else min(quiet, exchange.deadline)

    def _check_quiet(self) -> None:
        # One timer per connection, not per request: it stays armed across
        # exchanges and is moved on when bytes came meanwhile.
        self._timer = None
        exchange = self._exchange
        if exchange is None:
            return
        now = self.loop.time()
        if exchange.deadline is not None and now >= exchange.deadline:
            self._fail(ReadTimeout("the answer took longer than the attempt's deadline"))
            return
        due = self._due(exchange)
        if now >= due:
            self._fail(ReadTimeout("the server did not answer in time"))
        elif due != float("inf"):
            self._timer = self.loop.call_at(due, self._check_quiet)

    def _stream(self, exchange: _Exchange) -> None:
        """A download's answer: each event to its body reader, as it comes."""
        reader = exchange.reader
        assert reader is not None
        while (event := self.parser.next_event()) is not END:
            if event is NEED_DATA:
                return
            if isinstance(event, Head):
                exchange.status, exchange.headers = event.status, event.headers
                reader.start(event.status, event.headers)
            else:
                reader.feed(event)
        self._finish(exchange, None)

    def _finish(self, exchange: _Exchange, message: tuple[Head, bytes, bool] | None) -> None:
        """The answer is complete: ``message`` is an in-memory one's, else None."""
        if message is None:
            reusable = self.parser.reusable
        else:
            head, exchange.body, reusable = message
            headers = head.headers
            if "content-encoding" in headers:
                refuse_content_coding(headers)
            exchange.status, exchange.headers = head.status, headers
        self._exchange = None
        if not reusable:
            self.closed = True
        elif exchange.following is not None:
            self._follow(exchange, exchange.following)
            return
        if not exchange.waiter.done():
            exchange.waiter.set_result(False)

    def _follow(self, exchange: _Exchange, following: _Following) -> None:
        """A chained answer is complete: send what follows it at once, from this
        callback and on this connection, in the same exchange (no task wakes up);
        or end the chain."""
        step, requests, total = following
        answer: Answer = new_record(Answer, (exchange.status, exchange.body, exchange.headers))
        try:
            chained = step(answer)
            if chained is None:
                exchange.waiter.set_result(True)
                return
            call, url = chained
            origin, data = requests.build(call, url)
        except Exception as exc:  # noqa: BLE001 - the step's (an unreadable answer, say)
            exchange.waiter.set_exception(exc)  # raised where the chain is awaited
            return
        assert origin is self.origin, "a chain holds API calls only"
        assert self.transport is not None
        # From the read that completed the answer before: the loop's time now.
        exchange.deadline = None if total is None else exchange.last_read + total
        # The parser was just found reusable: done, keep-alive, nothing buffered.
        self.parser.start(call.method)
        # Its status, body and headers are the answer's before until this one is
        # complete (read only then, when _finish sets all three).
        self._exchange = exchange  # its last_read is this answer's: the new start
        # A full write buffer is not waited for here: the read timer and the
        # deadline bound this answer as they bound any.
        self.transport.write(data)

    async def drained(self, timeout: float | None) -> None:
        """Wait until the request has left the buffer, if the transport said to."""
        writable = self.write_blocked
        if writable is not None:
            try:
                async with asyncio.timeout(timeout):
                    await writable
            except TimeoutError:
                raise WriteTimeout("the request could not be written in time") from None

    def has_pending_input(self) -> bool:
        """Whether an idle connection's socket has bytes or an end the loop has not read."""
        poller = self._poller
        if poller is None:
            transport = self.transport
            sock = None if transport is None else transport.get_extra_info("socket")
            if sock is None or sock.fileno() < 0:
                return True
            # One poll object per connection, its socket registered once: a zero
            # timeout poll is then a single system call per request.
            poller = self._poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN)
        try:
            return bool(poller.poll(0))
        except (OSError, ValueError):
            return True

    def abort(self) -> None:
        """Drop the connection: its state is unknown (a cancelled or failed exchange)."""
        self.closed = True
        self._exchange = None
        self._abort()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: BaseException) -> None:
        exchange, self._exchange = self._exchange, None
        self.closed = True
        self._abort()
        if exchange is not None:
            exchange.error = exc
            if not exchange.waiter.done():
                exchange.waiter.set_exception(exc)


async def _wait_for_pool(future: asyncio.Future[None], timeout: float | None) -> None:
    """Await a turn at the pool; :class:`PoolTimeout` after ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await future
    except TimeoutError:
        raise PoolTimeout("no connection came free in time") from None


class _Pool:
    """Keep-alive connections by origin, at most ``limit`` open at once."""

    def __init__(
        self, limit: int, keepalive_expiry: float, ssl_context: Any, max_body: int
    ) -> None:
        self._limit = limit
        self._max_body = max_body
        self._ssl_context = ssl_context
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._connecting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._generation = fork_generation()
        self._orphans: list[object] = []
        self.loop: asyncio.AbstractEventLoop | None = None  # its connections' loop

    def _forget_parent(self) -> None:
        # A child after fork(): the parent's connections are the parent's. Kept
        # referenced, never closed (closing could end the parent's TLS sessions).
        self._orphans.append((self._open, self._idle))
        self._open, self._idle, self._connecting = set(), {}, 0
        self._waiters = deque()
        self._generation = fork_generation()
        self.loop = None

    def running_loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, which the pool's connections belong to (the client is
        bound to one): looked up only before the first, since in Python 3.11 each
        lookup costs a getpid() system call. In a child after ``fork()``, the
        parent's connections (and loop) are forgotten first."""
        if self._generation != fork_generation():
            self._forget_parent()
        return self.loop or asyncio_loop("transport='builtin'")

    def take_idle(self, origin: Origin, now: float) -> _Connection | None:
        """An idle connection to ``origin`` that may carry a request, if any (no wait).

        Its socket is checked first (a system call): the server may have closed
        it, or sent bytes nobody asked for, in the instant before. Call
        :meth:`running_loop` first.
        """
        idle = self._idle.get(origin.key)
        while idle:
            connection = idle.pop()  # the most recently used: the warmest
            if (
                not connection.closed
                and now - connection.idle_since < self._expiry
                and not connection.has_pending_input()
            ):
                return connection
            self._drop(connection)
        return None

    async def acquire(self, origin: Origin, timeout: httpx.Timeout) -> _Connection:
        """A connection to ``origin``: an idle one, a new one, or the next one freed."""
        loop = asyncio.get_running_loop()
        while True:
            connection = self.take_idle(origin, loop.time())
            if connection is not None:
                return connection
            if len(self._open) + self._connecting >= self._limit:
                self._drop_oldest_idle()
            if len(self._open) + self._connecting < self._limit:
                return await self._connect(origin, timeout)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await _wait_for_pool(waiter, timeout.pool)
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # pass on the turn this waiter was given
                raise
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def _connect(self, origin: Origin, timeout: httpx.Timeout) -> _Connection:
        loop = self.loop = asyncio.get_running_loop()
        self._connecting += 1
        try:
            async with asyncio.timeout(timeout.connect):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, origin, loop, self._max_body),
                    origin.host,
                    origin.port,
                    ssl=self._ssl_context if origin.tls else None,
                    server_hostname=origin.host if origin.tls else None,
                )
        except TimeoutError:
            raise ConnectTimeout(f"connecting to {origin.host}:{origin.port} timed out") from None
        except (OSError, ValueError) as exc:  # refused, unreachable, DNS, TLS, a bad host
            raise ConnectError(str(exc) or type(exc).__name__) from None
        finally:
            self._connecting -= 1
            self._wake()
        self._open.add(connection)
        return connection

    def release(self, connection: _Connection, now: float) -> None:
        """Back to the pool after a complete answer, or closed if it cannot be reused."""
        if connection.closed or connection not in self._open:
            self._drop(connection)
        else:
            connection.idle_since = now
            self._idle.setdefault(connection.origin.key, []).append(connection)
        if self._waiters:
            self._wake()

    def discard(self, connection: _Connection) -> None:
        """Abort a connection left in an unknown state (cancelled, failed)."""
        connection.abort()
        self._drop(connection)
        self._wake()

    def lost(self, connection: _Connection) -> None:
        """The connection ended (the server closed it, or it was dropped)."""
        if connection in self._open:
            self._open.discard(connection)
            idle = self._idle.get(connection.origin.key)
            if idle and connection in idle:
                idle.remove(connection)
            self._wake()

    def _drop(self, connection: _Connection) -> None:
        self._open.discard(connection)
        if connection.transport is not None and not connection.transport.is_closing():
            connection.transport.close()

    def _drop_oldest_idle(self) -> None:
        oldest: _Connection | None = None
        for idle in self._idle.values():
            if idle and (oldest is None or idle[0].idle_since < oldest.idle_since):
                oldest = idle[0]
        if oldest is not None:
            self._idle[oldest.origin.key].remove(oldest)
            self._drop(oldest)

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        if self._generation != fork_generation():
            self._forget_parent()
        connections = list(self._open)
        self._open.clear()
        self._idle.clear()
        for connection in connections:
            connection.abort()  # idle ones have nothing to lose; busy ones are cut off
        if connections:  # one turn: the transports close their sockets in a callback
            await asyncio.sleep(0)


class AsyncioTransport:
    """Sends calls over the SDK's own HTTP/1.1 connections on asyncio."""

    def __init__(self, settings: Settings) -> None:
        self._requests = RequestHead(settings.base_url, settings.headers)
        self._limit = settings.max_response_size
        self._pool = _Pool(
            settings.max_connections,
            settings.keepalive_expiry,
            settings.ssl_context,
            settings.max_response_size,
        )
        self.is_closed = False

    def _begin(
        self, call: Call[Any], url: str, timeout: httpx.Timeout
    ) -> tuple[asyncio.AbstractEventLoop, Origin, bytes, _Connection | None, float, float | None]:
        """What every send starts with: the loop, the origin and the request's bytes,
        an idle connection if one is ready, the time, and the attempt's deadline.
        Raises UsageError once closed, InvalidURL for a URL that cannot be sent."""
        if self.is_closed:
            raise UsageError("the client is closed: create a new one")
        loop = self._pool.running_loop()
        total = attempt_deadline(timeout)
        now = loop.time()
        origin, request = self._requests.build(call, url)
        connection = self._pool.take_idle(origin, now)
        return loop, origin, request, connection, now, None if total is None else now + total

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        try:
            loop, origin, request, connection, now, deadline = self._begin(call, url, timeout)
            if connection is None:
                connection = await self._pool.acquire(origin, timeout)
                now = loop.time()  # connecting, or waiting for a turn, took time
        except TransportError as exc:
            return failure(exc, scrub)
        # A download streams to its file; any other answer is kept whole in memory
        # (the parser holds it to max_response_size).
        reader = None if sink is None else BodyReader(sink, self._limit)
        try:
            exchange = connection.start(request, call.method, reader, timeout.read, deadline, now)
            if connection.write_blocked is not None:
                await connection.drained(timeout.write)
            await exchange.waiter
            body = exchange.body if reader is None else reader.finish()
            answer: Answer = new_record(Answer, (exchange.status, body, exchange.headers))
        except TransportError as exc:
            if reader is not None:
                reader.abort()
            self._pool.discard(connection)
            return failure(exc, scrub)
        except BaseException:  # cancelled (the answer may still be on its way), a disk error
            if reader is not None:
                reader.abort()
            self._pool.discard(connection)
            raise
        # Idle since its answer's last bytes came (read in the callback that ended it).
        self._pool.release(connection, exchange.last_read)
        return answer

    async def send_chain(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        scrub: Callable[[str], str],
        step: Step,
    ) -> Answer | Failure | None:
        """Send ``call`` and the calls ``step`` chains to it, one after another on
        one connection, each sent from the callback that completed the answer
        before it (the awaiting task wakes once per chain, not per call).

        ``step`` gets each answer the connection can carry another request
        after, in the read callback, and returns the next API call (with its
        URL) or None to end the chain; what it raises ends the chain and is
        raised here. Returns None when ``step`` ended it, else the outcome of
        the last call sent, which ``step`` did not get: a failure, or an answer
        that left the connection unusable. Answers are kept in memory.
        """
        try:
            loop, origin, request, connection, now, deadline = self._begin(call, url, timeout)
            if connection is None:
                connection = await self._pool.acquire(origin, timeout)
                now = loop.time()
        except TransportError as exc:
            return failure(exc, scrub)
        following = (step, self._requests, attempt_deadline(timeout))
        try:
            exchange = connection.start(
                request, call.method, None, timeout.read, deadline, now, following
            )
            if connection.write_blocked is not None:
                await connection.drained(timeout.write)
            if await exchange.waiter:
                self._pool.release(connection, exchange.last_read)
                return None
            answer: Answer = new_record(Answer, (exchange.status, exchange.body, exchange.headers))
        except TransportError as exc:
            self._pool.discard(connection)
            return failure(exc, scrub)
        except BaseException:
            self._pool.discard(connection)
            raise
        self._pool.release(connection, exchange.last_read)
        return answer

    async def aclose(self) -> None:
        self.is_closed = True
        await self._pool.aclose()
