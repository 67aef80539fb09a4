"""Bulk ticket URLs over loopback (targets 1-3 and issue 12): the SDK against hand-written loops.

Every variant fetches the signed URL of each of N tickets from the benchmark
server (``benchmarks.server``) at a given concurrency, and every answer is
checked: one URL string per id, in input order, naming that ticket.

Variants (each path against its hand-written peer):

- ``aiohttp``: hand-written aiohttp: one ``ClientSession`` with a
  ``TCPConnector(limit=concurrency)``, an ``asyncio.Semaphore``,
  ``session.get(url, params=...)`` and ``await resp.json()``;
- ``httpx``: hand-written ``httpx.AsyncClient`` with its pool sized to the
  concurrency, a semaphore, ``client.get(url, params=...)`` and ``.json()``;
- ``floor``: :class:`benchmarks.floor.FloorClient`, a minimal
  ``asyncio.BufferedProtocol`` HTTP/1.1 client (keep-alive, naive framing):
  the least client CPU per request a Python client on asyncio spends;
- ``sdk-async``: ``ticketpulse.AsyncClient(...)`` (the default transport, httpx);
- ``sdk-aiohttp``: ``ticketpulse.AsyncClient(transport="aiohttp")``;
- ``sdk-aiohttp-session``: ``ticketpulse.AsyncClient(http_client=session)``
  with a ``ClientSession`` made as the hand-written one's (not run by default);
- ``sdk-builtin``: ``ticketpulse.AsyncClient(transport="builtin")`` (the SDK's
  own HTTP/1.1 on asyncio protocols);
- ``sdk-blocking``: ``ticketpulse.Client(...)`` (the default transport, httpx);
- ``sdk-blocking-builtin``: ``ticketpulse.Client(transport="builtin")``.

All SDK clients get ``max_connections=concurrency``, as the hand-written
pools are sized. ``get_ticket_urls(..., concurrency=c)`` of the blocking
``Client`` runs ``AsyncClient``'s bulk fetch on a private asyncio loop in a
worker thread, over connections of its own opened for the call.

Modes: ``zero`` (the server answers at once: requests per second) and
``latency`` (the server waits ``delay_ms`` before each answer: efficiency =
(N x delay / concurrency) / measured time, 1.0 being perfect overlap).

Schemes: over ``http`` each variant's client makes ``2 x concurrency``
untimed requests before its timed run, so that the run starts with its
connections open. Over ``https`` (a server with a certificate of a
``trustme`` CA, see :func:`benchmarks._common.make_tls`) connection setup is
included: the timer starts before the client is made, so the timed run holds
the client's construction, its TCP connects and TLS handshakes and the N
requests. The SDK trusts the CA through ``SSL_CERT_FILE`` (set by the
runner; ``httpx.create_ssl_context``, which the SDK calls once per process,
reads it); the hand-written clients and the floor get one
``ssl.SSLContext`` trusting it, made once per process, as the SDK's is.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import ticketpulse

from ._common import ServerProcess, machine_busy
from .floor import FloorClient

__all__ = [
    "DEFAULT_VARIANTS",
    "VARIANTS",
    "available",
    "run_bulk",
    "run_scaling",
    "throughput_probe",
]

Variant = Callable[["Target", list[str], int, "Timer"], Awaitable[list[Any]] | list[Any]]


class Target:
    """Where and what to ask: the server's base URL, the key and the user; how to time it.

    ``cold`` (https): the timed part includes making the client and its
    connections; otherwise it starts after ``2 x concurrency`` warm-up requests.
    ``ssl_context`` is the hand-written clients' and the floor's (https only).
    """

    def __init__(self, server: ServerProcess, ssl_context: ssl.SSLContext | None = None) -> None:
        self.base_url = server.base_url
        self.url = server.base_url + "/users/get-ticket"
        self.key = server.key
        self.user_id = server.user_id
        self.scheme = server.scheme
        self.cold = server.scheme == "https"
        self.ssl_context = ssl_context


class Timer:
    """Times the measured part of a run, with the client's and the server's CPU time.

    ``start`` may be called again (after a warm-up): the last call counts.
    """

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.elapsed = 0.0
        self.client_cpu = 0.0
        self.server_cpu = 0.0
        self.server_requests: dict[str, int] = {}
        self.other_cpu: float | None = None
        self.held: float | None = None  # mean seconds the server held a replayed answer

    def start(self) -> None:
        self._server_before = self.server.control("stats")  # also clears the warm-up's log
        self._cpu_before = time.process_time()
        self._busy_before = machine_busy()
        self._t0 = time.perf_counter()

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self._t0
        self.client_cpu = time.process_time() - self._cpu_before
        busy = machine_busy()
        after = self.server.control("stats")
        self.server_cpu = after["cpu"] - self._server_before["cpu"]
        if busy is not None and self._busy_before is not None:
            # CPU the rest of the machine used meanwhile (other users' work), in cores x s
            self.other_cpu = max(0.0, busy - self._busy_before - self.client_cpu - self.server_cpu)
        self.server_requests = after["statuses"]
        if after.get("held_count"):
            self.held = after["held"] / after["held_count"]


def _warm(ids: list[str], concurrency: int) -> list[str]:
    return ids[: min(len(ids), 2 * concurrency)]


def _aiohttp_session(target: Target, concurrency: int) -> Any:
    import aiohttp

    verify: Any = target.ssl_context if target.ssl_context is not None else True
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency, ssl=verify))


async def raw_aiohttp(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    user = str(target.user_id)
    if target.cold:
        timer.start()
    async with _aiohttp_session(target, concurrency) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(ticket_id: str) -> Any:
            params = {"wp_user_id": user, "ticket_id": ticket_id, "key": target.key}
            async with semaphore, session.get(target.url, params=params) as response:
                if response.status != 200:
                    raise RuntimeError(f"{response.status} for {ticket_id}")
                return await response.json()

        if not target.cold:
            await asyncio.gather(*(one(i) for i in _warm(ids, concurrency)))
            timer.start()
        urls = await asyncio.gather(*(one(i) for i in ids))
        timer.stop()
    return urls


async def raw_httpx(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    import httpx

    user = str(target.user_id)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    verify: Any = target.ssl_context if target.ssl_context is not None else True
    if target.cold:
        timer.start()
    async with httpx.AsyncClient(limits=limits, verify=verify) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(ticket_id: str) -> Any:
            params = {"wp_user_id": user, "ticket_id": ticket_id, "key": target.key}
            async with semaphore:
                response = await client.get(target.url, params=params)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code} for {ticket_id}")
                return response.json()

        if not target.cold:
            await asyncio.gather(*(one(i) for i in _warm(ids, concurrency)))
            timer.start()
        urls = await asyncio.gather(*(one(i) for i in ids))
        timer.stop()
    return urls


async def floor(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    if target.cold:
        timer.start()
    client = FloorClient(target.base_url, target.key, target.ssl_context)
    try:
        if not target.cold:
            await client.get_ticket_urls(
                _warm(ids, concurrency), user_id=target.user_id, concurrency=concurrency
            )
            timer.start()
        urls = await client.get_ticket_urls(ids, user_id=target.user_id, concurrency=concurrency)
        timer.stop()
    finally:
        client.close()
    return urls


async def _sdk_bulk(
    target: Target, ids: list[str], concurrency: int, timer: Timer, **options: Any
) -> list[Any]:
    if target.cold:
        timer.start()
    async with ticketpulse.AsyncClient(
        target.key, base_url=target.base_url, max_connections=concurrency, **options
    ) as client:
        if not target.cold:
            await client.get_ticket_urls(
                _warm(ids, concurrency), user_id=target.user_id, concurrency=concurrency
            )
            timer.start()
        urls = await client.get_ticket_urls(ids, user_id=target.user_id, concurrency=concurrency)
        timer.stop()
    return [u.url for u in urls]


async def sdk_async(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    return await _sdk_bulk(target, ids, concurrency, timer)


async def sdk_aiohttp(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    return await _sdk_bulk(target, ids, concurrency, timer, transport="aiohttp")


async def sdk_aiohttp_session(
    target: Target, ids: list[str], concurrency: int, timer: Timer
) -> list[Any]:
    if target.cold:
        timer.start()
    async with _aiohttp_session(target, concurrency) as session:
        client = ticketpulse.AsyncClient(
            target.key, base_url=target.base_url, max_connections=concurrency, http_client=session
        )
        async with client:
            if not target.cold:
                await client.get_ticket_urls(
                    _warm(ids, concurrency), user_id=target.user_id, concurrency=concurrency
                )
                timer.start()
            urls = await client.get_ticket_urls(
                ids, user_id=target.user_id, concurrency=concurrency
            )
            timer.stop()
    return [u.url for u in urls]


async def sdk_builtin(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    return await _sdk_bulk(target, ids, concurrency, timer, transport="builtin")


def _sdk_blocking(
    target: Target, ids: list[str], concurrency: int, timer: Timer, transport: Any
) -> list[Any]:
    if target.cold:
        timer.start()
    with ticketpulse.Client(
        target.key, base_url=target.base_url, max_connections=concurrency, transport=transport
    ) as client:
        if not target.cold:
            client.get_ticket_urls(
                _warm(ids, concurrency), user_id=target.user_id, concurrency=concurrency
            )
            timer.start()
        urls = client.get_ticket_urls(ids, user_id=target.user_id, concurrency=concurrency)
        timer.stop()
    return [u.url for u in urls]


def sdk_blocking(target: Target, ids: list[str], concurrency: int, timer: Timer) -> list[Any]:
    return _sdk_blocking(target, ids, concurrency, timer, "httpx")


def sdk_blocking_builtin(
    target: Target, ids: list[str], concurrency: int, timer: Timer
) -> list[Any]:
    return _sdk_blocking(target, ids, concurrency, timer, "builtin")


VARIANTS: dict[str, Variant] = {
    "aiohttp": raw_aiohttp,
    "httpx": raw_httpx,
    "floor": floor,
    "sdk-async": sdk_async,
    "sdk-aiohttp": sdk_aiohttp,
    "sdk-aiohttp-session": sdk_aiohttp_session,
    "sdk-builtin": sdk_builtin,
    "sdk-blocking": sdk_blocking,
    "sdk-blocking-builtin": sdk_blocking_builtin,
}
DEFAULT_VARIANTS = tuple(v for v in VARIANTS if v != "sdk-aiohttp-session")
# The order a round runs them in: each ratio's two sides next to each other
# (sdk-async | httpx, sdk-blocking | sdk-async, sdk-aiohttp | aiohttp,
# sdk-builtin | aiohttp and floor), so that the machine's drift over a round
# (the httpx runs take seconds) falls between pairs, not inside one.
RUN_ORDER = (
    "httpx",
    "sdk-async",
    "sdk-blocking",
    "sdk-aiohttp-session",
    "sdk-aiohttp",
    "aiohttp",
    "sdk-builtin",
    "floor",
    "sdk-blocking-builtin",
)
DESCRIPTIONS = {
    "aiohttp": "hand-written aiohttp + asyncio.Semaphore",
    "httpx": "hand-written httpx.AsyncClient + asyncio.Semaphore",
    "floor": "minimal asyncio.BufferedProtocol HTTP/1.1 client (benchmarks/floor.py)",
    "sdk-async": "ticketpulse.AsyncClient().get_ticket_urls (default transport, httpx)",
    "sdk-aiohttp": 'ticketpulse.AsyncClient(transport="aiohttp").get_ticket_urls',
    "sdk-aiohttp-session": "ticketpulse.AsyncClient(http_client=aiohttp.ClientSession)",
    "sdk-builtin": 'ticketpulse.AsyncClient(transport="builtin").get_ticket_urls',
    "sdk-blocking": "ticketpulse.Client().get_ticket_urls (httpx; private asyncio loop)",
    "sdk-blocking-builtin": 'ticketpulse.Client(transport="builtin").get_ticket_urls',
}


def available(name: str) -> bool:
    """Whether a variant can run here (the aiohttp ones need aiohttp installed)."""
    if name in ("aiohttp", "sdk-aiohttp", "sdk-aiohttp-session"):
        return importlib.util.find_spec("aiohttp") is not None
    return True


def _check(name: str, ids: Sequence[str], urls: Sequence[Any], timer: Timer) -> None:
    if len(urls) != len(ids):
        raise AssertionError(f"{name}: {len(urls)} answers for {len(ids)} ids")
    for ticket_id, url in zip(ids, urls, strict=True):
        if not isinstance(url, str) or f"/ticket_{ticket_id}.png?secret=" not in url:
            raise AssertionError(f"{name}: wrong answer for {ticket_id}: {url!r}")
    if timer.server_requests != {"200": len(ids)}:
        raise AssertionError(
            f"{name}: the server saw {timer.server_requests} for {len(ids)} requests"
        )


def _run_async(coroutine: Any, loop: str) -> Any:
    if loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(coroutine)
    return asyncio.run(coroutine)


def run_once(
    name: str,
    server: ServerProcess,
    ids: list[str],
    concurrency: int,
    delay_ms: float,
    loop: str = "asyncio",
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """One checked, timed run of a variant (a new client, on a new event loop)."""
    target = Target(server, ssl_context)
    timer = Timer(server)
    variant = VARIANTS[name]
    result = variant(target, ids, concurrency, timer)
    urls = _run_async(result, loop) if asyncio.iscoroutine(result) else result
    assert isinstance(urls, list)
    _check(name, ids, urls, timer)
    elapsed = timer.elapsed
    ideal = len(ids) * delay_ms / 1000 / concurrency
    return {
        "variant": name,
        "scheme": target.scheme,
        "connection_setup_timed": target.cold,
        "n": len(ids),
        "concurrency": concurrency,
        "seconds": elapsed,
        "rps": len(ids) / elapsed,
        "efficiency": ideal / elapsed if delay_ms else None,
        "client_cpu": timer.client_cpu / elapsed,
        "client_us": timer.client_cpu / len(ids) * 1e6,  # client CPU per request
        "server_cpu": timer.server_cpu / elapsed,
        "other_cpu": None if timer.other_cpu is None else timer.other_cpu / elapsed,
        "server_held_ms": None if timer.held is None else timer.held * 1000,
    }


def run_bulk(
    server: ServerProcess,
    *,
    variants: Sequence[str],
    concurrencies: Sequence[int],
    rounds: int,
    delay_ms: float,
    latency_waves: int,
    warm_up: int = 200,
    loop: str = "asyncio",
    ssl_context: ssl.SSLContext | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Both modes, every concurrency: a warm-up, then ``rounds`` interleaved rounds.

    Over ``server``'s scheme (an https server: connection setup timed, the
    hand-written clients trusting ``ssl_context``). The async variants run on
    ``loop`` (``asyncio``'s default loop, or ``uvloop``).
    The warm-up runs every variant once over ``warm_up`` ids, not recorded.
    In a round every variant runs once, one after the other, in
    :data:`RUN_ORDER` (each ratio's two sides adjacent), forwards in even
    rounds and backwards in odd ones, so that of each pair each side runs
    first in half the rounds. In latency mode a run is capped at
    ``latency_waves x concurrency`` requests (at most N), so that low
    concurrencies take seconds, not minutes.
    """
    runnable = sorted((v for v in variants if available(v)), key=RUN_ORDER.index)
    records: list[dict[str, Any]] = []
    for mode, delay in (("zero", 0.0), ("latency", delay_ms)):
        server.set_delay(delay)
        for concurrency in concurrencies:
            n = (
                len(server.ids)
                if mode == "zero"
                else min(len(server.ids), latency_waves * concurrency)
            )
            ids = server.ids[:n]
            for name in runnable:  # warm-up, not recorded
                run_once(
                    name, server, ids[: min(n, warm_up)], concurrency, delay, loop, ssl_context
                )
            for round_index in range(rounds):
                for name in runnable if round_index % 2 == 0 else runnable[::-1]:
                    record = run_once(name, server, ids, concurrency, delay, loop, ssl_context)
                    record.update(mode=mode, round=round_index, delay_ms=delay)
                    records.append(record)
                progress(
                    f"  bulk {server.scheme:5} {mode:7} c={concurrency:<3} "
                    f"round {round_index + 1}/{rounds}: "
                    + "  ".join(
                        f"{r['variant']} {r['rps']:.0f}/s"
                        + (f" eff {r['efficiency']:.2f}" if r["efficiency"] else "")
                        for r in records
                        if r["mode"] == mode
                        and r["concurrency"] == concurrency
                        and r["round"] == round_index
                    )
                )
    server.set_delay(0)
    return {
        "variants": {name: DESCRIPTIONS[name] for name in variants},
        "not_available": [v for v in variants if not available(v)],
        "delay_ms": delay_ms,
        "latency_waves": latency_waves,
        "loop": loop,
        "scheme": server.scheme,
        "records": records,
    }


