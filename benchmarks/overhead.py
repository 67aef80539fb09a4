"""Per-call overhead in-process (target 4): no sockets, the same httpx transport.

``ticketpulse.AsyncClient.get_ticket_url`` against the hand-written
equivalent, ``httpx.AsyncClient.get(url, params=...)`` then ``.json()``, both
on one ``httpx.AsyncClient`` whose transport is an ``httpx.MockTransport``
answering a canned signed-URL JSON string. A round is ten slices of calls,
each slice running a batch of one then of the other (alternating which goes
first); the figure is CPU microseconds per call (``time.process_time``: a
process descheduled by the machine's other load is not charged for the
wait), and the per-round ratio SDK / raw.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

import ticketpulse

from ._common import summary

__all__ = ["run_overhead"]

BASE_URL = "https://bench.ticket-pulse.test/tp-api"
KEY = "tp_bench_0123456789abcdef"
USER = 4242
TICKET = "a3f9b"
BODY = json.dumps(
    "https://bench.ticket-pulse.test/files/tickets/ticket_a3f9b.png?secret=" + "x" * 150
).encode()


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "application/json"}, content=BODY)


async def _measure(calls: int, rounds: int, progress: Callable[[str], None]) -> dict[str, Any]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_answer))
    sdk = ticketpulse.AsyncClient(KEY, base_url=BASE_URL, http_client=http)
    url = BASE_URL + "/users/get-ticket"
    params = {"wp_user_id": str(USER), "ticket_id": TICKET, "key": KEY}

    async def raw_batch(count: int) -> float:
        start = time.process_time()
        for _ in range(count):
            response = await http.get(url, params=params)
            response.raise_for_status()
            value = response.json()
        elapsed = time.process_time() - start
        assert isinstance(value, str)
        assert value.startswith("https://")
        return elapsed

    async def sdk_batch(count: int) -> float:
        start = time.process_time()
        for _ in range(count):
            value = await sdk.get_ticket_url(TICKET, user_id=USER)
        elapsed = time.process_time() - start
        assert value.url.startswith("https://")
        return elapsed

    raw_us: list[float] = []
    sdk_us: list[float] = []
    ratios: list[float] = []
    slices = 10
    per_slice = max(1, calls // slices)
    await raw_batch(per_slice)  # warm-up
    await sdk_batch(per_slice)
    for index in range(rounds):
        raw_total = sdk_total = 0.0
        for part in range(slices):  # finely interleaved: drift hits both alike
            if (index + part) % 2:
                sdk_total += await sdk_batch(per_slice)
                raw_total += await raw_batch(per_slice)
            else:
                raw_total += await raw_batch(per_slice)
                sdk_total += await sdk_batch(per_slice)
        r = raw_total / (slices * per_slice) * 1e6
        s = sdk_total / (slices * per_slice) * 1e6
        raw_us.append(r)
        sdk_us.append(s)
        ratios.append(s / r)
        progress(f"  overhead round {index + 1}/{rounds}: sdk {s:.1f} us, raw {r:.1f} us")
    await sdk.aclose()
    await http.aclose()
    return {
        "calls_per_round": slices * per_slice,
        "clock": "process CPU time (time.process_time), not wall time",
        "transport": "httpx.MockTransport (canned signed-URL JSON)",
        "sdk_us": summary(sdk_us),
        "raw_us": summary(raw_us),
        "ratio": summary(ratios),
        "rounds": {"sdk_us": sdk_us, "raw_us": raw_us, "ratio": ratios},
    }


def run_overhead(
    *, calls: int = 2000, rounds: int = 9, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    return asyncio.run(_measure(calls, rounds, progress))
