"""The SDK's own connection pools: httpx's transport layer, httpcore, driven directly.

Both skip building an ``httpx.Request`` and ``URL`` per call (most of httpx's
per-request cost). One large httpcore pool does work per waiting request and
per connection and slows down as concurrency grows, so the blocking client
spreads requests over many one-connection pools, and the async client keeps
one httpcore connection per slot and does the pooling itself (on asyncio over
the SDK's own network backend, ``_netbackend``). Imported when a client
creates its pool, so ``import ticketpulse`` does not pay for httpcore.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx
from httpcore._synchronization import AsyncLock

from ._core import Answer, Call, Failure, describe_failure
from ._executors import INVALID, NOT_SENT, TIMEOUTS
from ._files import FileSink

__all__ = ["AsyncPoolExecutor", "PoolExecutor"]

_NOT_SENT = (
    *NOT_SENT,
    httpcore.ConnectError,
    httpcore.ConnectTimeout,
    httpcore.PoolTimeout,
    httpcore.ConnectionNotAvailable,
)
_INVALID = (
    *INVALID,
    httpcore.UnsupportedProtocol,
    httpcore.LocalProtocolError,
    httpcore.ProxyError,
)
_TIMEOUTS = (*TIMEOUTS, httpcore.TimeoutException)
# httpcore's own, and httpx's (which a mocked pool, e.g. respx's, may raise).
_TRANSPORT_ERRORS = (
    httpx.TransportError,
    httpcore.ConnectionNotAvailable,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


def _classify(exc: Exception, scrub: Callable[[str], str]) -> Failure:
    return describe_failure(exc, scrub, not_sent=_NOT_SENT, invalid=_INVALID, timeouts=_TIMEOUTS)


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}


def _timeouts(timeout: httpx.Timeout) -> dict[str, float | None]:
    return {
        "connect": timeout.connect,
        "read": timeout.read,
        "write": timeout.write,
        "pool": timeout.pool,
    }


class _Origin:
    """The parts of an absolute URL that an httpcore request needs, parsed once."""

    __slots__ = ("host_header", "port", "raw_host", "scheme")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme.encode("ascii")
        host = parts.hostname or ""
        self.raw_host = host.encode("idna")
        default = 443 if parts.scheme == "https" else 80
        self.port = parts.port or default
        shown = f"[{host}]" if ":" in host else host
        self.host_header = (shown if self.port == default else f"{shown}:{self.port}").encode(
            "idna"
        )


class _Requests:
    """Builds httpcore requests for one base URL; the cheap part of each call."""

    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        self._origin = _Origin(base_url)
        parts = urlsplit(base_url)
        self._origin_length = len(f"{parts.scheme}://{parts.netloc}")
        self._headers = [(k.encode("ascii"), v.encode("ascii")) for k, v in headers.items()]

    def build(self, call: Call[Any], url: str, timeout: httpx.Timeout) -> httpcore.Request:
        if call.url is not None:  # a signed file URL on its own host
            origin = _Origin(url)
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            target_bytes = target.encode("ascii")
        else:
            origin = self._origin
            # The client built ``url`` from the base URL: what follows its origin.
            target_bytes = url[self._origin_length :].encode("ascii")
        headers = [(b"Host", origin.host_header), *self._headers]
        if call.body is not None:
            headers.append((b"Content-Type", b"application/json"))
            headers.append((b"Content-Length", str(len(call.body)).encode("ascii")))
        return httpcore.Request(
            call.method.encode("ascii"),
            httpcore.URL(
                scheme=origin.scheme, host=origin.raw_host, port=origin.port, target=target_bytes
            ),
            headers=headers,
            content=call.body,
            extensions={"timeout": _timeouts(timeout)},
        )


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio
        return False
    return True


def _network_backend() -> httpcore.AsyncNetworkBackend | None:
    """The SDK's asyncio backend on asyncio; None (httpcore's own: trio's) otherwise."""
    if not _on_asyncio():
        return None
    from ._netbackend import AsyncioBackend

    return AsyncioBackend()


PoolT = TypeVar("PoolT", httpcore.ConnectionPool, httpcore.AsyncConnectionPool)


