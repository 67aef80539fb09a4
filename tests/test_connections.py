"""The async clients' own connections on the wire: framing, keep-alive, pools, timeouts.

Both AsyncClient(transport="builtin") (the SDK's own HTTP/1.1) and the default
AsyncClient (its own slots of guarded httpcore connections over an asyncio
network backend) run every case that is about connections; the framing and
broken-answer cases are the builtin parser's. A small asyncio server answers with exact
bytes (chunked bodies, interim answers, broken heads, trickles), so each case
fails if a client reads a byte too many or too few, reuses a connection it
must not, or waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
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
from tests._clients import client_class

pytestmark = pytest.mark.anyio

KEY = "tp_live_http_S3CRET_0123456789"
Handler = Callable[[bytes, int, asyncio.StreamWriter], Awaitable[None]]


def _loops() -> list[Any]:
    loops: list[Any] = [pytest.param("asyncio", id="asyncio")]
    try:
        import uvloop  # noqa: F401
    except ImportError:  # pragma: no cover - uvloop is in the test group (not on Windows)
        return loops
    loops.append(pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"))
    return loops


@pytest.fixture(params=_loops())
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """asyncio's own loop, and uvloop (its transports are not asyncio's classes)."""
    return request.param


Client = type[ticketpulse.AsyncClient]


@pytest.fixture(params=["AsyncClient[builtin]", "AsyncClient"])
def client_type(request: pytest.FixtureRequest) -> Client:
    """Each async client with connections of the SDK's own."""
    chosen: Client = client_class(request.param)
    return chosen


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


BUILTIN: Client = client_class("AsyncClient[builtin]")


@contextlib.asynccontextmanager
async def serving(
    handler: Handler, client_type: Client = BUILTIN, **kwargs: Any
) -> AsyncIterator[tuple[Wire, Any]]:
    wire = Wire(handler)
    async with (
        wire as base_url,
        client_type(KEY, base_url=base_url, **kwargs) as client,
    ):
        yield wire, client


