"""Bulk ticket URLs (SPEC §2): bounded concurrency, order, fail-fast, laziness, cancellation."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import ticketpulse
from ticketpulse import InvalidRequestError, NotPermittedError, TicketURLResult

from .conftest import KEY

pytestmark = pytest.mark.anyio


class Counter:
    """Tracks requests in flight (from threads or tasks) and which tickets were asked for."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.started: list[str] = []
        self.finished: list[str] = []
        self.cancelled = 0

    def enter(self, ticket: str) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.started.append(ticket)

    def leave(self, ticket: str) -> None:
        with self.lock:
            self.in_flight -= 1
            self.finished.append(ticket)


def answer(ticket: str) -> httpx.Response:
    if ticket.startswith("bad"):
        return httpx.Response(401, text="Ticket not found")
    if ticket.startswith("flaky") and not ticket.endswith("!"):
        return httpx.Response(503)
    return httpx.Response(
        200, json=f"https://ticket-pulse.com/files/tickets/ticket_{ticket}.png?secret=s"
    )


def delay_for(ticket: str) -> float:
    # Later tickets answer sooner, so completion order differs from input order.
    digits = "".join(c for c in ticket if c.isdigit())
    return 0.001 * (9 - int(digits[-1])) if digits else 0.001


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
async def bulk_client(
    client_class: type[Any], counter: Counter, sleeps: list[float]
) -> AsyncIterator[Any]:
    """A client over a transport that answers each ticket after a small delay."""
    flaky_seen: set[str] = set()

    def ticket_of(request: httpx.Request) -> str:
        ticket = request.url.params["ticket_id"]
        if ticket.startswith("flaky") and ticket not in flaky_seen:
            flaky_seen.add(ticket)
            return ticket  # first time: 503
        return ticket + "!" if ticket.startswith("flaky") else ticket

    if client_class is ticketpulse.AsyncClient:

        async def handle_async(request: httpx.Request) -> httpx.Response:
            ticket = ticket_of(request)
            counter.enter(ticket)
            try:
                await anyio.sleep(delay_for(ticket))
            except BaseException:
                counter.cancelled += 1
                raise
            finally:
                counter.leave(ticket)
            return answer(ticket)

        http: Any = httpx.AsyncClient(transport=httpx.MockTransport(handle_async))
        client: Any = ticketpulse.AsyncClient(KEY, http_client=http)
        yield client
        await http.aclose()
    else:

        def handle(request: httpx.Request) -> httpx.Response:
            ticket = ticket_of(request)
            counter.enter(ticket)
            time.sleep(delay_for(ticket))
            counter.leave(ticket)
            return answer(ticket)

        http = httpx.Client(transport=httpx.MockTransport(handle))
        client = ticketpulse.Client(KEY, http_client=http)
        yield client
        http.close()


async def call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    result = method(*args, **kwargs)
    return await result if hasattr(result, "__await__") else result


async def collect(results: Any) -> list[TicketURLResult]:
    """Drain iter_ticket_urls the way each client is meant to be used."""
    if isinstance(results, ticketpulse.AsyncTicketURLs):
        async with results:
            return [r async for r in results]
    with results:
        return list(results)


async def test_urls_come_back_in_input_order(bulk_client: Any, counter: Counter) -> None:
    ids = [f"t{i}" for i in range(50)]
    urls = await call(bulk_client.get_ticket_urls, ids, user_id=7, concurrency=8)
    assert [u.url for u in urls] == [
        f"https://ticket-pulse.com/files/tickets/ticket_{i}.png?secret=s" for i in ids
    ]
    assert sorted(counter.started) == sorted(ids)  # each sent once
    assert counter.started != counter.finished  # they did overlap and reorder


@pytest.mark.parametrize("concurrency", [1, 3, 16])
async def test_never_more_than_concurrency_in_flight(
    bulk_client: Any, counter: Counter, concurrency: int
) -> None:
    await call(
        bulk_client.get_ticket_urls,
        [f"t{i}" for i in range(40)],
        user_id=7,
        concurrency=concurrency,
    )
    assert counter.peak <= concurrency
    if isinstance(bulk_client, ticketpulse.AsyncClient):
        assert counter.peak == concurrency
    else:  # threads: all of them in flight at once is likely, not certain
        assert counter.peak >= min(concurrency, 2)


async def test_first_error_is_raised_and_stops_the_rest(bulk_client: Any, counter: Counter) -> None:
    ids = ["t1", "t2", "bad3", *[f"t{i}" for i in range(4, 200)]]
    with pytest.raises(NotPermittedError, match="Ticket not found"):
        await call(bulk_client.get_ticket_urls, ids, user_id=7, concurrency=4)
    assert len(counter.started) < 20  # fail-fast: the rest were never sent


async def test_an_invalid_id_sends_nothing(bulk_client: Any, counter: Counter) -> None:
    with pytest.raises(InvalidRequestError, match=r"ticket_ids\[2\]"):
        await call(bulk_client.get_ticket_urls, ["a", "b", "", "c"], user_id=7)
    with pytest.raises(InvalidRequestError):
        await call(bulk_client.get_ticket_urls, ["a"], user_id=0)
    with pytest.raises(InvalidRequestError):
        await call(bulk_client.get_ticket_urls, ["a"], user_id=7, concurrency=0)
    with pytest.raises(InvalidRequestError):
        await call(bulk_client.get_ticket_urls, "abc", user_id=7)
    assert counter.started == []


