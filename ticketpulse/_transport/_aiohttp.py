"""The aiohttp transport (extra ``ticketpulse[aiohttp]``, asyncio only).

The SDK's own session keeps no cookies, decodes nothing (it asks for
``identity``) and never reuses a connection that holds an answer nobody asked
for: aiohttp queues an answer that arrives while a connection is idle and
hands it to the next request, so the connector checks each connection it
hands out (:class:`_CheckedConnector`). A user's own session
(``http_client=``) keeps its cookies and connector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import httpx
from yarl import URL

from .._core import Answer, Call, Failure
from .._errors import UsageError
from .._files import FileSink
from ._shared import (
    BodyReader,
    Settings,
    TransportError,
    asyncio_loop,
    attempt_deadline,
    failure,
    fork_generation,
    lower_headers,
    proxy_url,
    readable_now,
)

__all__ = ["AiohttpTransport"]

# Before any byte of the request was written: safe to send again, even an order.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_INVALID = (aiohttp.InvalidURL, aiohttp.ClientHttpProxyError)
_TIMEOUTS = (asyncio.TimeoutError, aiohttp.ServerTimeoutError)
_ERRORS = (TransportError, aiohttp.ClientError, asyncio.TimeoutError)


class _CheckedConnector(aiohttp.TCPConnector):
    """A connector that hands out only connections with nothing waiting on them."""

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: list[Any],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> aiohttp.connector.Connection:
        for _ in range(8):
            connection = await super().connect(req, traces, timeout)
            protocol, transport = connection.protocol, connection.transport
            if (
                protocol is not None
                and transport is not None
                and protocol.is_connected()
                # aiohttp's own flag: unread bytes or a queued answer, among others.
                and not protocol.should_close
                and not _unread_bytes(transport)
            ):
                return connection
            connection.close()  # bytes nobody asked for, or the server closed it
        return await super().connect(req, traces, timeout)


def _unread_bytes(transport: Any) -> bool:
    """Bytes on a plain connection's socket that the loop has not read yet.

    Not asked of a TLS connection: its socket is readable after every handshake
    (the server's TLS 1.3 session tickets), which says nothing about answers; the
    loop reads those records, and anything in them reaches ``should_close``.
    """
    if transport.get_extra_info("ssl_object") is not None:
        return False
    return readable_now(transport.get_extra_info("socket"))


class AiohttpTransport:
    """Sends calls through one ``aiohttp.ClientSession`` (the user's, or its own).

    Its own session is created on first use, inside the running loop, as
    aiohttp requires.
    """

    def __init__(self, session: aiohttp.ClientSession | None, settings: Settings) -> None:
        self._session = session
        self._owned = session is None
        self._settings = settings
        headers = {**settings.headers, "Accept-Encoding": "identity"}
        self._headers = headers
        self._post_headers = {**headers, "Content-Type": "application/json"}
        self._closed = False
        self._timeout: tuple[httpx.Timeout, aiohttp.ClientTimeout] | None = None
        self._proxies: dict[str, str | None] = {}
        self._generation = fork_generation()

    @property
    def is_closed(self) -> bool:
        return self._closed or (self._session is not None and self._session.closed)

    def _client_timeout(self, timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
        # The last one is kept: a client (and its with_options copies) sends
        # with one or two timeouts, not a new one per call.
        if self._timeout is not None and self._timeout[0] is timeout:
            return self._timeout[1]
        converted = aiohttp.ClientTimeout(
            total=attempt_deadline(timeout),
            connect=timeout.pool,
            sock_connect=timeout.connect,
            sock_read=timeout.read,
        )
        self._timeout = (timeout, converted)
        return converted

    def _proxy_for(self, url: str) -> str | None:
        """HTTP(S)_PROXY / ALL_PROXY for the URL's origin, honouring NO_PROXY (cached)."""
        origin = url[: url.find("/", url.find("//") + 2)]
        if origin not in self._proxies:
            self._proxies[origin] = proxy_url(origin)
        return self._proxies[origin]

    def _open(self) -> aiohttp.ClientSession:
        asyncio_loop("transport='aiohttp'")
        if self._owned and self._generation != fork_generation():
            # A child after fork(): the parent's session and sockets stay the parent's.
            self._orphan, self._session = self._session, None
            self._generation = fork_generation()
        if self._session is None:
            settings = self._settings
            self._session = aiohttp.ClientSession(
                connector=_CheckedConnector(
                    limit=settings.max_connections,
                    ssl=settings.ssl_context,
                    keepalive_timeout=settings.keepalive_expiry,
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                raise_for_status=False,
                # Not trust_env: it costs two thread hops per request (proxy and
                # .netrc look-ups). Proxies are looked up once per host instead.
            )
        return self._session

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - httpx timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure:
        if self._closed:
            raise UsageError("the client is closed: create a new one")
        session = self._open()
        reader = BodyReader(sink, self._settings.max_response_size)
        try:
            async with session.request(
                call.method,
                URL(url, encoded=True),  # already percent-encoded: no second pass
                proxy=self._proxy_for(url),
                data=call.body,
                headers=self._headers if call.body is None else self._post_headers,
                allow_redirects=False,  # a redirect would carry the key elsewhere
                auto_decompress=False,
                timeout=self._client_timeout(timeout),
            ) as response:
                status = response.status
                headers = lower_headers(response.headers)
                reader.start(status, headers)
                async for chunk in response.content.iter_any():
                    reader.feed(chunk)
                return Answer(status, reader.finish(), headers)
        except _ERRORS as exc:
            reader.abort()
            return failure(exc, scrub, not_sent=_NOT_SENT, invalid=_INVALID, timeouts=_TIMEOUTS)
        except (ValueError, UnicodeError) as exc:  # a URL aiohttp cannot send
            reader.abort()
            return failure(exc, scrub, invalid=(ValueError,))
        except BaseException:
            reader.abort()
            raise

    async def aclose(self) -> None:
        self._closed = True
        if self._owned and self._session is not None:
            await self._session.close()
