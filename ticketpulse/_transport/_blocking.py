"""The builtin transport on blocking sockets: the SDK's HTTP/1.1 (``_http11``) for ``Client``.

One thread per request in flight, each on a keep-alive connection taken from a
thread-safe pool; every read's timeout is shortened to what is left of the
attempt's deadline, so no server can hold a call past it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from .._core import Answer, Call, Failure
from .._errors import UsageError
from .._files import FileSink
from ._http11 import END, NEED_DATA, Head, ProtocolError, ResponseParser
from ._origin import Origin, RequestHead
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
    attempt_deadline,
    failure,
    fork_generation,
    readable_now,
    remaining,
)

__all__ = ["BlockingTransport"]

_READ_SIZE = 64 * 1024


class _Connection:
    __slots__ = ("idle_since", "origin", "parser", "sock")

    def __init__(self, sock: socket.socket, origin: Origin) -> None:
        self.sock = sock
        self.origin = origin
        self.parser = ResponseParser()
        self.idle_since = 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class BlockingTransport:
    """Sends calls over the SDK's own HTTP/1.1 connections on blocking sockets."""

    def __init__(self, settings: Settings) -> None:
        self._requests = RequestHead(settings.base_url, settings.headers)
        self._limit = settings.max_response_size
        self._ssl_context: Any = settings.ssl_context
        self._expiry = settings.keepalive_expiry
        self._slots = threading.BoundedSemaphore(settings.max_connections)
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._generation = fork_generation()
        self._orphans: list[object] = []
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
            raise UsageError("the client is closed: create a new one")
        total = attempt_deadline(timeout)
        deadline = None if total is None else time.monotonic() + total
        try:
            origin, request = self._requests.build(call, url)
            if not self._slots.acquire(timeout=timeout.pool if timeout.pool is not None else -1):
                raise PoolTimeout("no connection came free in time")
        except TransportError as exc:
            return failure(exc, scrub)
        try:
            try:
                connection = self._take(origin, timeout)
            except TransportError as exc:
                return failure(exc, scrub)
            reader = BodyReader(sink, self._limit)
            try:
                answer = self._exchange(connection, call.method, request, reader, timeout, deadline)
            except TransportError as exc:
                reader.abort()
                connection.close()
                return failure(exc, scrub)
            except BaseException:  # interrupted, a disk error: the connection's state is unknown
                reader.abort()
                connection.close()
                raise
            if connection.parser.reusable:
                self._give(connection)
            else:
                connection.close()
            return answer
        finally:
            self._slots.release()

    def _exchange(
        self,
        connection: _Connection,
        method: str,
        request: bytes,
        reader: BodyReader,
        timeout: httpx.Timeout,
        deadline: float | None,
    ) -> Answer:
        sock, parser = connection.sock, connection.parser
        try:
            parser.start(method)
        except ProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None
        try:
            sock.settimeout(remaining(deadline, timeout.write))
            sock.sendall(request)
        except TimeoutError:
            raise WriteTimeout("the request could not be written in time") from None
        except OSError as exc:
            raise ReadError(f"the connection broke: {exc}") from None
        status, headers = 0, dict[str, str]()
        try:
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    try:
                        sock.settimeout(remaining(deadline, timeout.read))
                        data = sock.recv(_READ_SIZE)
                    except TimeoutError:
                        raise ReadTimeout("the server did not answer in time") from None
                    except OSError as exc:
                        raise ReadError(f"the connection broke: {exc}") from None
                    if data:
                        parser.feed(data)
                    else:
                        parser.feed_eof()
                elif event is END:
                    return Answer(status, reader.finish(), headers)
                elif isinstance(event, Head):
                    status, headers = event.status, event.headers
                    reader.start(status, headers)
                else:
                    reader.feed(event)
        except ProtocolError as exc:
            raise RemoteProtocolError(str(exc)) from None

    def _take(self, origin: Origin, timeout: httpx.Timeout) -> _Connection:
        now = time.monotonic()
        with self._lock:
            self._check_fork()
            idle = self._idle.get(origin.key)
            while idle:
                connection = idle.pop()  # the most recently used: the warmest
                if now - connection.idle_since < self._expiry and not readable_now(connection.sock):
                    return connection
                connection.close()
        return self._connect(origin, timeout)

    def _give(self, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            if self.is_closed:
                connection.close()
                return
            self._idle.setdefault(connection.origin.key, []).append(connection)

    def _check_fork(self) -> None:
        if self._generation != fork_generation():
            # A child after fork(): the parent's sockets are the parent's. Kept
            # referenced, never closed or read (SPEC §9).
            self._orphans.append(self._idle)
            self._idle = {}
            self._generation = fork_generation()

    def _connect(self, origin: Origin, timeout: httpx.Timeout) -> _Connection:
        try:
            sock = socket.create_connection((origin.host, origin.port), timeout=timeout.connect)
        except TimeoutError:
            raise ConnectTimeout(f"connecting to {origin.host}:{origin.port} timed out") from None
        except (OSError, UnicodeError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.tls:
                sock = self._ssl_context.wrap_socket(sock, server_hostname=origin.host)
        except TimeoutError:
            sock.close()
            raise ConnectTimeout("the TLS handshake timed out") from None
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise ConnectError(str(exc) or type(exc).__name__) from None
        return _Connection(sock, origin)

    def close(self) -> None:
        with self._lock:
            self.is_closed = True
            self._check_fork()
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()