class _Shards(Generic[PoolT]):
    """Many one-connection pools, handed out idle-first.

    An idle shard is reused most-recently-released first, so a lightly loaded
    client keeps reusing the same warm keep-alive connections. When every
    shard is busy, requests queue on the shards in turn.
    """

    def __init__(self, make: Callable[[], PoolT], count: int) -> None:
        self._make: Callable[[], PoolT] = make
        self.pools: list[PoolT | None] = [None] * count
        self._busy = [0] * count
        self._idle = list(range(count - 1, -1, -1))
        self._next = 0
        self._lock = threading.Lock()  # the blocking client's threads share it

    def take(self) -> tuple[int, PoolT]:
        with self._lock:
            if self._idle:
                index = self._idle.pop()
            else:
                index = self._next
                self._next = (index + 1) % len(self.pools)
            self._busy[index] += 1
            pool = self.pools[index]
            if pool is None:
                pool = self.pools[index] = self._make()
            return index, pool

    def give(self, index: int) -> None:
        with self._lock:
            self._busy[index] -= 1
            if self._busy[index] == 0:
                self._idle.append(index)

    def created(self) -> list[PoolT]:
        return [pool for pool in self.pools if pool is not None]


class _Connection(httpcore.AsyncHTTPConnection):
    """httpcore's connection, its locks made cheap on asyncio.

    httpcore guards each connection with anyio locks that yield to the event
    loop on every acquire, three times a request, though the SDK's slots
    already give a connection one request at a time. On asyncio they become
    anyio's fast-acquire locks (the same lock, without the yield when free).
    respx and other mocks that patch ``AsyncHTTPConnection`` still apply.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tp_quick = False
        _quicken(self, "_request_lock")

    def quicken(self) -> None:
        """Make the HTTP/1.1 layer's lock cheap too, once it exists."""
        if not self._tp_quick and self._connection is not None:
            self._tp_quick = True
            _quicken(self._connection, "_state_lock")


def _quicken(owner: object, name: str) -> None:
    lock = getattr(owner, name, None)
    # httpcore's AsyncLock picks its implementation on first use (``_backend``
    # "" until then, "asyncio" after). Swap in a fast-acquire lock while no one
    # holds it; anything unexpected is left as it is.
    if not isinstance(lock, AsyncLock) or not _on_asyncio():
        return
    backend = getattr(lock, "_backend", None)
    current = getattr(lock, "_anyio_lock", None)
    if backend == "" or (
        backend == "asyncio" and isinstance(current, anyio.Lock) and not current.locked()
    ):
        lock._backend = "asyncio"  # pyright: ignore[reportPrivateUsage]
        lock._anyio_lock = anyio.Lock(fast_acquire=True)  # pyright: ignore[reportPrivateUsage]


class _Slot:
    """Room for one request at a time on one keep-alive connection."""

    __slots__ = ("busy", "connection", "lock")

    def __init__(self) -> None:
        self.connection: _Connection | None = None
        self.lock = anyio.Lock(fast_acquire=True)
        self.busy = 0


