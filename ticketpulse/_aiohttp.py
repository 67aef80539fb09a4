"""``AiohttpClient``: the same API as ``AsyncClient``, sent over aiohttp (asyncio only).

For bulk runs that fetch thousands of ticket URLs: aiohttp's per-request cost
is a fraction of httpx's. Everything above the I/O (validation, parsing,
retries, errors, redaction) is the same code as ``AsyncClient``'s. Needs the
``ticketpulse[aiohttp]`` extra.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import httpx
from yarl import URL

from ._async_client import AsyncClient
from ._base import DEFAULT_TIMEOUT, MAX_CONNECTIONS, ssl_context
from ._core import Answer, Call, Failure, describe_failure
from ._errors import ConfigurationError
from ._executors import proxy_url, require_asyncio
from ._files import FileSink

__all__ = ["AiohttpClient", "AiohttpExecutor"]

# Before any byte of the request was written: safe to send again, even an order.
_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_INVALID = (aiohttp.InvalidURL, aiohttp.ClientHttpProxyError)
_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
_CHUNK = 64 * 1024


def _failure(exc: BaseException, scrub: Callable[[str], str]) -> Failure:
    return describe_failure(
        exc,
        scrub,
        not_sent=_NOT_SENT,
        invalid=_INVALID,
        timeouts=(asyncio.TimeoutError, aiohttp.ServerTimeoutError),
    )


class AiohttpExecutor:
    """Sends calls through one ``aiohttp.ClientSession`` (the user's, or its own).

    Its own session is created on first use, inside the running loop, as
    aiohttp requires.
    """

    def __init__(
        self, session: aiohttp.ClientSession | None, headers: Mapping[str, str], *, owned: bool
    ) -> None:
        self._session = session
        self._headers = dict(headers)
        self._post_headers = {**headers, "Content-Type": "application/json"}
        self._owned = owned
        self._closed = False
        self._timeout: tuple[httpx.Timeout, aiohttp.ClientTimeout] | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def is_closed(self) -> bool:
        return self._closed or (self._session is not None and self._session.closed)

    def _client_timeout(self, timeout: httpx.Timeout) -> aiohttp.ClientTimeout:
        # The last one is kept: a client (and its with_options copies) sends
        # with one or two timeouts, not a new one per call.
        if self._timeout is not None and self._timeout[0] is timeout:
            return self._timeout[1]
        # httpx's timeouts in aiohttp's terms: no overall limit, a limit per
        # phase (pool wait + connect, then each read).
        converted = aiohttp.ClientTimeout(
            total=None, connect=timeout.pool, sock_connect=timeout.connect, sock_read=timeout.read
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
        require_asyncio("AiohttpClient")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=MAX_CONNECTIONS, ssl=ssl_context(), keepalive_timeout=5.0
                ),
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
            raise RuntimeError("the client is closed: create a new one")
        session = self._open()
        try:
            async with session.request(
                call.method,
                URL(url, encoded=True),  # already percent-encoded: no second pass
                proxy=self._proxy_for(url),
                data=call.body,
                headers=self._headers if call.body is None else self._post_headers,
                allow_redirects=False,  # a redirect would carry the key elsewhere
                timeout=self._client_timeout(timeout),
            ) as response:
                status = response.status
                if sink is not None and 200 <= status < 300:
                    with sink.open(response.headers.get("Content-Type")):
                        async for chunk in response.content.iter_chunked(_CHUNK):
                            sink.write(chunk)
                    return Answer(status, b"", _lower(response.headers))
                body = await response.read()
                return Answer(status, body, {} if 200 <= status < 300 else _lower(response.headers))
        except _ERRORS as exc:
            return _failure(exc, scrub)

    async def aclose(self) -> None:
        self._closed = True
        if self._owned and self._session is not None:
            await self._session.close()


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


class AiohttpClient(AsyncClient):
    """``AsyncClient`` over aiohttp: the same methods, for the highest throughput.

    Use it for bulk work (``get_ticket_urls``, ``iter_ticket_urls``) on asyncio;
    it does not run under trio. ``session`` injects your own
    ``aiohttp.ClientSession`` (never closed by this client); otherwise one is
    created on first use with up to 100 connections. Other arguments are as for
    :class:`AsyncClient`. Raises :class:`ConfigurationError` for a missing key
    or an invalid setting.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError(
                f"session must be an aiohttp.ClientSession, not {type(session).__name__}"
            )
        self._session_given = session
        super().__init__(api_key, base_url=base_url, timeout=timeout, max_retries=max_retries)

    def _make_executor(self, http_client: object) -> None:
        session = self._session_given
        self._executor = AiohttpExecutor(session, self._headers, owned=session is None)
