"""The SDK's own connection pool: httpx's transport layer, httpcore, driven directly.

It skips building an ``httpx.Request`` and ``URL`` per call (most of httpx's
per-request cost) and spreads requests over many one-connection pools,
because one large httpcore pool does work per waiting request and per
connection and slows down as concurrency grows. Imported when a client
creates its pool, so ``import ticketpulse`` does not pay for httpcore.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx

from ._core import Answer, Call, Failure, describe_failure
from ._executors import INVALID, NOT_SENT, TIMEOUTS
from ._files import FileSink

__all__ = ["AsyncPoolExecutor", "PoolExecutor"]

_NOT_SENT = (*NOT_SENT, httpcore.ConnectError, httpcore.ConnectTimeout, httpcore.PoolTimeout)
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


class AsyncPoolExecutor:
    """The async client's own connection pool (see the module docstring)."""

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
            lambda: httpcore.AsyncConnectionPool(
                ssl_context=ssl_context, max_connections=1, keepalive_expiry=keepalive_expiry
            ),
            max_connections,
        )
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
        index, pool = self._shards.take()
        try:
            response = await pool.handle_async_request(request)
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
        except _TRANSPORT_ERRORS as exc:
            return _classify(exc, scrub)
        finally:
            self._shards.give(index)

    async def aclose(self) -> None:
        self.is_closed = True
        for pool in self._shards.created():
            await pool.aclose()


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
