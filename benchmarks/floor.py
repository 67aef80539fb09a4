"""The floor: the least a Python HTTP/1.1 client on asyncio can do per request (never shipped).

A yardstick for the client CPU per request of the bulk benchmark, not a
client: one ``asyncio.BufferedProtocol`` per keep-alive connection, requests
written as one f-string (the query not percent-encoded: the bench's ids and
key need none), answers framed naively (the head ends at the first blank
line, the body is ``Content-Length`` bytes; no chunked coding, no limits, no
timeouts, no retries), the body read with ``json.loads``. ``concurrency``
workers each own one connection and take the next id from a shared iterator.
TLS through the loop's ``ssl=`` like any asyncio client.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FloorClient"]


class _Connection(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = memoryview(bytearray(65536))
        self.data = bytearray()
        self.waiter: asyncio.Future[tuple[bytes, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = self.data
        data += self.buffer[:nbytes]
        end = data.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(data[:end]).lower()
        start = head.index(b"content-length:") + 15
        stop = head.find(b"\r\n", start)
        size = end + 4 + int(head[start : stop if stop >= 0 else None])
        if len(data) >= size:
            waiter, self.waiter = self.waiter, None
            waiter.set_result((head[9:12], bytes(data[end + 4 : size])))
            del data[:size]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def send(self, request: bytes) -> asyncio.Future[tuple[bytes, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.waiter


class FloorClient:
    """``get_ticket_urls`` over kept-alive connections (reused from one call to the next)."""

    def __init__(self, base_url: str, key: str, ssl_context: ssl.SSLContext | None = None) -> None:
        url = urlsplit(base_url)
        self._host, self._path = url.hostname or "127.0.0.1", url.path + "/users/get-ticket"
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._ssl = ssl_context if url.scheme == "https" else None
        self._head = f"HTTP/1.1\r\nHost: {url.netloc}\r\nAccept: application/json\r\n\r\n"
        self._key = key
        self._idle: list[_Connection] = []

    async def _connection(self) -> _Connection:
        if self._idle:
            return self._idle.pop()
        _, connection = await asyncio.get_running_loop().create_connection(
            _Connection, self._host, self._port, ssl=self._ssl
        )
        return connection

    async def get_ticket_urls(
        self, ids: Sequence[str], *, user_id: int, concurrency: int
    ) -> list[Any]:
        results: list[Any] = [None] * len(ids)
        indexes = iter(range(len(ids)))
        prefix = f"GET {self._path}?wp_user_id={user_id}&key={self._key}&ticket_id="

        async def work() -> None:
            connection = await self._connection()
            for index in indexes:
                request = f"{prefix}{ids[index]} {self._head}".encode()
                status, body = await connection.send(request)
                if status != b"200":
                    raise RuntimeError(f"{status!r} for {ids[index]}")
                results[index] = json.loads(body)
            self._idle.append(connection)

        await asyncio.gather(*(work() for _ in range(min(concurrency, len(ids)))))
        return results

    def close(self) -> None:
        for connection in self._idle:
            if connection.transport is not None:
                connection.transport.close()
        self._idle.clear()
