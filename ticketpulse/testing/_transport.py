"""In-process httpx transports: the sandbox answers httpx with no socket at all.

Faults surface as the exceptions httpx raises over a real socket: a dropped
connection as ``httpx.RemoteProtocolError``, a stall longer than the request's
read timeout as ``httpx.ReadTimeout`` (after waiting that timeout), a
truncated body as ``httpx.RemoteProtocolError`` while reading it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import anyio
import httpx

from ._app import SandboxApp
from ._http import Delivery, Exchange, HTTPRequest, HTTPResponse

__all__ = ["AsyncSandboxTransport", "SandboxTransport"]

_DISCONNECTED = "Server disconnected without sending a response."


def _plain_request(request: httpx.Request, body: bytes) -> HTTPRequest:
    path, _, query = request.url.raw_path.partition(b"?")
    return HTTPRequest(
        method=request.method,
        path=path.decode("ascii", "replace"),
        query=query.decode("ascii", "replace"),
        headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
        body=body,
        scheme=request.url.scheme,
        server=request.url.netloc.decode("ascii", "replace"),
    )


def _read_timeout(request: httpx.Request) -> float | None:
    timeouts: Any = request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        value: Any = cast("dict[str, Any]", timeouts).get("read")
        if isinstance(value, int | float):
            return float(value)
    return None


def _times_out(seconds: float, timeout: float | None) -> bool:
    return timeout is not None and seconds > timeout


def _truncated(request: httpx.Request, received: int, expected: int) -> httpx.RemoteProtocolError:
    # The words h11 uses when a peer closes before the declared Content-Length.
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body "
        f"(received {received} bytes, expected {expected})",
        request=request,
    )


def _response(
    request: httpx.Request,
    answer: HTTPResponse,
    stream: httpx.SyncByteStream | httpx.AsyncByteStream | None,
) -> httpx.Response:
    if stream is None:
        return httpx.Response(
            answer.status, headers=list(answer.headers), content=answer.body, request=request
        )
    return httpx.Response(
        answer.status, headers=list(answer.headers), stream=stream, request=request
    )


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, request: httpx.Request, exchange: Exchange, timeout: float | None) -> None:
        self._request = request
        self._exchange = exchange
        self._timeout = timeout

    def __iter__(self) -> Iterator[bytes]:
        exchange, split = self._exchange, self._exchange.split
        assert exchange.response is not None
        body = exchange.response.body
        yield body[:split]
        if exchange.delivery is Delivery.TRUNCATE:
            raise _truncated(self._request, split, len(body))
        if _times_out(exchange.body_stall, self._timeout):
            time.sleep(self._timeout or 0.0)
            raise httpx.ReadTimeout("timed out", request=self._request)
        time.sleep(exchange.body_stall)
        yield body[split:]


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, request: httpx.Request, exchange: Exchange, timeout: float | None) -> None:
        self._request = request
        self._exchange = exchange
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        exchange, split = self._exchange, self._exchange.split
        assert exchange.response is not None
        body = exchange.response.body
        yield body[:split]
        if exchange.delivery is Delivery.TRUNCATE:
            raise _truncated(self._request, split, len(body))
        if _times_out(exchange.body_stall, self._timeout):
            await anyio.sleep(self._timeout or 0.0)
            raise httpx.ReadTimeout("timed out", request=self._request)
        await anyio.sleep(exchange.body_stall)
        yield body[split:]


class SandboxTransport(httpx.BaseTransport):
    """A blocking httpx transport answered by the sandbox in the calling thread.

    Use ``httpx.Client(transport=sandbox.transport())``; any host name works.
    """

    def __init__(self, app: SandboxApp) -> None:
        self._app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self._app.exchange(_plain_request(request, request.read()))
        timeout = _read_timeout(request)
        if _times_out(exchange.delay, timeout):
            time.sleep(timeout or 0.0)
            raise httpx.ReadTimeout("timed out", request=request)
        if exchange.delay > 0:
            time.sleep(exchange.delay)
        if exchange.response is None:
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        stream = None
        if exchange.delivery is not Delivery.NORMAL:
            stream = _SyncBody(request, exchange, timeout)
        return _response(request, exchange.response, stream)


class AsyncSandboxTransport(httpx.AsyncBaseTransport):
    """An async httpx transport answered by the sandbox (asyncio or trio, via anyio).

    Use ``httpx.AsyncClient(transport=sandbox.async_transport())``; any host name works.
    """

    def __init__(self, app: SandboxApp) -> None:
        self._app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self._app.exchange(_plain_request(request, await request.aread()))
        timeout = _read_timeout(request)
        if _times_out(exchange.delay, timeout):
            await anyio.sleep(timeout or 0.0)
            raise httpx.ReadTimeout("timed out", request=request)
        if exchange.delay > 0:
            await anyio.sleep(exchange.delay)
        if exchange.response is None:
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        stream = None
        if exchange.delivery is not Delivery.NORMAL:
            stream = _AsyncBody(request, exchange, timeout)
        return _response(request, exchange.response, stream)