def holding(gate: asyncio.Event) -> Handler:
    """Each request is answered ``[]`` once ``gate`` is set."""

    async def handler(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        await gate.wait()
        writer.write(ok(b"[]"))

    return handler


def answering(*answers: bytes) -> Handler:
    """Each request gets the next answer (the last one repeats)."""
    queue = list(answers)

    async def handler(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(queue.pop(0) if len(queue) > 1 else queue[0])

    return handler


async def test_keep_alive_connections_are_reused(client_type: Client) -> None:
    async with serving(answering(ok(b"[]")), client_type) as (wire, client):
        for _ in range(3):
            assert await client.get_events() == []
    assert wire.connections == 1
    assert wire.requests[0].startswith(b"GET /tp-api/events?key=" + KEY.encode() + b" HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in wire.requests[0]


async def test_a_bulk_run_gives_each_ticket_its_own_url(client_type: Client) -> None:
    # The builtin chains each worker's calls on its connection, writing the next
    # request from the read callback: on asyncio's transports and on uvloop's.
    async def handler(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        ticket = re.search(rb"ticket_id=(\w+)", request)
        assert ticket is not None
        writer.write(ok(b'"https://files.example/qr/' + ticket[1] + b'.png?secret=s"'))

    ids = [f"t{i}" for i in range(60)]
    async with serving(handler, client_type) as (wire, client):
        urls = await client.get_ticket_urls(ids, user_id=7, concurrency=4)
    assert [u.url for u in urls] == [f"https://files.example/qr/{i}.png?secret=s" for i in ids]
    assert len(wire.requests) == len(ids)
    assert wire.connections <= 4


async def test_a_chunked_answer_with_extensions_and_trailers(client_type: Client) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"1;name=value\r\n[\r\n"
        b"0001\r\n]\r\n"
        b"0\r\nX-Trailer: yes\r\n\r\n"
    )
    async with serving(answering(chunked), client_type) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []  # the connection was left in step
    assert wire.connections == 1


async def test_interim_answers_are_skipped(client_type: Client) -> None:
    async with serving(answering(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"[]")), client_type) as (
        _,
        client,
    ):
        assert await client.get_events() == []


async def test_an_answer_ended_by_closing_is_read_whole_and_not_reused(client_type: Client) -> None:
    async def until_close(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n[]")
        writer.close()

    async with serving(until_close, client_type) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []
    assert wire.connections == 2


async def test_connection_close_is_honoured(client_type: Client) -> None:
    async with serving(answering(ok(b"[]", "Connection: close")), client_type) as (wire, client):
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
        (b"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 status line"),
        (b"HTTP/1.1 200 OK\r\n bad folding\r\n\r\n", "folds a header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]", "conflicting"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid size"),
        (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", "head is larger"),
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


async def test_a_trickling_answer_is_not_a_timeout_but_silence_is(client_type: Client) -> None:
    async def trickle(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
        await writer.drain()
        for part in (b"[", b" ", b" ", b"]"):
            await asyncio.sleep(0.2)  # each gap well under the 0.5 s read timeout; in all more
            writer.write(part)
            await writer.drain()

    timeout = httpx.Timeout(5.0, read=0.5)
    async with serving(trickle, client_type, timeout=timeout, max_retries=0) as (_, client):
        assert await client.get_events() == []

    async def silent(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(2)

    async with serving(silent, client_type, timeout=timeout, max_retries=0) as (_, client):
        with pytest.raises(ticketpulse.APITimeoutError):
            await client.get_events()


async def test_a_cancelled_call_closes_its_connection(client_type: Client) -> None:
    started = asyncio.Event()
    seen_closed = asyncio.Event()
    wire: Wire

    async def slow(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        started.set()
        if await wire.readers[number].read() == b"":  # the client hung up
            seen_closed.set()

    async with serving(slow, client_type) as (wire, client):
        task = asyncio.ensure_future(client.get_events())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(seen_closed.wait(), 5)


async def test_connections_stay_within_the_pool_and_a_full_pool_times_out_unsent(
    client_type: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    held = holding(gate)
    timeout = httpx.Timeout(5.0, pool=0.2)
    async with serving(held, client_type, timeout=timeout, max_retries=0, max_connections=3) as (
        wire,
        client,
    ):
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


async def test_an_idle_connection_the_server_closed_is_not_reused(client_type: Client) -> None:
    async def once(request: bytes, number: int, writer: asyncio.StreamWriter) -> None:
        writer.write(ok(b"Order created" if b"/orders/create" in request else b"[]"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # the server's keep-alive timeout, between two calls

    async with serving(once, client_type, max_retries=0) as (wire, client):
        assert await client.get_events() == []
        await asyncio.wait_for(wire.closed.wait(), 5)
        await asyncio.sleep(0.05)
        await client.mark_order_processing(1)  # a fresh connection: sent once, answered
    assert wire.connections == 2


async def test_redirects_are_not_followed(client_type: Client) -> None:
    moved = (
        b"HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/\r\nContent-Length: 0\r\n\r\n"
    )
    async with serving(answering(moved), client_type, max_retries=0) as (wire, client):
        with pytest.raises(ticketpulse.TicketPulseError):
            await client.get_events()
    assert len(wire.requests) == 1


async def test_a_streamed_download_in_chunks(client_type: Client, tmp_path: Any) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB
    pieces = [payload[i : i + 100_000] for i in range(0, len(payload), 100_000)]
    chunked = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    async with serving(answering(chunked), client_type) as (_, client):
        base = client.base_url.removesuffix("/tp-api")
        url = ticketpulse.SignedURL(
            f"{base}/files/tickets/ticket_1.png?secret=abc",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        written = await client.download(url, tmp_path)
    assert written.read_bytes() == payload


async def test_tls_is_verified_against_the_host_name(
    client_type: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
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
        async with client_type(KEY, base_url=f"https://localhost:{port}/tp-api") as c:
            assert await c.get_events() == []
            assert await c.get_events() == []  # over the same TLS connection
        # The certificate names localhost, not 127.0.0.1: refused, nothing sent.
        async with client_type(
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


def test_an_order_is_not_sent_into_a_connection_the_server_just_closed(
    client_type: Client,
) -> None:
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
        async with client_type(
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


# --------------------------------------------------------------------------- pools


async def test_an_expired_keep_alive_connection_is_closed_and_replaced(
    client_type: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ticketpulse._base.KEEPALIVE_EXPIRY", 0.1)
    async with serving(answering(ok(b"[]")), client_type) as (wire, client):
        assert await client.get_events() == []
        assert await client.get_events() == []  # within the expiry: the same connection
        await asyncio.sleep(0.3)
        assert await client.get_events() == []
        await asyncio.wait_for(wire.closed.wait(), 5)  # the client hung up the old one
    assert wire.connections == 2


async def test_a_call_cancelled_while_it_waits_for_a_connection_leaves_none_taken(
    client_type: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = asyncio.Event()
    held = holding(gate)
    async with serving(held, client_type, max_retries=0, max_connections=1) as (wire, client):
        first = asyncio.ensure_future(client.get_events())
        while not wire.requests:
            await asyncio.sleep(0.01)
        waiting = asyncio.ensure_future(client.get_events())
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.set()
        assert await first == []
        assert await asyncio.wait_for(client.get_events(), 5) == []
    assert len(wire.requests) == 2  # the cancelled call was never sent
    assert wire.connections == 1


async def test_a_signed_file_url_on_another_host_gets_its_own_connection(
    client_type: Client, tmp_path: Any
) -> None:
    png = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 4\r\n\r\n\x89PNG"
    files = Wire(answering(png))
    async with files as files_base, serving(answering(ok(b"[]")), client_type) as (api, client):
        url = ticketpulse.SignedURL(
            files_base.removesuffix("/tp-api") + "/files/tickets/ticket_1.png?secret=abc",
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        assert await client.get_events() == []
        written = await client.download(url, tmp_path)
        assert await client.get_events() == []
    assert written.read_bytes() == b"\x89PNG"
    assert files.requests[0].startswith(b"GET /files/tickets/ticket_1.png?secret=abc HTTP/1.1")
    assert b"\r\nHost: 127.0.0.1:" in files.requests[0]
    assert KEY.encode() not in files.requests[0]
    assert len(api.requests) == 2


# --------------------------------------------------------------------------- the default client's
# own network backend (asyncio transports under httpcore)


async def test_the_default_client_uses_the_asyncio_backend_behind_a_guard() -> None:
    from ticketpulse._transport._guard import AsyncGuardedBackend

    async with serving(answering(ok(b"[]")), ticketpulse.AsyncClient) as (_, client):
        assert await client.get_events() == []
        assert await client.get_events() == []
        assert isinstance(client._transport._backend, AsyncGuardedBackend)


def serve_once(server_side: Callable[[socket.socket], object]) -> int:
    """A loopback port whose first connection a thread hands to ``server_side``."""
    listener = socket.create_server(("127.0.0.1", 0))
    port: int = listener.getsockname()[1]

    def serve() -> None:
        with listener:
            accepted, _ = listener.accept()
            with accepted:
                server_side(accepted)

    threading.Thread(target=serve, daemon=True).start()
    return port


async def _pair(server_side: Callable[[socket.socket], object]) -> Any:
    """A backend stream connected to a thread running ``server_side`` on the accepted socket."""
    from ticketpulse._transport._netbackend import AsyncioBackend

    return await AsyncioBackend().connect_tcp("127.0.0.1", serve_once(server_side), timeout=5)


async def test_backend_reads_in_pieces_and_reports_the_end() -> None:
    stream = await _pair(lambda s: s.sendall(b"abcdef"))
    try:
        assert await stream.read(4, timeout=5) == b"abcd"
        assert await stream.read(4, timeout=5) == b"ef"
        assert await stream.read(4, timeout=5) == b""  # the peer closed
        assert stream.get_extra_info("is_readable") is True
    finally:
        await stream.aclose()


async def test_backend_read_timeout_is_silence_since_the_last_byte() -> None:
    import httpcore

    released = threading.Event()

    def trickle(sock: socket.socket) -> None:
        for part in (b"a", b"b", b"c"):
            time.sleep(0.15)  # each gap under the 0.4 s timeout, all three over it
            sock.sendall(part)
        released.wait(5)

    stream = await _pair(trickle)
    try:
        got = b""
        while len(got) < 3:
            got += await stream.read(10, timeout=0.4)
        assert got == b"abc"
        assert stream.get_extra_info("is_readable") is False  # idle and open
        started = time.monotonic()
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(10, timeout=0.2)
        assert 0.15 < time.monotonic() - started < 2
        # A shorter timeout than the one armed before is honoured too.
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(10, timeout=0.05)
    finally:
        released.set()
        await stream.aclose()


async def test_backend_write_waits_for_room_and_times_out() -> None:
    import httpcore

    stop = threading.Event()
    stream = await _pair(lambda s: stop.wait(5))  # never reads

    async def flood() -> None:
        for _ in range(64):  # far more than the socket buffers hold
            await stream.write(b"x" * 1_000_000, timeout=0.2)

    try:
        with pytest.raises(httpcore.WriteTimeout):
            await flood()
    finally:
        stop.set()
        await stream.aclose()
    with pytest.raises(httpcore.WriteError):
        await stream.write(b"after close", timeout=1)


async def test_backend_connect_errors_are_httpcore_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpcore

    from ticketpulse._transport._netbackend import AsyncioBackend

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: refused
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)

    async def never(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(60)

    monkeypatch.setattr(asyncio.get_running_loop(), "create_connection", never)
    with pytest.raises(httpcore.ConnectTimeout):
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=0.05)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_under_trio_the_default_client_keeps_httpcores_own_backend() -> None:
    def answer_twice(accepted: socket.socket) -> None:
        for _ in range(2):
            accepted.recv(65536)
            accepted.sendall(ok(b"[]"))

    port = serve_once(answer_twice)
    async with ticketpulse.AsyncClient(KEY, base_url=f"http://127.0.0.1:{port}/tp-api") as client:
        assert await client.get_events() == []
        assert await client.get_events() == []  # kept alive
        assert client._transport._backend is not None  # httpcore's anyio backend, guarded
