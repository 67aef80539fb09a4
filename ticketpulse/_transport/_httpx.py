"""The httpx family (the default transport): httpx's transport layer, httpcore, driven directly.

The SDK's own connections skip building an ``httpx.Request`` and ``URL`` per
call (most of httpx's per-request cost). One large httpcore pool does work
per waiting request and per connection and slows down as concurrency grows,
so the async transport keeps one httpcore connection per slot and does the
pooling itself, and the blocking one spreads requests over one-connection
pools. Every connection's socket sits behind a guard (``_guard``), so httpcore
reads one answer per request, bounded and within the attempt's deadline. With
a proxy configured, one httpcore pool with the proxy does the same.

respx mocks all of it (it patches httpcore's connection and pool classes). A
user's own ``httpx.AsyncClient`` / ``httpx.Client`` (``http_client=``) is sent
through as it is, with what it brings (see the README's Security section).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, cast
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from .._core import Answer, Call, Failure
from .._errors import UsageError
from .._files import FileSink
from ._guard import AsyncGuardedBackend, GuardedBackend
from ._shared import (
    AttemptLimits,
    BodyReader,
    PoolTimeout,
    Settings,
    TransportError,
    attempt_deadline,
    failure,
    fork_generation,
    lower_headers,
    proxy_url,
    remaining,
)

__all__ = [
    "AsyncHttpcoreTransport",
    "AsyncHttpxClientTransport",
    "HttpcoreTransport",
    "HttpxClientTransport",
]

_NOT_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpcore.ConnectError,
    httpcore.ConnectTimeout,
    httpcore.PoolTimeout,
    httpcore.ConnectionNotAvailable,
)
_INVALID: tuple[type[BaseException], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpx.InvalidURL,
    httpcore.UnsupportedProtocol,
    httpcore.LocalProtocolError,
    httpcore.ProxyError,
)
_TIMEOUTS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpcore.TimeoutException,
    TimeoutError,
)
# httpcore's own, and httpx's (which a mocked pool, e.g. respx's, may raise).
_ERRORS: tuple[type[BaseException], ...] = (
    TransportError,
    httpx.TransportError,
    httpx.InvalidURL,
    httpx.StreamError,
    httpcore.ConnectionNotAvailable,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    TimeoutError,
)


def _failure(exc: BaseException, scrub: Callable[[str], str]) -> Failure:
    return failure(exc, scrub, not_sent=_NOT_SENT, invalid=_INVALID, timeouts=_TIMEOUTS)


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
        try:
            if call.url is not None:  # a signed file URL on its own host
                origin = _Origin(url)
                parts = urlsplit(url)
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                target_bytes = target.encode("ascii")
            else:
                origin = self._origin
                # The client built ``url`` from the base URL: what follows its origin.
                target_bytes = url[self._origin_length :].encode("ascii")
        except (UnicodeError, ValueError):
            raise httpx.InvalidURL("the URL has characters that cannot be sent") from None
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


def _async_backend() -> httpcore.AsyncNetworkBackend:
    """The SDK's asyncio backend on asyncio; httpcore's anyio backend (trio) otherwise."""
    inner: httpcore.AsyncNetworkBackend
    if _on_asyncio():
        from ._netbackend import AsyncioBackend

        inner = AsyncioBackend()
    else:
        # httpcore declares it conditionally (on anyio being installed): it is here.
        inner = cast("httpcore.AsyncNetworkBackend", httpcore.AnyIOBackend())
    return AsyncGuardedBackend(inner)


class _Slot:
    """Room for one request at a time on one keep-alive connection."""

    __slots__ = ("busy", "connection", "lock")

    def __init__(self) -> None:
        self.connection: httpcore.AsyncHTTPConnection | None = None
        self.lock = anyio.Lock(fast_acquire=True)
        self.busy = 0


class AsyncHttpcoreTransport:
    """The async transport's own connections (see the module docstring).

    ``max_connections`` slots, each with at most one httpcore connection. An
    idle slot is reused most-recently-released first, so a lightly loaded
    client keeps reusing its warm connections; when every slot is busy,
    requests queue on the slots in turn, for at most the pool timeout.
    """

    def __init__(self, settings: Settings) -> None:
        self._requests = _Requests(settings.base_url, settings.headers)
        self._ssl_context = settings.ssl_context
        self._keepalive_expiry = settings.keepalive_expiry
        self._limit = settings.max_response_size
        self._count = settings.max_connections
        self._backend: httpcore.AsyncNetworkBackend | None = None
        self._proxy = proxy_url(settings.base_url)
        self._proxy_pool: httpcore.AsyncConnectionPool | None = None
        self._reset()
        self.is_closed = False

    def _reset(self) -> None:
        self._slots = [_Slot() for _ in range(self._count)]
        self._idle = list(range(self._count - 1, -1, -1))
        self._next = 0
        self._generation = fork_generation()

    def _check_fork(self) -> None:
        if self._generation != fork_generation():
            # A child after fork(): the parent's connections stay the parent's (kept
            # referenced, never closed: closing could end the parent's TLS sessions).
            self._orphans = (self._slots, self._proxy_pool)
            self._proxy_pool = None
            self._backend = None
            self._reset()

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - per-operation timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        if self.is_closed:
            raise UsageError("the client is closed: create a new one")
        self._check_fork()
        reader = BodyReader(sink, self._limit)
        try:
            with AttemptLimits(timeout, self._limit):
                request = self._requests.build(call, url, timeout)
                if self._proxy is not None:
                    return await self._send_via_proxy(request, reader)
                return await self._send_on_slot(request, reader, timeout)
        except _ERRORS as exc:
            reader.abort()
            return _failure(exc, scrub)
        except BaseException:
            reader.abort()
            raise

    async def _send_on_slot(
        self,
        request: httpcore.Request,
        reader: BodyReader,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - per-operation timeouts
    ) -> Answer:
        index = self._idle.pop() if self._idle else self._queue_on()
        slot = self._slots[index]
        slot.busy += 1
        try:
            if slot.busy > 1:  # every slot is busy: wait for this one's turn
                try:
                    with anyio.fail_after(timeout.pool):
                        await slot.lock.acquire()
                except TimeoutError:
                    raise PoolTimeout("no connection came free in time") from None
            else:
                await slot.lock.acquire()  # free: no wait, no yield
            try:
                response = await self._start(slot, request)
                return await _read(response, reader)
            finally:
                slot.lock.release()
        finally:
            slot.busy -= 1
            if slot.busy == 0:
                self._idle.append(index)

    async def _send_via_proxy(self, request: httpcore.Request, reader: BodyReader) -> Answer:
        pool = self._proxy_pool
        if pool is None:
            assert self._proxy is not None
            pool = self._proxy_pool = httpcore.AsyncConnectionPool(
                proxy=httpcore.Proxy(self._proxy),
                ssl_context=self._ssl_context,
                max_connections=self._count,
                keepalive_expiry=self._keepalive_expiry,
                network_backend=_async_backend(),
            )
        return await _read(await pool.handle_async_request(request), reader)

    def _queue_on(self) -> int:
        index = self._next
        self._next = (index + 1) % len(self._slots)
        return index

    async def _start(self, slot: _Slot, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` on the slot's connection (a new one if need be); the answer's head."""
        attempts = 3
        while True:
            connection = await self._connection_for(slot, request.url.origin)
            try:
                return await connection.handle_async_request(request)
            except httpcore.ConnectionNotAvailable:
                # It closed, or its guard refused it, before a byte was sent: a new
                # one, as httpcore's pool does.
                slot.connection = None
                await connection.aclose()
                attempts -= 1
                if not attempts:
                    raise

    async def _connection_for(
        self, slot: _Slot, origin: httpcore.Origin
    ) -> httpcore.AsyncHTTPConnection:
        """The slot's connection if it can take this request, else a new one."""
        connection = slot.connection
        if connection is not None:
            if connection.is_closed():
                slot.connection = connection = None
            elif connection.has_expired() or not connection.can_handle_request(origin):
                # Expired, closed by the server, unusable (its guard says readable),
                # or to another host.
                slot.connection = None
                await connection.aclose()
                connection = None
        if connection is None:
            if self._backend is None:  # the client's loop is known from its first request
                self._backend = _async_backend()
            connection = slot.connection = httpcore.AsyncHTTPConnection(
                origin=origin,
                ssl_context=self._ssl_context,
                keepalive_expiry=self._keepalive_expiry,
                network_backend=self._backend,
            )
        return connection

    async def aclose(self) -> None:
        self.is_closed = True
        self._check_fork()
        for slot in self._slots:
            connection, slot.connection = slot.connection, None
            if connection is not None:
                await connection.aclose()
        pool, self._proxy_pool = self._proxy_pool, None
        if pool is not None:
            await pool.aclose()


