"""The benchmark server: the sandbox with N activated tickets, on a fast server.

Run as its own process (``python -m benchmarks.server --n 5000``), pinned to
a core of its own by the runner. The sandbox holds one account, one event,
one ticket type with stock N and one order of N tickets for one user, every
ticket activated (status 2), so ``GET /tp-api/users/get-ticket`` answers 200
with a signed URL for each.

``--server`` picks what serves it: ``httptools`` (uvloop and httptools with
no framework between them and the app, :class:`_HTTPProtocol`), granian over
RSGI or ASGI, or uvicorn. The module-level :data:`app` is an ASGI application
that also speaks RSGI (granian needs an importable target:
``benchmarks.server:app``). ``--certfile`` and ``--keyfile`` make it serve
HTTPS only (the runner's https mode, with a certificate of a ``trustme`` CA).
It builds the sandbox on lifespan startup (or the first request) from the
environment:

- ``TICKETPULSE_BENCH_N``: how many tickets (default 5000);
- ``TICKETPULSE_BENCH_DELAY_MS``: the sandbox's per-request delay (default 0);
- ``TICKETPULSE_BENCH_INFO``: a file to write ``{"key", "user_id", "ids"}`` to;
- ``TICKETPULSE_BENCH_SCHEME``: ``https`` when it serves TLS (``--certfile`` and
  ``--keyfile``), so that the signed URLs it hands out are https (default http).

Besides the sandbox's own routes it answers a few control routes, called by
the runner only between timed runs:

- ``GET /_bench/ping``: a constant JSON string the size of a signed URL, without
  the sandbox (what the server alone can do);
- ``GET /_bench/info``: the key, the user id and the ticket ids (JSON);
- ``GET /_bench/delay?ms=10``: set the sandbox's per-request delay;
- ``GET /_bench/stats``: requests received (by status) since the last call,
  how long replayed answers were held by the delay (in all, and how many),
  and this process's CPU time; the sandbox's request log is then cleared (it
  would otherwise grow by every request of the run).

The delay is the sandbox's own: its ASGI app waits with ``anyio.sleep`` (an
async sleep racing the client's disconnect), the httptools server with a
``call_later``, so one worker holds any number of waiting requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import httptools

from ticketpulse.testing import Delivery, HTTPRequest, Sandbox

__all__ = ["BENCH_KEY", "BENCH_USER", "BenchApp", "app", "build_sandbox", "main"]

BENCH_KEY = "tp_bench_0123456789abcdef"
BENCH_USER = 4242
GET_TICKET = "/tp-api/users/get-ticket"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def build_sandbox(n: int, delay: float = 0.0) -> tuple[Sandbox, dict[str, Any]]:
    """A sandbox with ``n`` active tickets of one user, and what a client needs to ask for them."""
    sandbox = Sandbox(delay=delay)
    account = sandbox.add_account(BENCH_KEY, name="Bench")
    event = sandbox.add_event(
        account, name="Benchmark Festival", city="Loopback", start=datetime(2030, 7, 31, tzinfo=UTC)
    )
    ticket_type = sandbox.add_ticket_type(event, name="General Admission", price="29.95", stock=n)
    order = sandbox.add_order(account, wp_user_id=BENCH_USER, items={ticket_type.id: n})
    ids = list(order.ticket_refs)
    for reference in ids:
        sandbox.activate_ticket(reference)
    assert len(ids) == n, (len(ids), n)
    info = {"key": BENCH_KEY, "user_id": BENCH_USER, "ids": ids}
    return sandbox, info


_PING = json.dumps("http://127.0.0.1/files/tickets/ticket_a3f9b.png?secret=" + "x" * 150).encode()


def _json_response(value: Any) -> tuple[int, bytes]:
    return 200, json.dumps(value).encode()


class BenchApp:
    """The sandbox's ASGI app plus the ``/_bench/`` control routes.

    ``TICKETPULSE_BENCH_APP=replay`` answers ``GET /tp-api/users/get-ticket``
    for the bench user's tickets from a table of the sandbox's own answers
    (status, headers and body, byte for byte, made by the sandbox at startup
    for the Host ``TICKETPULSE_BENCH_HOST``), waiting the delay with
    ``asyncio.sleep``; every other request goes to the live sandbox. It takes
    the sandbox's per-request Python work out of the server, which otherwise
    caps the throughput any client can reach.
    """

    def __init__(self) -> None:
        self.sandbox: Sandbox | None = None
        self.info: dict[str, Any] = {}
        self.mode = "sandbox"
        self.host = "127.0.0.1:8765"  # host[:port] of signed URLs when a request has no Host
        self.scheme = "http"  # of the signed URLs: https when served over TLS
        self.delay = 0.0
        self.statuses: Counter[str] = Counter()
        self.held = 0.0  # seconds replayed answers were held (the delay as slept), in all
        self.held_count = 0
        self._inner: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None
        self._table: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
        self._rsgi_table: dict[str, tuple[int, list[tuple[str, str]], bytes]] = {}
        self._raw_table: dict[str, tuple[int, bytes]] = {}  # the httptools server's, rendered

    def build(self) -> None:
        if self.sandbox is not None:
            return
        n = int(os.environ.get("TICKETPULSE_BENCH_N", "5000"))
        self.delay = float(os.environ.get("TICKETPULSE_BENCH_DELAY_MS", "0")) / 1000
        self.mode = os.environ.get("TICKETPULSE_BENCH_APP", "sandbox")
        self.host = os.environ.get("TICKETPULSE_BENCH_HOST", self.host)
        self.scheme = os.environ.get("TICKETPULSE_BENCH_SCHEME", self.scheme)
        self.sandbox, self.info = build_sandbox(n, self.delay)
        self.info["app"] = self.mode
        self._inner = self.sandbox.asgi_app
        if self.mode == "replay":
            self._record(self.host)
        target = os.environ.get("TICKETPULSE_BENCH_INFO")
        if target:
            with open(target, "w", encoding="utf-8") as file:
                json.dump(self.info, file)

    def _record(self, host: str) -> None:
        assert self.sandbox is not None
        key, user = self.info["key"], self.info["user_id"]
        for ticket_id in self.info["ids"]:
            request = HTTPRequest(
                method="GET",
                path=GET_TICKET,
                query=f"wp_user_id={user}&ticket_id={ticket_id}&key={key}",
                headers=[("host", host)],
                scheme=self.scheme,
            )
            answer = self.sandbox.app.respond(request)
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
            self._table[ticket_id] = (answer.status, headers, answer.body)
            self._rsgi_table[ticket_id] = (answer.status, list(answer.headers), answer.body)
            self._raw_table[ticket_id] = (
                answer.status,
                _render(answer.status, answer.headers, answer.body),
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.startup":
                    try:
                        self.build()
                    except Exception as exc:
                        message = f"{type(exc).__name__}: {exc}"
                        await send({"type": "lifespan.startup.failed", "message": message})
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.build()
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/_bench/"):
            await self._control(scope, send)
            return
        if self._table and path == GET_TICKET and scope["method"] == "GET":
            answer = self._replayed(scope["query_string"].decode("latin-1"))
            if answer is not None:
                await self._hold()
                status, headers, body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                self.statuses[str(status)] += 1
                return
        assert self._inner is not None
        statuses = self.statuses

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                statuses[str(message["status"])] += 1
            await send(message)

        await self._inner(scope, receive, counting_send)

    async def _hold(self) -> None:
        """Wait the delay (if any), counting how long the wait really took."""
        if self.delay:
            started = time.perf_counter()
            await asyncio.sleep(self.delay)
            self.held += time.perf_counter() - started
            self.held_count += 1

    def _replayed(self, query: str) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        ticket_id = self._replayed_id(query)
        return None if ticket_id is None else self._table.get(ticket_id)

    def _replayed_id(self, query: str) -> str | None:
        """The ticket id asked for, when the key and user are the bench's."""
        params = dict(part.partition("=")[::2] for part in query.split("&"))
        if params.get("key") != self.info["key"]:
            return None
        if params.get("wp_user_id") != str(self.info["user_id"]):
            return None
        return params.get("ticket_id")

    async def _control(self, scope: Scope, send: Send) -> None:
        query = scope.get("query_string", b"").decode()
        status, body = self._control_answer(scope["path"].removeprefix("/_bench/"), query)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _control_answer(self, name: str, raw_query: str) -> tuple[int, bytes]:
        assert self.sandbox is not None
        query = parse_qs(raw_query)
        if name == "ping":  # the server's ceiling: an answer like get-ticket's, no sandbox
            return 200, _PING
        if name == "info":
            return _json_response({**self.info, "pid": os.getpid(), "delay": self.delay})
        if name == "delay":
            self.delay = self.sandbox.delay = float(query["ms"][0]) / 1000
            return _json_response({"delay": self.delay})
        if name == "stats":
            self.sandbox.requests.clear()  # the sandbox's log would grow with every request
            statuses, self.statuses = dict(self.statuses), Counter()
            held, held_count, self.held, self.held_count = self.held, self.held_count, 0.0, 0
            times = os.times()
            return _json_response(
                {
                    "requests": sum(statuses.values()),
                    "statuses": statuses,
                    "held": held,
                    "held_count": held_count,
                    "cpu": times.user + times.system,
                    "clock": time.monotonic(),
                }
            )
        return 404, b"unknown control route"

    # granian's RSGI interface: the same answers, with less of the server's own
    # work per request than ASGI's message dicts (replay and control routes; any
    # other request is answered by the live sandbox at once, without its delay).

    def __rsgi_init__(self, loop: object) -> None:
        self.build()

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        path: str = scope.path
        if path.startswith("/_bench/"):
            status, body = self._control_answer(path.removeprefix("/_bench/"), scope.query_string)
            protocol.response_bytes(status, [("content-type", "application/json")], body)
            return
        if self._table and path == GET_TICKET and scope.method == "GET":
            ticket_id = self._replayed_id(scope.query_string)
            answer = None if ticket_id is None else self._rsgi_table.get(ticket_id)
            if answer is not None:
                await self._hold()
                status, headers, body = answer
                protocol.response_bytes(status, headers, body)
                self.statuses[str(status)] += 1
                return
        assert self.sandbox is not None
        request = HTTPRequest(
            method=scope.method,
            path=path,
            query=scope.query_string,
            headers=list(scope.headers.items()),
            body=await protocol(),
            scheme=self.scheme,
        )
        live = self.sandbox.app.respond(request)
        protocol.response_bytes(live.status, list(live.headers), live.body)
        self.statuses[str(live.status)] += 1