async def test_empty_input_gives_empty_list(bulk_client: Any) -> None:
    assert await call(bulk_client.get_ticket_urls, [], user_id=7) == []


async def test_each_ticket_is_retried_on_its_own(
    bulk_client: Any, counter: Counter, sleeps: list[float]
) -> None:
    urls = await call(bulk_client.get_ticket_urls, ["t1", "flaky2", "t3"], user_id=7)
    assert [u.url.split("ticket_")[1] for u in urls] == [
        "t1.png?secret=s",
        "flaky2!.png?secret=s",
        "t3.png?secret=s",
    ]
    assert len(sleeps) == 1


async def test_iter_yields_every_ticket_once_errors_included(bulk_client: Any) -> None:
    ids = [f"t{i}" for i in range(30)] + ["bad1", "", "bad2"]
    results = await collect(bulk_client.iter_ticket_urls(ids, user_id=7, concurrency=5))
    assert sorted(r.ticket_id for r in results) == sorted(ids)
    failed = {r.ticket_id: r.error for r in results if not r.ok}
    assert set(failed) == {"bad1", "", "bad2"}
    assert isinstance(failed[""], InvalidRequestError)
    assert isinstance(failed["bad1"], NotPermittedError)
    ok = [r for r in results if r.ok]
    assert all(r.unwrap().url.endswith(f"ticket_{r.ticket_id}.png?secret=s") for r in ok)
    with pytest.raises(NotPermittedError):
        next(r for r in results if r.ticket_id == "bad2").unwrap()


async def test_iter_reads_a_huge_input_lazily(bulk_client: Any, counter: Counter) -> None:
    pulled = itertools.count()

    def ids() -> Iterator[str]:
        for i in range(10**9):
            next(pulled)
            yield f"t{i}"

    results = bulk_client.iter_ticket_urls(ids(), user_id=7, concurrency=4)
    taken: list[TicketURLResult] = []
    if isinstance(results, ticketpulse.AsyncTicketURLs):
        async with results:
            async for result in results:
                taken.append(result)
                if len(taken) == 10:
                    break
    else:
        with results:
            for result in results:
                taken.append(result)
                if len(taken) == 10:
                    break
    assert len(taken) == 10
    # Bounded by concurrency: results taken + in flight + buffered, not 10**9.
    assert next(pulled) <= 10 + 2 * 4 + 1
    started = len(counter.started)
    await anyio.sleep(0.05)
    assert len(counter.started) == started  # nothing more is sent after leaving
    assert counter.in_flight == 0


async def test_leaving_async_iteration_early_cancels_requests_in_flight(counter: Counter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        counter.enter(request.url.params["ticket_id"])
        try:
            await anyio.sleep(10)
        except BaseException:
            counter.cancelled += 1
            raise
        finally:
            counter.leave(request.url.params["ticket_id"])
        return answer("x")

    async def fast_then_slow(request: httpx.Request) -> httpx.Response:
        if request.url.params["ticket_id"] == "t0":
            return answer("t0")
        return await slow(request)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(fast_then_slow)) as http,
        ticketpulse.AsyncClient(KEY, http_client=http) as client,
    ):
        with anyio.fail_after(5):
            async with client.iter_ticket_urls(
                [f"t{i}" for i in range(100)], user_id=7, concurrency=6
            ) as results:
                async for first in results:
                    assert first.ticket_id == "t0"
                    await anyio.sleep(0.05)  # let the others start
                    break
    assert counter.cancelled == 6  # t0's worker went on to t6: six in flight
    assert counter.in_flight == 0


async def test_async_iteration_needs_the_context_manager() -> None:
    client = ticketpulse.AsyncClient(KEY)
    results = client.iter_ticket_urls(["a"], user_id=7)
    with pytest.raises(RuntimeError, match="async with"):
        await results.__anext__()
    await client.aclose()


async def test_cancelling_a_bulk_fetch_leaves_nothing_running(counter: Counter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        counter.enter("x")
        try:
            await anyio.sleep(10)
        except BaseException:
            counter.cancelled += 1
            raise
        finally:
            counter.leave("x")
        return answer("x")

    async def fast_then_slow(request: httpx.Request) -> httpx.Response:
        if request.url.params["ticket_id"] == "t0":
            return answer("t0")  # the first goes alone; the rest fan out after it
        return await slow(request)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(fast_then_slow)) as http,
        ticketpulse.AsyncClient(KEY, http_client=http) as client,
    ):
        with anyio.move_on_after(0.2) as scope:
            await client.get_ticket_urls([f"t{i}" for i in range(50)], user_id=7, concurrency=8)
    assert scope.cancelled_caught
    assert counter.cancelled == 8
    assert counter.in_flight == 0


async def test_a_failing_id_iterable_surfaces_its_error(bulk_client: Any) -> None:
    def ids() -> Iterator[str]:
        yield "t1"
        raise LookupError("the database went away")

    with pytest.raises(LookupError, match="database"):
        await collect(bulk_client.iter_ticket_urls(ids(), user_id=7, concurrency=2))