async def _read(response: httpcore.Response, reader: BodyReader) -> Answer:
    try:
        status = response.status
        headers = _headers(response.headers)
        reader.start(status, headers)
        await _feed(response.aiter_stream(), reader)
        return Answer(status, reader.finish(), headers)
    finally:
        await response.aclose()


async def _feed(chunks: AsyncIterator[bytes], reader: BodyReader) -> None:
    """Every chunk to ``reader``; the iterator closed at once if the reader refuses
    one (an async generator left to the garbage collector is finalized late, or
    with a warning under trio)."""
    try:
        async for chunk in chunks:
            reader.feed(chunk)
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


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


class HttpcoreTransport:
    """The blocking transport's own connections (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self._requests = _Requests(settings.base_url, settings.headers)
        self._limit = settings.max_response_size
        proxy = proxy_url(settings.base_url)
        backend = GuardedBackend(httpcore.SyncBackend())

        def make() -> httpcore.ConnectionPool:
            return httpcore.ConnectionPool(
                ssl_context=settings.ssl_context,
                proxy=None if proxy is None else httpcore.Proxy(proxy),
                max_connections=1,
                keepalive_expiry=settings.keepalive_expiry,
                network_backend=backend,
            )

        self._make = make
        self._count = settings.max_connections
        self._shards = _Shards(make, self._count)
        self._generation = fork_generation()
        self._fork_lock = threading.Lock()
        self.is_closed = False

    def _check_fork(self) -> None:
        if self._generation != fork_generation():
            with self._fork_lock:
                if self._generation != fork_generation():
                    # A child: the parent's connections stay the parent's (SPEC §9).
                    self._orphans = self._shards
                    self._shards = _Shards(self._make, self._count)
                    self._generation = fork_generation()

    def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        if self.is_closed:
            raise UsageError("the client is closed: create a new one")
        self._check_fork()
        reader = BodyReader(sink, self._limit)
        shards = self._shards
        try:
            with AttemptLimits(timeout, self._limit):
                request = self._requests.build(call, url, timeout)
                index, pool = shards.take()
                try:
                    response = pool.handle_request(request)
                    try:
                        status = response.status
                        headers = _headers(response.headers)
                        reader.start(status, headers)
                        for chunk in response.iter_stream():
                            reader.feed(chunk)
                        return Answer(status, reader.finish(), headers)
                    finally:
                        response.close()
                finally:
                    shards.give(index)
        except _ERRORS as exc:
            reader.abort()
            return _failure(exc, scrub)
        except BaseException:
            reader.abort()
            raise

    def close(self) -> None:
        self.is_closed = True
        self._check_fork()
        for pool in self._shards.created():
            pool.close()


# -- a user's own httpx client


class _UserClient:
    """What both wrappers of a user's httpx client share: the request, and the head."""

    def __init__(self, settings: Settings) -> None:
        self._headers = settings.headers
        self._post_headers = {**settings.headers, "Content-Type": "application/json"}
        self._limit = settings.max_response_size

    def _build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
    ) -> httpx.Request:
        return http.build_request(
            call.method,
            url,
            content=call.body,
            headers=self._headers if call.body is None else self._post_headers,
            timeout=timeout,
        )

    @staticmethod
    def _start(response: httpx.Response, reader: BodyReader) -> tuple[int, dict[str, str], bool]:
        """Status and headers to ``reader``; True if the body is in memory already.

        An answer built with its content (a mock, an in-process app) has nothing
        left to stream, and nothing encoded left to refuse: it is fed whole.
        """
        status = response.status_code
        headers = lower_headers(response.headers)
        read = response.is_stream_consumed
        if read:
            headers.pop("content-encoding", None)
        reader.start(status, headers)
        if read:
            reader.feed(response.content)
        return status, headers, read