app = BenchApp()
"""The ASGI target: ``benchmarks.server:app``."""


def _render(status: int, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """One HTTP/1.1 answer, as bytes (the sandbox's headers carry content-length)."""
    head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    head += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class _Answer:
    """One request's answer on a connection; answers are written in request order.

    ``data`` is None until the answer is ready; ``rest`` is a stalled body's
    second half, written ``stall`` seconds after the first; ``status`` 0 is
    not counted (control routes, drops).
    """

    __slots__ = ("close", "data", "rest", "stall", "started", "status", "timer")

    def __init__(self, close: bool) -> None:
        self.status = 0
        self.data: bytes | None = None
        self.rest: bytes | None = None
        self.stall = 0.0
        self.close = close
        self.timer: asyncio.TimerHandle | None = None
        self.started = 0.0


class _HTTPProtocol(asyncio.Protocol):
    """One connection of the ``httptools`` server: HTTP/1.1 parsed by httptools.

    A replayed get-ticket is answered from pre-rendered bytes after the delay,
    by one ``call_later`` (no task, no coroutine per request). Control routes
    are answered at once; every other request goes to the live sandbox
    (:meth:`SandboxApp.exchange`: its delay and faults, as its ASGI app
    delivers them). Pipelined requests are answered in order.
    """

    def __init__(self, bench: BenchApp) -> None:
        self.bench = bench
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.answers: deque[_Answer] = deque()
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        for answer in self.answers:
            if answer.timer is not None:
                answer.timer.cancel()
        self.answers.clear()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.write(_render(400, [("content-length", "0")], b""))
                self.transport.close()
                self.connection_lost(None)

    # httptools' callbacks

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        bench = self.bench
        answer = _Answer(close=not self.parser.should_keep_alive())
        self.answers.append(answer)
        method = self.parser.get_method().decode("latin-1")
        path, _, query = self.url.decode("latin-1").partition("?")
        if bench._raw_table and path == GET_TICKET and method == "GET":
            ticket_id = bench._replayed_id(query)
            replayed = None if ticket_id is None else bench._raw_table.get(ticket_id)
            if replayed is not None:
                answer.status, data = replayed
                self._after(bench.delay, answer, data, held=True)
                return
        if path.startswith("/_bench/"):
            status, body = bench._control_answer(path.removeprefix("/_bench/"), query)
            headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
            self._ready(answer, _render(status, headers, body))
            return
        assert bench.sandbox is not None
        request = HTTPRequest(
            method=method,
            path=path,
            query=query,
            headers=self.headers,
            body=b"".join(self.body),
            scheme=bench.scheme,
            server=bench.host,
        )
        exchange = bench.sandbox.app.exchange(request)
        live = exchange.response
        if live is None:  # a drop: close without answering
            answer.close = True
            self._after(exchange.delay, answer, b"")
            return
        answer.status = live.status
        head = _render(live.status, live.headers, b"")
        body = b"" if method == "HEAD" else live.body
        if exchange.delivery is Delivery.TRUNCATE:  # the full length promised, half sent
            answer.close = True
            body = body[: exchange.split]
        elif exchange.delivery is Delivery.STALL_BODY:
            answer.rest, answer.stall = body[exchange.split :], exchange.body_stall
            body = body[: exchange.split]
        self._after(exchange.delay, answer, head + body)

    def _after(self, delay: float, answer: _Answer, data: bytes, *, held: bool = False) -> None:
        """Make ``answer`` ready with ``data`` after ``delay`` seconds (at once if 0)."""
        if not delay:
            self._ready(answer, data)
            return
        answer.started = time.perf_counter()
        answer.timer = self.loop.call_later(delay, self._held, answer, data, held)

    def _held(self, answer: _Answer, data: bytes, counted: bool) -> None:
        if counted:
            self.bench.held += time.perf_counter() - answer.started
            self.bench.held_count += 1
        answer.timer = None
        self._ready(answer, data)

    def _resume(self, answer: _Answer) -> None:
        """A stalled body's pause is over: its rest goes out, then the answers after it."""
        answer.timer = None
        answer.data, answer.rest = answer.rest, None
        self._flush()

    def _ready(self, answer: _Answer, data: bytes) -> None:
        answer.data = data
        self._flush()

    def _flush(self) -> None:
        answers = self.answers
        while answers and (transport := self.transport) is not None:
            first = answers[0]
            if first.data is None or first.timer is not None:
                return
            transport.write(first.data)
            if first.status:
                self.bench.statuses[str(first.status)] += 1
                first.status = 0
            if first.rest is not None:
                first.timer = self.loop.call_later(first.stall, self._resume, first)
                return
            answers.popleft()
            if first.close:
                transport.close()
                self.connection_lost(None)


TLS = tuple[str, str] | None
"""The server's certificate chain and key files (PEM), or None for plain HTTP."""


def _serve_uvicorn(host: str, port: int, tls: TLS = None) -> None:
    import uvicorn

    uvicorn.run(
        "benchmarks.server:app",
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        backlog=2048,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )


def _serve_granian(host: str, port: int, tls: TLS = None, *, rsgi: bool = False) -> None:
    from pathlib import Path

    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.server import Server

    Server(
        "benchmarks.server:app",
        address=host,
        port=port,
        interface=Interfaces.RSGI if rsgi else Interfaces.ASGI,
        workers=1,
        runtime_threads=1,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        backlog=2048,
        log_enabled=True,
        ssl_cert=Path(tls[0]) if tls else None,
        ssl_key=Path(tls[1]) if tls else None,
    ).serve()


def _serve_granian_rsgi(host: str, port: int, tls: TLS = None) -> None:
    _serve_granian(host, port, tls, rsgi=True)


def _serve_httptools(host: str, port: int, tls: TLS = None) -> None:
    """uvloop and httptools with no framework between them and the app (SIGINT/SIGTERM stop it).

    With ``tls``, uvloop's TLS (OpenSSL through the ``ssl`` module) on every connection.
    """
    import signal
    import ssl

    import uvloop

    app.build()
    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls[0], tls[1])

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _HTTPProtocol(app), host, port, backlog=2048, ssl=context
        )
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with server:
            await stop.wait()

    uvloop.run(serve())


