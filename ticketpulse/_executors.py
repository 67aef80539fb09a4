"""Sending a :class:`Call` over HTTP: the clients' only I/O.

Two kinds of executor, each for blocking and async code:

- the SDK's own connection pool (the default): httpx's transport layer,
  httpcore, driven directly. It skips building an ``httpx.Request`` and ``URL``
  per call (most of httpx's per-request cost) and spreads requests over many
  one-connection pools, because one large httpcore pool does work per waiting
  request and per connection and slows down as concurrency grows;
- a user's own ``httpx.Client`` / ``httpx.AsyncClient`` (``http_client=``, or
  when proxy environment variables are set): ``client.send``, so its
  transports, proxies and event hooks apply.

An executor returns a core :class:`Answer` or :class:`Failure`; it never
raises for network trouble.
"""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx

from ._core import Answer, Call, Failure, FailureKind
from ._files import FileSink
from ._redact import redact

__all__ = [
    "AsyncExecutor",
    "AsyncHttpxExecutor",
    "AsyncPoolExecutor",
    "HttpxExecutor",
    "PoolExecutor",
    "classify",
    "proxies_configured",
    "proxy_url",
]

_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpcore.ConnectError,
    httpcore.ConnectTimeout,
    httpcore.PoolTimeout,
)
_INVALID = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
    httpcore.UnsupportedProtocol,
    httpcore.LocalProtocolError,
    httpcore.ProxyError,
)
_TIMEOUTS = (httpx.TimeoutException, httpcore.TimeoutException)
TRANSPORT_ERRORS = (
    httpx.TransportError,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.TimeoutException,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
)


def classify(exc: Exception, scrub: Callable[[str], str] = redact) -> Failure:
    """How far a failed request got, from the httpx or httpcore exception type.

    Connect errors and pool timeouts happen before any byte of the request is
    written, so even an order may be sent again. Anything later may have
    reached the server.
    """
    text = str(exc)
    description = f"{type(exc).__name__}: {scrub(text)}" if text else type(exc).__name__
    timeout = isinstance(exc, _TIMEOUTS)
    if isinstance(exc, _NOT_SENT):
        return Failure(FailureKind.NOT_SENT, description, timeout)
    if isinstance(exc, _INVALID):
        return Failure(FailureKind.INVALID, description, timeout)
    return Failure(FailureKind.SENT, description, timeout)


def proxy_url(url: str) -> str | None:
    """The HTTP(S)_PROXY / ALL_PROXY that applies to ``url``, honouring NO_PROXY."""
    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def proxies_configured(base_url: str) -> bool:
    """Whether a proxy applies to ``base_url``.

    The SDK's own pool does not speak to proxies; with one configured, the
    client uses an ``httpx`` client, which honours them as it always does.
    """
    return proxy_url(base_url) is not None


class AsyncExecutor(Protocol):
    """What ``AsyncClient`` needs from its I/O: send one call, close."""

    @property
    def is_closed(self) -> bool: ...

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - httpx timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure: ...

    async def aclose(self) -> None: ...


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
        except TRANSPORT_ERRORS as exc:
            return classify(exc, scrub)
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
        except TRANSPORT_ERRORS as exc:
            return classify(exc, scrub)
        finally:
            self._shards.give(index)

    def close(self) -> None:
        self.is_closed = True
        for pool in self._shards.created():
            pool.close()


class AsyncHttpxExecutor:
    """Sends through an ``httpx.AsyncClient`` (the user's, or one for proxies)."""

    def __init__(self, http: httpx.AsyncClient, headers: Mapping[str, str], *, owned: bool) -> None:
        self.http = http
        self._headers = dict(headers)
        self._owned = owned

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
        headers = self._headers
        if call.body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        request = self.http.build_request(
            call.method, url, content=call.body, headers=headers, timeout=timeout
        )
        try:
            # follow_redirects=False even if the user's client follows them:
            # a redirect would carry the key to another host.
            response = await self.http.send(request, follow_redirects=False, stream=True)
            try:
                status = response.status_code
                if sink is not None and 200 <= status < 300:
                    with sink.open(response.headers.get("content-type")):
                        async for chunk in response.aiter_bytes():
                            sink.write(chunk)
                    return Answer(status, b"", response.headers)
                return Answer(status, await response.aread(), response.headers)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            return classify(exc, scrub)

    async def aclose(self) -> None:
        if self._owned:  # never close what the user gave us
            await self.http.aclose()


class HttpxExecutor:
    """Sends through an ``httpx.Client`` (the user's, or one for proxies)."""

    def __init__(self, http: httpx.Client, headers: Mapping[str, str], *, owned: bool) -> None:
        self.http = http
        self._headers = dict(headers)
        self._owned = owned

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
        headers = self._headers
        if call.body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        request = self.http.build_request(
            call.method, url, content=call.body, headers=headers, timeout=timeout
        )
        try:
            response = self.http.send(request, follow_redirects=False, stream=True)
            try:
                status = response.status_code
                if sink is not None and 200 <= status < 300:
                    with sink.open(response.headers.get("content-type")):
                        for chunk in response.iter_bytes():
                            sink.write(chunk)
                    return Answer(status, b"", response.headers)
                return Answer(status, response.read(), response.headers)
            finally:
                response.close()
        except httpx.TransportError as exc:
            return classify(exc, scrub)

    def close(self) -> None:
        if self._owned:
            self.http.close()
