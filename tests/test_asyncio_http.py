"""AsyncioClient's own HTTP/1.1: framing, keep-alive, limits and timeouts on the wire.

A small asyncio server answers with exact bytes (chunked bodies, interim
answers, broken heads, trickles), so each case fails if the client reads a
byte too many or too few, reuses a connection it must not, or waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import ticketpulse

pytestmark = pytest.mark.anyio

KEY = "tp_live_http_S3CRET_0123456789"
Handler = Callable[[bytes, int, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def ok(body: bytes, *extra: str) -> bytes:
    head = "".join(f"{line}\r\n" for line in extra)
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n{head}\r\n".encode()
        + body
    )


class Wire:
    """A loopback server: each request (head and body) goes to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.open = 0
        self.peak = 0
        self.requests: list[bytes] = []
        self.readers: dict[int, asyncio.StreamReader] = {}
        self.closed = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.peak = max(self.peak, self.open)
        number = self.connections
        self.readers[number] = reader
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                await self.handler(request, number, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            self.closed.set()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/tp-api"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


@contextlib.asynccontextmanager
async def serving(handler: Handler, **kwargs: Any) -> AsyncIterator[tuple[Wire, Any]]:
    wire = Wire(handler)
    async with (
        wire as base_url,
        ticketpulse.AsyncioClient(KEY, base_url=base_url, **kwargs) as client,
    ):
        yield wire, client


def answering(*answers: bytes) -> Handler:
    """Each request gets the next answer (the last one repeats)."""
    queue = list(answers)

    async def handler(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(queue.pop(0) if len(queue) > 1 else queue[0])

    return handler


async def test_keep_alive_connections_are_reused() -> None:
    async with serving(answering(ok(b"[]"))) as (wire, client):
        for _ in range(3):
            assert await client.get_events() == []
    assert wire.connections == 1
    assert wire.requests[0].startswith(b"GET /tp-api/events?key=" + KEY.encode() + b" HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in wire.requests[0]


async def test_a_chunked_answer_with_extensions_and_trailers() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1;name=value\r\n[\r\n"
        b"0001\r\n]\r\n"
        b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    async with serving(answering(chunked)) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []  # the connection was left in step
    assert wire.connections == 1


async def test_interim_answers_are_skipped() -> None:
    async with serving(answering(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"[]"))) as (_, client):
        assert await client.get_events() == []


async def test_an_answer_ended_by_closing_is_read_whole_and_not_reused() -> None:
    async def until_close(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n[]")
        writer.close()

    async with serving(until_close) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []
    assert wire.connections == 2


async def test_connection_close_is_honoured() -> None:
    async with serving(answering(ok(b"[]", "Connection: close"))) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []
    assert wire.connections == 2


async def test_bytes_beyond_the_answer_end_the_connection() -> None:
    async with serving(answering(ok(b"[]") + b"HTTP/1.1 200 OK\r\n")) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []
    assert wire.connections == 2


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "not HTTP/1.1"),
        (b"HTTP/1.1 200 OK\r\n bad folding\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid size"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "too large"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[]", "before the end of its answer"),
        (b"", "without answering"),
    ],
    ids=[
        "http2",
        "folding",
        "two-lengths",
        "negative-length",
        "gzip",
        "bad-chunk",
        "upgrade",
        "huge-head",
        "short-body",
        "nothing",
    ],
)
async def test_a_broken_answer_is_a_connection_error(answer: bytes, says: str) -> None:
    async def broken(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(answer)
        await writer.drain()
        writer.close()

    async with serving(broken, max_retries=0) as (_, client):
        with pytest.raises(ticketpulse.APIConnectionError, match=says) as caught:
            await client.get_events()
        assert KEY not in str(caught.value)
        # A broken order is "unknown": it was sent.
        with pytest.raises(ticketpulse.OrderOutcomeUnknownError):
            await client.mark_order_processing(1)


async def test_a_trickling_answer_is_not_a_timeout_but_silence_is() -> None:
    async def trickle(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
        await writer.drain()
        for part in (b"[", b" ", b" ", b"]"):
            await asyncio.sleep(0.2)  # each gap well under the 0.5 s read timeout; in all more
            writer.write(part)
            await writer.drain()

    timeout = httpx.Timeout(5.0, read=0.5)
    async with serving(trickle, timeout=timeout, max_retries=0) as (_, client):
        assert await client.get_events() == []

    async def silent(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)

    async with serving(silent, timeout=timeout, max_retries=0) as (_, client):
        with pytest.raises(ticketpulse.APITimeoutError):
            await client.get_events()


async def test_a_cancelled_call_closes_its_connection() -> None:
    started = asyncio.Event()
    seen_closed = asyncio.Event()
    wire: Wire

    async def slow(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        started.set()
        if await wire.readers[number].read() == b"":  # the client hung up
            seen_closed.set()

    async with serving(slow) as (wire, client):
        task = asyncio.ensure_future(client.get_events())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(seen_closed.wait(), 5)


async def test_connections_stay_within_the_pool_and_a_full_pool_times_out_unsent() -> None:
    gate = asyncio.Event()

    async def held(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        await gate.wait()
        writer.write(ok(b"[]"))

    timeout = httpx.Timeout(5.0, pool=0.2)
    async with serving(held, timeout=timeout, max_retries=0) as (wire, client):
        client._executor._pool._limit = 3
        calls = [asyncio.ensure_future(client.get_events()) for _ in range(10)]
        while len(wire.requests) < 3:  # the pool is full
            await asyncio.sleep(0.01)
        with pytest.raises(ticketpulse.APITimeoutError) as caught:
            await client.mark_order_processing(1)  # waits for the pool: never sent
        assert type(caught.value) is ticketpulse.APITimeoutError  # not "outcome unknown"
        assert "PoolTimeout" in str(caught.value)
        gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
    assert wire.peak == 3
    assert sum(1 for r in results if r == []) >= 3  # the rest may time out waiting
    assert all(r == [] or isinstance(r, ticketpulse.APITimeoutError) for r in results)
    assert not any(b"orders/create" in r for r in wire.requests)


async def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    async def once(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(ok(b"Order created" if b"/orders/create" in request else b"[]"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # the server's keep-alive timeout, between two calls

    async with serving(once, max_retries=0) as (wire, client):
        assert await client.get_events() == []
        await asyncio.wait_for(wire.closed.wait(), 5)
        await asyncio.sleep(0.05)
        await client.mark_order_processing(1)  # a fresh connection: sent once, answered
    assert wire.connections == 2


async def test_redirects_are_not_followed() -> None:
    moved = (
        b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n"
    )
    async with serving(answering(moved), max_retries=0) as (wire, client):
        with pytest.raises(ticketpulse.TicketPulseError):
            await client.get_events()
    assert len(wire.requests) == 1


async def test_a_streamed_download_in_chunks(tmp_path: Any) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    pieces = [payload[i : i + 100_000] for i in range(0, len(payload), 100_000)]
    chunked = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    async with serving(answering(chunked)) as (_, client):
        base = client.base_url.removesuffix("/tp-api")
        url = ticketpulse.SignedURL(
            f"{base}/files/tickets/ticket_1.png?secret=abc",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        written = await client.download(url, tmp_path)
    assert written.read_bytes() == payload


async def test_tls_is_verified_against_the_host_name(monkeypatch: pytest.MonkeyPatch) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    monkeypatch.setattr("ticketpulse._base.ssl_context", lambda: trusting)

    async def served(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(ok(b"[]"))
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(served, "127.0.0.1", 0, ssl=server_context)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ticketpulse.AsyncioClient(KEY, base_url=f"https://localhost:{port}/tp-api") as c:
            assert await c.get_events() == []
            assert await c.get_events() == []  # over the same TLS connection
        # The certificate names localhost, not 127.0.0.1: refused, nothing sent.
        async with ticketpulse.AsyncioClient(
            KEY, base_url=f"https://127.0.0.1:{port}/tp-api", max_retries=0
        ) as c:
            with pytest.raises(ticketpulse.APIConnectionError, match="certificate") as caught:
                await c.create_order(
                    ticketpulse.NewOrder(
                        wp_user_id=1, order_lines=[ticketpulse.OrderLine("GA", 1, 1, 1)]
                    )
                )
            assert type(caught.value) is ticketpulse.APIConnectionError  # not "unknown"
    finally:
        server.close()
        await server.wait_closed()


def test_an_order_is_not_sent_into_a_connection_the_server_just_closed() -> None:
    # The server closes the kept-alive connection after its first answer; the
    # loop does not run between that and the order, so only a look at the
    # socket can tell the connection is dead.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    first_answered = threading.Event()
    closed = threading.Event()
    orders: list[bytes] = []

    def serve() -> None:
        with listener:
            first, _ = listener.accept()
            with first:
                first.recv(65536)
                first.sendall(ok(b"[]"))
                first_answered.set()
            closed.set()
            second, _ = listener.accept()
            with second:
                orders.append(second.recv(65536))
                second.sendall(ok(b"Order created"))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    async def run() -> None:
        async with ticketpulse.AsyncioClient(
            KEY, base_url=f"http://127.0.0.1:{port}/tp-api", max_retries=0
        ) as client:
            assert await client.get_events() == []
            assert closed.wait(5)
            time.sleep(0.05)  # the FIN reaches the socket; the loop is not running
            await client.mark_order_processing(1)

    asyncio.run(run())
    thread.join(5)
    assert len(orders) == 1
    assert orders[0].startswith(b"POST /tp-api/orders/create?key=")
