"""Memory of ``AsyncClient.iter_ticket_urls`` over a lazy generator of ids (target 6).

Run in a fresh process (``python -m benchmarks.memory --ids 100000``): the
client talks to an in-process ``httpx.MockTransport`` that answers each
ticket's signed URL. The baseline is the resident set size (VmRSS) once the
client exists, after a garbage collection; the peak is the high-water mark
(VmHWM, reset at the baseline through ``/proc/self/clear_refs`` where the
kernel allows; otherwise ``ru_maxrss``). Growth = peak - baseline. RSS is
also sampled along the way, to show whether it levels off or keeps climbing.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]

KEY = "tp_bench_0123456789abcdef"
BASE_URL = "https://bench.ticket-pulse.test/tp-api"
USER = 4242


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rss_mb() -> float:
    kb = _status_kb("VmRSS")
    if kb is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return kb / 1024


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_mb(reset_worked: bool) -> tuple[float, str]:
    kb = _status_kb("VmHWM")
    if kb is not None and reset_worked:
        return kb / 1024, "VmHWM (reset at the baseline)"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "ru_maxrss"


async def measure(count: int, concurrency: int) -> dict[str, Any]:
    import httpx

    import ticketpulse

    def answer(request: httpx.Request) -> httpx.Response:
        ticket_id = request.url.params["ticket_id"]
        url = f"https://bench.ticket-pulse.test/files/tickets/ticket_{ticket_id}.png?secret=" + (
            "x" * 150
        )
        return httpx.Response(200, json=url)

    def ids() -> Iterator[str]:  # lazy: never a list of them all
        for index in range(count):
            yield f"t{index:07d}"

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = ticketpulse.AsyncClient(KEY, base_url=BASE_URL, http_client=http)
    gc.collect()
    baseline = _rss_mb()
    reset = _reset_peak()
    samples: list[tuple[int, float]] = []
    step = max(1, count // 20)
    done = failed = 0
    start = time.perf_counter()
    async with client.iter_ticket_urls(ids(), user_id=USER, concurrency=concurrency) as results:
        async for result in results:
            done += 1
            if not result.ok:
                failed += 1
            if done % step == 0:
                samples.append((done, round(_rss_mb() - baseline, 2)))
    elapsed = time.perf_counter() - start
    peak, source = _peak_mb(reset)
    await client.aclose()
    await http.aclose()
    if done != count or failed:
        raise AssertionError(f"{done} results for {count} ids, {failed} failed")
    return {
        "ids": count,
        "concurrency": concurrency,
        "transport": "httpx.MockTransport, in-process",
        "baseline_mb": baseline,
        "peak_mb": peak,
        "growth_mb": peak - baseline,
        "peak_source": source,
        "rss_growth_samples": samples,
        "seconds": elapsed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--ids", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.ids, args.concurrency))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