SERVERS = {
    "httptools": _serve_httptools,
    "uvicorn": _serve_uvicorn,
    "granian": _serve_granian,
    "granian-rsgi": _serve_granian_rsgi,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.server", description="Serve the benchmark sandbox."
    )
    parser.add_argument("--n", type=int, default=5000, help="tickets (5000)")
    parser.add_argument("--server", choices=sorted(SERVERS), default="granian")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--delay-ms", type=float, default=0.0, help="per-request delay (0)")
    parser.add_argument("--info", help="write key, user id and ticket ids to this JSON file")
    parser.add_argument("--cpu", type=int, help="pin the server to this core")
    parser.add_argument(
        "--app",
        choices=("sandbox", "replay"),
        default="sandbox",
        help="sandbox: every request answered by the live sandbox; replay: get-ticket "
        "answered from a table of the sandbox's own answers, made at startup",
    )
    parser.add_argument("--certfile", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--keyfile", help="the certificate's private key (PEM)")
    args = parser.parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        parser.error("--certfile and --keyfile go together")
    tls: TLS = (args.certfile, args.keyfile) if args.certfile else None
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})  # inherited by granian's worker process
    os.environ["TICKETPULSE_BENCH_N"] = str(args.n)
    os.environ["TICKETPULSE_BENCH_DELAY_MS"] = str(args.delay_ms)
    os.environ["TICKETPULSE_BENCH_APP"] = args.app
    os.environ["TICKETPULSE_BENCH_HOST"] = f"{args.host}:{args.port}"
    os.environ["TICKETPULSE_BENCH_SCHEME"] = "https" if tls else "http"
    if args.info:
        os.environ["TICKETPULSE_BENCH_INFO"] = os.path.abspath(args.info)
    scheme = "https" if tls else "http"
    print(
        f"serving {args.n} tickets ({args.app}) with {args.server} on "
        f"{scheme}://{args.host}:{args.port}",
        flush=True,
    )
    SERVERS[args.server](args.host, args.port, tls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