def run_scaling(
    server: ServerProcess,
    *,
    variant: str = "sdk-async",
    low: int,
    high: int,
    rounds: int,
    loop: str = "asyncio",
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Target 1c: ``variant`` at ``low`` and ``high`` concurrency, interleaved in each round.

    The main bulk runs measure one concurrency after another, minutes apart on
    a machine whose load drifts; here both run in every round (their order
    alternating), and the figure is the median of the per-round ratios.
    """
    ids = server.ids
    server.set_delay(0)
    for c in (low, high):  # warm-up, not recorded
        run_once(variant, server, ids[:200], c, 0.0, loop)
    ratios: list[float] = []
    records: list[dict[str, Any]] = []
    for round_index in range(rounds):
        order = (low, high) if round_index % 2 == 0 else (high, low)
        runs = {c: run_once(variant, server, ids, c, 0.0, loop) for c in order}
        rps = {c: run["rps"] for c, run in runs.items()}
        # CPU per request: whether the client does more work per request at
        # high concurrency, apart from how the machine's speed drifted.
        us = {c: run["client_cpu"] / run["rps"] * 1e6 for c, run in runs.items()}
        ratios.append(rps[high] / rps[low])
        records.append(
            {
                "round": round_index,
                "low_rps": rps[low],
                "high_rps": rps[high],
                "low_us": us[low],
                "high_us": us[high],
            }
        )
        progress(
            f"  scaling {variant} round {round_index + 1}/{rounds}: c={low} {rps[low]:.0f}/s, "
            f"c={high} {rps[high]:.0f}/s, ratio {ratios[-1]:.2f}"
        )
    return {"variant": variant, "low": low, "high": high, "ratios": ratios, "records": records}


async def _probe(
    url: str, params: list[dict[str, str]], concurrency: int, ssl_context: ssl.SSLContext | None
) -> float:
    import aiohttp

    verify: Any = ssl_context if ssl_context is not None else True
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=verify)
    async with aiohttp.ClientSession(connector=connector) as session:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(query: dict[str, str]) -> None:
            async with semaphore, session.get(url, params=query) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{response.status} from {url}")

        await asyncio.gather(*(one(q) for q in params[: 2 * concurrency]))
        start = time.perf_counter()
        await asyncio.gather(*(one(q) for q in params))
        return len(params) / (time.perf_counter() - start)


def throughput_probe(
    server: ServerProcess,
    n: int,
    concurrency: int,
    *,
    ping: bool = False,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[str, float]:
    """Hand-written aiohttp against get-ticket (or ``/_bench/ping``): req/s and server CPU.

    Its connections are opened (and, over TLS, their handshakes done) before the timed part.
    """
    ids = server.ids[:n]
    if ping:
        url = server.origin + "/_bench/ping"
        params = [{"i": str(i)} for i in range(n)]
    else:
        url = server.base_url + "/users/get-ticket"
        user = str(server.user_id)
        params = [{"wp_user_id": user, "ticket_id": i, "key": server.key} for i in ids]
    before = server.control("stats")
    cpu = time.process_time()
    busy = machine_busy()
    rps = asyncio.run(_probe(url, params, concurrency, ssl_context))
    client_cpu = time.process_time() - cpu
    busy_after = machine_busy()
    after = server.control("stats")
    seconds = after["clock"] - before["clock"]
    server_cpu = after["cpu"] - before["cpu"]
    other = None
    if busy is not None and busy_after is not None:
        other = max(0.0, busy_after - busy - client_cpu - server_cpu) / seconds
    return {
        "rps": rps,
        "server_cpu": server_cpu / seconds,
        "client_cpu": client_cpu / seconds,
        "other_cpu": other,
    }
