"""Network streams that keep httpcore to one answer per request (SPEC §9).

httpcore (1.0.9) hands h11 every byte it reads and keeps what follows an
answer as the start of the next one: bytes after a Content-Length, a "body"
on a 204, an answer sent while the connection idled would all be read as the
answer to the next request on that connection. These streams sit between
httpcore and the socket (through httpcore's public network-backend
interface) and run the SDK's own parser (``_http11``, framing only) over what
is read:

- httpcore is handed each answer's bytes up to its framing boundary and not a
  byte more; anything after it is withheld and the connection is marked
  unusable;
- an unusable connection reports itself readable (``is_readable``), which is
  how httpcore learns that an idle connection must be closed, and refuses a
  new request before writing a byte (``ConnectionNotAvailable``: the pool
  retries on a new connection);
- the head, chunk lines, trailers and interim answers are bounded, the body
  by the attempt's cap (``BODY_LIMIT``), and every read's timeout is shortened
  to the attempt's deadline (``DEADLINE``): a limit ends httpcore's reading
  with an error, so its stream generators end too.
"""

# ruff: noqa: ASYNC109 - httpcore's stream interface passes timeouts per operation.
from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from ._http11 import END, NEED_DATA, ProtocolError, ResponseParser, State
from ._shared import BODY_LIMIT, DEADLINE, ReadTimeout, remaining

__all__ = ["AsyncGuardedBackend", "GuardedBackend"]

_SocketOption = Any  # httpcore's SOCKET_OPTION: a setsockopt argument tuple
_IDLE_STATES = (State.IDLE, State.DONE, State.BROKEN)


class _Framing:
    """One connection's answers, watched: where each ends, and whether it may be reused."""

    __slots__ = ("parser", "unusable")

    def __init__(self) -> None:
        self.parser = ResponseParser(keep_body=False)
        self.unusable = False

    def idle(self) -> bool:
        return self.parser.state in _IDLE_STATES

    def can_start(self) -> bool:
        parser = self.parser
        return not self.unusable and (
            parser.state is State.IDLE or (parser.state is State.DONE and parser.reusable)
        )

    def sent(self, data: bytes) -> None:
        """Bytes written; the first write after an answer starts a request."""
        if not data or not self.idle():
            return
        if not self.can_start():
            # Nothing of this request has been written: the pool may send it on
            # a new connection.
            raise httpcore.ConnectionNotAvailable()
        method = bytes(data[: data.find(b" ")]).decode("ascii", "replace")
        self.parser.start(method)
        self.parser.max_body = BODY_LIMIT.get()

    def received(self, data: bytes) -> bytes:
        """Bytes read; returns those that belong to the current answer."""
        parser = self.parser
        try:
            if parser.state is State.DONE:
                # Our framing says the answer ended, yet httpcore reads on: the two
                # disagree on where it ends, so nothing on this connection is trusted.
                self.unusable = True
                raise ProtocolError("the answer's end is ambiguous")
            if not data:
                parser.feed_eof()
                return data
            parser.feed(data)
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    return data
                if event is END:
                    trailing = len(parser.trailing_data)
                    if trailing:
                        # Bytes after the answer's end (after a Content-Length, a 204's
                        # "body"): never handed on, and the connection is done.
                        self.unusable = True
                        return data[: len(data) - trailing]
                    if not parser.reusable:
                        self.unusable = True
                    return data
        except ProtocolError as exc:
            self.unusable = True
            raise httpcore.RemoteProtocolError(str(exc)) from None


def _read_timeout(timeout: float | None) -> float | None:
    try:
        return remaining(DEADLINE.get(), timeout)
    except ReadTimeout as exc:
        raise httpcore.ReadTimeout(str(exc)) from None


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._framing = _Framing()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout = _read_timeout(timeout)
        return self._framing.received(await self._inner.read(max_bytes, timeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._framing.sent(buffer)
        await self._inner.write(buffer, _read_timeout(timeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self._inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        self._framing = _Framing()  # a CONNECT tunnel's answer is behind it
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            framing = self._framing
            if framing.idle() and not framing.can_start():
                return True
        return self._inner.get_extra_info(info)


class _SyncStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self._framing = _Framing()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout = _read_timeout(timeout)
        return self._framing.received(self._inner.read(max_bytes, timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._framing.sent(buffer)
        self._inner.write(buffer, _read_timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        self._inner = self._inner.start_tls(ssl_context, server_hostname, timeout)
        self._framing = _Framing()
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            framing = self._framing
            if framing.idle() and not framing.can_start():
                return True
        return self._inner.get_extra_info(info)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """``inner``'s connections, each behind a guard (see the module docstring)."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _AsyncStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedBackend(httpcore.NetworkBackend):
    """The blocking twin of :class:`AsyncGuardedBackend`."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _SyncStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        return _SyncStream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
