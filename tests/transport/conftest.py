"""A hostile HTTP/1.1 server on loopback, and every client and transport to try it on.

``HostileServer`` is a raw TCP server in threads with blocking sockets, so it
serves asyncio, trio and blocking clients alike. It reads each request head
(and its ``Content-Length`` body) and answers with the bytes a test's *script*
chooses; by default it plays a tiny, correct Partner API:

- ``GET /tp-api/users/get-ticket?ticket_id=X`` -> ``200`` and the JSON string
  ``"https://files.example/qr/X.png?secret=S"``: every answer names its own
  ticket, so an answer handed to the wrong request is detectable;
- ``GET /tp-api/events`` -> a small valid list of events;
- any other path outside ``/tp-api/`` (a signed file URL pointed at the
  server) -> a PNG.

A script is ``script(request) -> answer | None`` (``None``: the default
answer). An answer is ``bytes``, or an iterable (a generator for endless
answers) of ``bytes`` to send, :class:`Pause` to wait, and :data:`CLOSE` to
close the connection. ``request`` carries its number on the connection, its
connection's index and its number on the whole server.

Everything is bounded: every socket has a timeout, every loop an upper bound
(bytes sent, actions, lifetime of a connection), and the server stops at the
fixture's teardown, shutting down every connection it holds.

The matrix: every test that takes the ``api`` / ``make_api`` fixture runs on
``AsyncClient`` x {httpx on asyncio, httpx on trio, builtin on asyncio,
aiohttp on asyncio} and ``Client`` x {httpx, builtin}. Blocking calls run in a
worker thread, so that a call that never ends fails the test at its bound
instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import importlib.util
import json
import re
import socket
import threading
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import anyio
import anyio.to_thread
import pytest

import ticketpulse

# --------------------------------------------------------------------------- constants

KEY = "tp_live_S3CRET/key+0123=456789"
"""The API key: its url-encoded form differs from the raw one (``/``, ``+``, ``=``)."""
QUOTED_KEY = quote(KEY, safe="")
SECRET = "eyJ0aWNrZXQiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA"
"""The ``secret`` of every signed URL the server hands out."""
USER = 7
INJECTED = "INJECTED"
"""The ticket a fake, smuggled answer names: it must never reach a caller."""

TIMEOUT = 1.0
"""The clients' timeout in seconds (connect, read, and the whole attempt)."""
CALL_BOUND = 10.0
"""No call may take longer than this, however hostile the server (10 x the timeout)."""
RSS_BOUND = 100 * 1024 * 1024
"""How much a hostile answer may grow the process's peak RSS."""

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17) + b"hostile-suite"

EVENTS: list[dict[str, Any]] = [
    {
        "id": 12,
        "name": "Summer Festival 2025",
        "city": "Amsterdam",
        "start_date": 1753920000,
        "end_date": 1754006400,
        "price": "29.95",
        "stock": 500,
        "status": 1,
        "tickets": [
            {
                "id": 45,
                "name": "General Admission",
                "stock": 400,
                "price": 29.95,
                "status": 1,
                "date": 1753920000,
                "enabled": True,
            }
        ],
        "children": [
            {
                "id": 13,
                "name": "Day 1 — Saturday",
                "status": 1,
                "stock": 250,
                "price": "15.00",
                "featured": False,
                "tickets": [],
                "manage_price_per_ticket": True,
                "manage_stock_per_ticket": True,
                "start_date": 1753920000,
                "end_date": 1753963200,
                "event_params": {},
                "password": None,
                "thumbnail": "event-13.jpg",
                "location": "Vondelpark",
                "deleted_at": None,
            }
        ],
    }
]
EVENTS_JSON = json.dumps(EVENTS).encode()


def ticket_url(ticket_id: str) -> str:
    """The signed URL the default server hands out for ``ticket_id``."""
    return f"https://files.example/qr/{ticket_id}.png?secret={SECRET}"


# --------------------------------------------------------------------------- answers


_REASONS = {
    100: "Continue",
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
}


