"""Sending a :class:`Call` through an httpx client: the user's own
(``http_client=``), or one of the SDK's when proxy environment variables apply.

``client.send`` is used, so the client's transports, proxies and event hooks
apply. The SDK's own connection pool, used otherwise, is in ``_pool``.
An executor returns a core :class:`Answer` or :class:`Failure`; it never
raises for network trouble.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from ._core import Answer, Call, Failure, describe_failure
from ._files import FileSink
from ._redact import redact

__all__ = [
    "AsyncExecutor",
    "AsyncHttpxExecutor",
    "Executor",
    "HttpxExecutor",
    "classify",
    "proxies_configured",
    "proxy_url",
    "require_asyncio",
]

NOT_SENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
INVALID: tuple[type[BaseException], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.ProxyError,
)
TIMEOUTS: tuple[type[BaseException], ...] = (httpx.TimeoutException,)


def classify(exc: Exception, scrub: Callable[[str], str] = redact) -> Failure:
    """How far a request that raised an httpx exception got."""
    return describe_failure(exc, scrub, not_sent=NOT_SENT, invalid=INVALID, timeouts=TIMEOUTS)


def proxy_url(url: str) -> str | None:
    """The HTTP(S)_PROXY / ALL_PROXY that applies to ``url``, honouring NO_PROXY."""
    import urllib.request  # costly to import; needed once per client

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


class Executor(Protocol):
    """What ``Client`` needs from its I/O: send one call, close."""

    @property
    def is_closed(self) -> bool: ...

    def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure: ...

    def close(self) -> None: ...


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


def require_asyncio(client: str) -> None:
    """Raise a clear ``RuntimeError`` when ``client`` is used outside asyncio (under trio)."""
    if "trio" not in sys.modules:
        return  # nothing else runs coroutines that reach here
    asyncio = sys.modules.get("asyncio")  # imported if its loop is running
    try:
        if asyncio is None:
            raise RuntimeError
        asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(f"{client} runs on asyncio only; use AsyncClient under trio") from None