class AsyncPoolExecutor:
    """The async client's own connection pool (see the module docstring).

    ``max_connections`` slots, each with at most one httpcore connection. An
    idle slot is reused most-recently-released first, so a lightly loaded
    client keeps reusing its warm connections; when every slot is busy,
    requests queue on the slots in turn, for at most the pool timeout.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        ssl_context: Any,
        max_connections: int,
        keepalive_expiry: float,
    ) -> None:
        self._requests = _Requests(base_url, headers)
        self._ssl_context = ssl_context
        self._keepalive_expiry = keepalive_expiry
        self._backend: httpcore.AsyncNetworkBackend | None = None
        self._backend_chosen = False
        self._slots = [_Slot() for _ in range(max_connections)]
        self._idle = list(range(max_connections - 1, -1, -1))
        self._next = 0
        self.is_closed = False

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - httpx timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        if self.is_closed:
            raise RuntimeError("the client is closed: create a new one")
        request = self._requests.build(call, url, timeout)
        index = self._idle.pop() if self._idle else self._queue_on()
        slot = self._slots[index]
        slot.busy += 1
        try:
            if slot.busy > 1:  # every slot is busy: wait for this one's turn
                try:
                    with anyio.fail_after(timeout.pool):
                        await slot.lock.acquire()
                except TimeoutError:
                    waited = httpcore.PoolTimeout("no connection came free in time")
                    return _classify(waited, scrub)
            else:
                await slot.lock.acquire()  # free: no wait, no yield
            try:
                return await self._exchange(slot, request, sink)
            finally:
                slot.lock.release()
        except _TRANSPORT_ERRORS as exc:
            return _classify(exc, scrub)
        finally:
            slot.busy -= 1
            if slot.busy == 0:
                self._idle.append(index)

    def _queue_on(self) -> int:
        index = self._next
        self._next = (index + 1) % len(self._slots)
        return index

    async def _exchange(
        self, slot: _Slot, request: httpcore.Request, sink: FileSink | None
    ) -> Answer:
        connection, response = await self._start(slot, request)
        connection.quicken()
        try:
            status = response.status
            if sink is not None and 200 <= status < 300:
                headers = _headers(response.headers)
                with sink.open(headers.get("content-type")):
                    async for chunk in response.aiter_stream():
                        sink.write(chunk)
                return Answer(status, b"", headers)
            body = await response.aread()
            headers = {} if 200 <= status < 300 else _headers(response.headers)
            return Answer(status, body, headers)
        finally:
            await response.aclose()

    async def _start(
        self, slot: _Slot, request: httpcore.Request
    ) -> tuple[_Connection, httpcore.Response]:
        """Send ``request`` on the slot's connection (a new one if need be); the answer's head."""
        attempts = 3
        while True:
            connection = await self._connection_for(slot, request.url.origin)
            try:
                return connection, await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # It closed between the check and the request (nothing was sent):
                # a new one, as httpcore's pool does.
                slot.connection = None
                await connection.aclose()
                attempts -= 1
                if not attempts:
                    raise

    async def _connection_for(self, slot: _Slot, origin: httpcore.Origin) -> _Connection:
        """The slot's connection if it can take this request, else a new one."""
        connection = slot.connection
        if connection is not None:
            if connection.is_closed():
                slot.connection = connection = None
            elif connection.has_expired() or not connection.can_handle_request(origin):
                # Expired, closed by the server while idle, or to another host.
                slot.connection = None
                await connection.aclose()
                connection = None
        if connection is None:
            if not self._backend_chosen:  # the client's loop is known from its first request
                self._backend, self._backend_chosen = _network_backend(), True
            connection = slot.connection = _Connection(
                origin=origin,
                ssl_context=self._ssl_context,
                keepalive_expiry=self._keepalive_expiry,
                network_backend=self._backend,
            )
        return connection

    async def aclose(self) -> None:
        self.is_closed = True
        for slot in self._slots:
            connection, slot.connection = slot.connection, None
            if connection is not None:
                await connection.aclose()


class PoolExecutor:
    """The blocking client's own connection pool (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        *,
        ssl_context: Any,
        max_connections: int,
        keepalive_expiry: float,
    ) -> None:
        self._requests = _Requests(base_url, headers)
        self._shards = _Shards(
            lambda: httpcore.ConnectionPool(
                ssl_context=ssl_context, max_connections=1, keepalive_expiry=keepalive_expiry
            ),
            max_connections,
        )
        self.is_closed = False

    def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        if self.is_closed:
            raise RuntimeError("the client is closed: create a new one")
        request = self._requests.build(call, url, timeout)
        index, pool = self._shards.take()
        try:
            response = pool.handle_request(request)
            try:
                status = response.status
                if sink is not None and 200 <= status < 300:
                    headers = _headers(response.headers)
                    with sink.open(headers.get("content-type")):
                        for chunk in response.iter_stream():
                            sink.write(chunk)
                    return Answer(status, b"", headers)
                body = response.read()
                headers = {} if 200 <= status < 300 else _headers(response.headers)
                return Answer(status, body, headers)
            finally:
                response.close()
        except _TRANSPORT_ERRORS as exc:
            return _classify(exc, scrub)
        finally:
            self._shards.give(index)

    def close(self) -> None:
        self.is_closed = True
        for pool in self._shards.created():
            pool.close()