def response(
    status: int = 200,
    body: bytes = b"",
    *,
    content_type: str | None = "application/json",
    headers: Iterable[str] = (),
    length: bool = True,
) -> bytes:
    """A well-formed HTTP/1.1 answer (``Content-Length`` framed unless ``length=False``)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if length:
        lines.append(f"Content-Length: {len(body)}")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def json_answer(value: Any, status: int = 200, *, headers: Iterable[str] = ()) -> bytes:
    return response(status, json.dumps(value).encode(), headers=headers)


def text_answer(status: int, text: str, *, headers: Iterable[str] = ()) -> bytes:
    return response(status, text.encode(), content_type="text/plain", headers=headers)


def ticket_answer(ticket_id: str) -> bytes:
    """The correct answer to get-ticket for ``ticket_id``."""
    return json_answer(ticket_url(ticket_id))


def chunked(body: bytes, size: int = 7) -> bytes:
    """``body`` in chunked coding (with the last chunk and an empty trailer section)."""
    parts = [
        f"{len(body[i : i + size]):x}\r\n".encode() + body[i : i + size] + b"\r\n"
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


@dataclass(frozen=True)
class Pause:
    """In a script's answer: wait this many seconds before sending on."""

    seconds: float


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


CLOSE = _Close()
"""In a script's answer: close the connection (nothing more is read or sent)."""

Action = bytes | Pause | _Close
Answer = bytes | Iterable[Action]


# --------------------------------------------------------------------------- the server


@dataclass
class Request:
    """One request as the server read it."""

    index: int
    """1-based number of the request on the whole server."""
    number: int
    """1-based number of the request on its connection."""
    connection: int
    """0-based index of its connection, in the order they were accepted."""
    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: list[tuple[str, str]]
    """(lower-cased name, value) in the order received."""
    head: bytes
    """The raw request head, request line to the empty line."""
    body: bytes

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    @property
    def ticket_id(self) -> str:
        return self.query.get("ticket_id", "")

    @property
    def is_ticket(self) -> bool:
        return self.path.endswith("/users/get-ticket")

    @property
    def is_events(self) -> bool:
        return self.path.endswith("/tp-api/events")


Script = Callable[[Request], Answer | None]


def default_answer(request: Request) -> bytes:
    """The answers of a correct Partner API (and file host)."""
    if request.is_ticket:
        return ticket_answer(request.ticket_id)
    if request.is_events:
        return response(200, EVENTS_JSON)
    if not request.path.startswith("/tp-api/"):  # a signed file URL pointed at the server
        return response(200, PNG, content_type="image/png")
    return text_answer(404, "Not found")


class _Stop(Exception):
    """The connection's handler gives up: server stopping, bound reached, peer gone."""