class AsyncHttpxClientTransport(_UserClient):
    """Sends through the user's own ``httpx.AsyncClient``, which is never closed here.

    Redirects are not followed, the raw (undecoded) body is read under the cap
    and within the attempt's deadline; the client's own cookies, event hooks,
    proxies and connection reuse apply.
    """

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        super().__init__(settings)
        self.http = http

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - httpx timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        reader = BodyReader(sink, self._limit)
        total = attempt_deadline(timeout)
        try:
            request = self._build(self.http, call, url, timeout)
            scope = anyio.fail_after(total) if total is not None else contextlib.nullcontext()
            with scope:
                # follow_redirects=False even if the user's client follows them: a
                # redirect would carry the key to another host.
                response = await self.http.send(request, follow_redirects=False, stream=True)
                try:
                    status, headers, read = self._start(response, reader)
                    if not read:
                        await _feed(response.aiter_raw(), reader)
                    return Answer(status, reader.finish(), headers)
                finally:
                    await response.aclose()
        except _ERRORS as exc:
            reader.abort()
            return _failure(exc, scrub)
        except BaseException:
            reader.abort()
            raise

    async def aclose(self) -> None:
        pass  # never close what the user gave us


class HttpxClientTransport(_UserClient):
    """Sends through the user's own ``httpx.Client`` (see :class:`AsyncHttpxClientTransport`)."""

    def __init__(self, http: httpx.Client, settings: Settings) -> None:
        super().__init__(settings)
        self.http = http

    @property
    def is_closed(self) -> bool:
        return self.http.is_closed

    def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        reader = BodyReader(sink, self._limit)
        total = attempt_deadline(timeout)
        deadline = None if total is None else time.monotonic() + total
        try:
            request = self._build(self.http, call, url, timeout)
            response = self.http.send(request, follow_redirects=False, stream=True)
            try:
                status, headers, read = self._start(response, reader)
                if not read:
                    for chunk in response.iter_raw():
                        reader.feed(chunk)
                        remaining(deadline, None)  # a trickle ends at the deadline
                return Answer(status, reader.finish(), headers)
            finally:
                response.close()
        except _ERRORS as exc:
            reader.abort()
            return _failure(exc, scrub)
        except BaseException:
            reader.abort()
            raise

    def close(self) -> None:
        pass  # never close what the user gave us