class HostileServer:
    """A loopback HTTP/1.1 server that answers with whatever bytes the test scripts.

    Bounds: ``MAX_CONNECTIONS`` accepted; ``MAX_REQUESTS`` per connection;
    ``LIFETIME`` seconds per connection; ``MAX_SENT`` bytes per connection;
    ``MAX_ACTIONS`` actions per answer; every socket operation times out after
    ``SOCKET_TIMEOUT`` (a blocked send: the client stopped reading).
    """

    MAX_CONNECTIONS = 1000
    MAX_REQUESTS = 1000
    LIFETIME = 30.0
    MAX_SENT = 512 * 1024 * 1024
    MAX_ACTIONS = 10_000_000
    MAX_HEAD = 64 * 1024
    MAX_BODY = 4 * 1024 * 1024
    SOCKET_TIMEOUT = 2.0
    IDLE_LIMIT = 30.0

    def __init__(self) -> None:
        self.script: Script | None = None
        self.requests: list[Request] = []
        self.connections = 0
        self.errors: list[str] = []
        """Exceptions raised by scripts (a broken test, not a broken client)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._socks: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(512)
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)

    # -- what tests use

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/tp-api"

    def heads(self) -> list[str]:
        """The raw heads of the requests received so far, decoded as latin-1."""
        with self._lock:
            return [r.head.decode("latin-1") for r in self.requests]

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def wait_quiet(self, seconds: float = 0.25) -> None:
        """Give a connection or request that is on its way time to be recorded."""
        time.sleep(seconds)

    # -- life cycle

    def start(self) -> HostileServer:
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        _shutdown(self._listener)  # wakes the blocked accept() at once (Linux)
        self._acceptor.join(5)
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            _shutdown(sock)
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._listener.close()

    # -- internals

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                index = self.connections
                self.connections += 1
                if index >= self.MAX_CONNECTIONS:
                    _shutdown(sock)
                    sock.close()
                    continue
                self._socks.add(sock)
            sock.settimeout(self.SOCKET_TIMEOUT)
            thread = threading.Thread(
                target=self._serve, args=(sock, index), name=f"hostile-{index}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, index: int) -> None:
        connection = _Connection(self, sock, index)
        try:
            connection.run()
        except (_Stop, OSError):
            pass
        except Exception as exc:
            self.errors.append("".join(traceback.format_exception(exc)))
        finally:
            with self._lock:
                self._socks.discard(sock)
            _shutdown(sock)
            sock.close()

    def _record(self, request: Request) -> None:
        with self._lock:
            request.index = len(self.requests) + 1
            self.requests.append(request)


def _shutdown(sock: socket.socket) -> None:
    # shutdown, not only close: a forked child may hold a copy of the descriptor.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class _Connection:
    def __init__(self, server: HostileServer, sock: socket.socket, index: int) -> None:
        self.server = server
        self.sock = sock
        self.index = index
        self.buffer = b""
        self.sent = 0
        self.started = time.monotonic()

    def check(self) -> None:
        if self.server._stop.is_set():
            raise _Stop("server stopping")
        if time.monotonic() - self.started > self.server.LIFETIME:
            raise _Stop("connection lifetime reached")

    def run(self) -> None:
        for number in range(1, self.server.MAX_REQUESTS + 1):
            request = self.read_request(number)
            if request is None:
                return
            answer: Answer | None = None
            if self.server.script is not None:
                answer = self.server.script(request)
            if answer is None:
                answer = default_answer(request)
            if self.send_answer(answer):
                return

    def recv_more(self) -> bool:
        """Read what is there into the buffer; False once the peer closed."""
        idle_since = time.monotonic()
        while True:
            self.check()
            try:
                self.sock.settimeout(0.1)
                data = self.sock.recv(65536)
            except TimeoutError:
                if time.monotonic() - idle_since > self.server.IDLE_LIMIT:
                    raise _Stop("idle") from None
                continue
            finally:
                self.sock.settimeout(self.server.SOCKET_TIMEOUT)
            if not data:
                return False
            self.buffer += data
            return True

    def read_request(self, number: int) -> Request | None:
        while b"\r\n\r\n" not in self.buffer:
            if len(self.buffer) > self.server.MAX_HEAD:
                raise _Stop("request head too large")
            if not self.recv_more():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = ([*lines[0].split(" ", 2), "", ""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        length = int(dict(headers).get("content-length", "0") or "0")
        if length > self.server.MAX_BODY:
            raise _Stop("request body too large")
        while len(self.buffer) < length:
            if not self.recv_more():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        parts = urlsplit(target)
        request = Request(
            index=0,  # set when recorded
            number=number,
            connection=self.index,
            method=method,
            target=target,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=headers,
            head=head + b"\r\n\r\n",
            body=body,
        )
        self.server._record(request)
        return request

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(view), 65536):
            self.check()
            self.sent += len(view[start : start + 65536])
            if self.sent > self.server.MAX_SENT:
                raise _Stop("send bound reached")
            self.sock.sendall(view[start : start + 65536])

    def send_answer(self, answer: Answer) -> bool:
        """Send an answer; True when the connection is to be closed."""
        if isinstance(answer, bytes | bytearray | memoryview):
            self.send(bytes(answer))
            return False
        for count, action in enumerate(answer):
            if count >= self.server.MAX_ACTIONS:
                raise _Stop("action bound reached")
            self.check()
            if isinstance(action, Pause):
                if self.server._stop.wait(action.seconds):
                    raise _Stop("server stopping")
            elif isinstance(action, _Close):
                return True
            else:
                self.send(bytes(action))
        return False


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer().start()
    try:
        yield hostile
    finally:
        hostile.stop()
    assert not hostile.errors, "a test script raised:\n" + "\n".join(hostile.errors)


def hostile_first(answer: Callable[[Request], Answer]) -> Script:
    """A script: the first get-ticket request gets ``answer(request)``, the rest the default."""

    def script(request: Request) -> Answer | None:
        if request.is_ticket and request.ticket_id == "t1" and request.index == 1:
            return answer(request)
        return None

    return script


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True)
class Flavor:
    """One client class on one transport on one event loop (or blocking)."""

    client: str  # "AsyncClient" | "Client"
    transport: str  # "httpx" | "builtin" | "aiohttp"
    backend: str  # "asyncio" | "trio"; blocking clients run under asyncio, in threads

    @property
    def is_async(self) -> bool:
        return self.client == "AsyncClient"

    @property
    def id(self) -> str:
        if self.is_async:
            return f"async-{self.transport}-{self.backend}"
        return f"sync-{self.transport}"


FLAVORS = [
    Flavor("AsyncClient", "httpx", "asyncio"),
    Flavor("AsyncClient", "httpx", "trio"),
    Flavor("AsyncClient", "builtin", "asyncio"),
    Flavor("AsyncClient", "aiohttp", "asyncio"),
    Flavor("Client", "httpx", "asyncio"),
    Flavor("Client", "builtin", "asyncio"),
]
_HAS_AIOHTTP = importlib.util.find_spec("aiohttp") is not None


def _flavor_param(flavor: Flavor) -> Any:
    marks = []
    if flavor.transport == "aiohttp" and not _HAS_AIOHTTP:
        marks.append(pytest.mark.skip(reason='needs aiohttp: pip install "ticketpulse[aiohttp]"'))
    return pytest.param(flavor, id=flavor.id, marks=marks)


@pytest.fixture(params=[_flavor_param(f) for f in FLAVORS])
def flavor(request: pytest.FixtureRequest) -> Flavor:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(flavor: Flavor) -> str:
    return flavor.backend


@dataclass
class Outcome:
    """What a call gave: its value or the exception it raised, and how long it took."""

    value: Any = None
    error: Exception | None = None
    elapsed: float = 0.0

    def typed(self) -> Outcome:
        """Assert the call gave a value or a TicketPulseError (nothing else), and return self."""
        if self.error is not None:
            assert isinstance(self.error, ticketpulse.TicketPulseError), (
                f"not a TicketPulseError: {describe(self.error)}"
            )
            assert not isinstance(self.error, BaseExceptionGroup), describe(self.error)
        return self

    def failed_with(self, *kinds: type[BaseException]) -> Exception:
        """Assert the call raised one of ``kinds``; return the exception."""
        kinds = kinds or (ticketpulse.TicketPulseError,)
        names = " / ".join(k.__name__ for k in kinds)
        assert self.error is not None, f"expected {names}, got the value {self.value!r}"
        assert isinstance(self.error, kinds), f"expected {names}, got {describe(self.error)}"
        return self.error


def describe(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))[-4000:]


class Api:
    """A client of any flavor behind one awaitable face, every call bounded in time.

    ``await api.call("get_events")`` returns the value or raises;
    ``await api.attempt(...)`` returns an :class:`Outcome`. Blocking clients run
    each call in a worker thread, abandoned (and failed) at the bound; the
    server's teardown then closes the sockets it blocks on.
    """

    def __init__(self, client: Any, flavor: Flavor) -> None:
        self.client = client
        self.flavor = flavor

    async def attempt(
        self, method: str, *args: Any, bound: float = CALL_BOUND, **kw: Any
    ) -> Outcome:
        outcome = Outcome()
        started = time.monotonic()
        with anyio.move_on_after(bound) as scope:
            try:
                if self.flavor.is_async:
                    outcome.value = await getattr(self.client, method)(*args, **kw)
                else:
                    call = functools.partial(getattr(self.client, method), *args, **kw)
                    outcome.value = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
            except Exception as exc:
                outcome.error = exc
        outcome.elapsed = time.monotonic() - started
        if scope.cancelled_caught:
            pytest.fail(f"{method}() did not end within {bound} s against the hostile server")
        return outcome

    def with_options(self, **options: Any) -> Api:
        """The client's ``with_options`` copy (it shares the client's connection pool)."""
        return Api(self.client.with_options(**options), self.flavor)

    async def call(self, method: str, *args: Any, bound: float = CALL_BOUND, **kw: Any) -> Any:
        outcome = await self.attempt(method, *args, bound=bound, **kw)
        if outcome.error is not None:
            raise outcome.error
        return outcome.value

    async def iterate(self, ticket_ids: list[str], **kw: Any) -> Outcome:
        """``iter_ticket_urls`` run to its end: the list of its TicketURLResults."""
        client = self.client
        if self.flavor.is_async:

            async def collect() -> list[Any]:
                async with client.iter_ticket_urls(ticket_ids, user_id=USER, **kw) as results:
                    return [r async for r in results]

            self.client = _Collector(collect)
        else:

            def collect_blocking() -> list[Any]:
                with client.iter_ticket_urls(ticket_ids, user_id=USER, **kw) as results:
                    return list(results)

            self.client = _Collector(collect_blocking)
        try:
            return await self.attempt("collect")
        finally:
            self.client = client

    async def ticket(self, ticket_id: str, **kw: Any) -> Outcome:
        return await self.attempt("get_ticket_url", ticket_id, user_id=USER, **kw)

    async def expect_own_answer(self, ticket_id: str = "follow-up") -> None:
        """A follow-up call on the same client must get its own, correct answer."""
        outcome = await self.ticket(ticket_id)
        assert outcome.error is None, f"the follow-up call failed: {describe(outcome.error)}"
        assert_ticket(outcome.value, ticket_id)

    async def close(self) -> None:
        with anyio.fail_after(CALL_BOUND):
            if self.flavor.is_async:
                await self.client.aclose()
            else:
                await anyio.to_thread.run_sync(self.client.close, abandon_on_cancel=True)


@dataclass
class _Collector:
    collect: Callable[[], Any]


def assert_ticket(value: Any, ticket_id: str) -> None:
    """``value`` is the SignedURL of ``ticket_id`` (not another ticket's, not INJECTED)."""
    assert isinstance(value, ticketpulse.SignedURL), f"not a SignedURL: {value!r}"
    assert value.url == ticket_url(ticket_id), f"ticket {ticket_id} got {value.url!r}"


@pytest.fixture
async def make_api(flavor: Flavor, server: HostileServer) -> AsyncIterator[Callable[..., Api]]:
    """Build clients of the test's flavor against ``server``; closed after the test."""
    made: list[Api] = []

    def make(**kwargs: Any) -> Api:
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("base_url", server.base_url)
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("max_retries", 0)
        cls = getattr(ticketpulse, flavor.client)
        api = Api(cls(transport=flavor.transport, **kwargs), flavor)
        made.append(api)
        return api

    yield make
    for api in made:
        await api.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


# --------------------------------------------------------------------------- memory


def _status_kib(field_name: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    assert match, f"/proc/self/status has no {field_name}"
    return int(match.group(1))


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class PeakRSS:
    """The growth of the process's peak RSS during a block (Linux).

    The peak is reset first (``/proc/self/clear_refs``); where that is not
    allowed, a thread samples VmRSS every 2 ms instead.
    """

    baseline: int = 0
    peak: int = 0
    _sampler: threading.Thread | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        _malloc_trim()  # memory freed by earlier tests must not hide this block's growth
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self._reset = True
        except OSError:
            self._reset = False
            self._sampler = threading.Thread(target=self._sample, daemon=True)
        self.baseline = _status_kib("VmRSS") * 1024
        self.peak = self.baseline
        if self._sampler is not None:
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.002):
            self.peak = max(self.peak, _status_kib("VmRSS") * 1024)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._sampler is not None:
            self._sampler.join(1)
        if self._reset:
            self.peak = max(self.peak, _status_kib("VmHWM") * 1024)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


# --------------------------------------------------------------------------- bombs


@pytest.fixture(scope="session")
def gzip_bomb() -> bytes:
    """A gzip member that inflates to 512 MiB of zeros (~0.5 MB on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(512)]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()
