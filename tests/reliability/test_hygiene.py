"""Hygiene (issue 5, suite 4): no resource warnings, nothing left behind by cancellation.

- A full client lifecycle (every client, in-process and over loopback, with
  retries, timeouts and bulk fetches) run under ``-X dev -W
  error::ResourceWarning`` and ``gc.collect()`` emits no ResourceWarning and
  no unraisable exception.
- Cancelling a single call or a bulk fetch (``anyio.CancelScope``), under
  asyncio and trio, leaves no open connection on the sandbox's side (beyond
  the client's idle keep-alive ones, and none once it is closed) and no task.
- A client used from another event loop than its own gets the clear error.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import httpx
import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse.testing import Respond, RunningServer, Sandbox, Stall

from .conftest import USER, Api, Flavour, active_tickets, needs_aiohttp

NEVER = 60.0

# --------------------------------------------------------------------------- warnings

LIFECYCLE = """
import asyncio, gc, importlib.util, sys, tempfile
import anyio, anyio.lowlevel, trio
import ticketpulse
from ticketpulse.testing import Drop, Sandbox, Stall, Truncate

async def no_wait(seconds):
    await anyio.lowlevel.checkpoint()

ticketpulse._client.sleep = lambda seconds: None  # retries without waiting
ticketpulse._async_client.sleep = no_wait

sandbox = Sandbox.demo()
order = sandbox.add_order(wp_user_id=789, items={45: 6})
for ref in order.ticket_refs:
    sandbox.activate_ticket(ref)
refs = list(order.ticket_refs)
out = tempfile.mkdtemp()

def faults():
    sandbox.faults.inject(Drop(), times=1, method="GET")
    sandbox.faults.inject(Truncate(), times=1, method="GET")

def lifecycle(client):
    faults()
    assert client.get_events()
    sandbox.faults.inject(Stall(5), times=1, method="GET")
    try:
        client.with_options(timeout=0.2, max_retries=0).get_events()
    except ticketpulse.APITimeoutError:
        pass
    assert len(client.get_ticket_urls(refs, user_id=789, concurrency=3)) == 6
    with client.iter_ticket_urls(refs, user_id=789, concurrency=3) as results:
        next(iter(results))  # leave early
    client.download(client.get_ticket_url(refs[0], user_id=789), out)
    client.close()

async def alifecycle(client):
    faults()
    assert await client.get_events()
    sandbox.faults.inject(Stall(5), times=1, method="GET")
    try:
        await client.with_options(timeout=0.2, max_retries=0).get_events()
    except ticketpulse.APITimeoutError:
        pass
    assert len(await client.get_ticket_urls(refs, user_id=789, concurrency=3)) == 6
    async with client.iter_ticket_urls(refs, user_id=789, concurrency=3) as results:
        async for _ in results:
            break  # leave early
    with anyio.move_on_after(0.05):
        sandbox.faults.inject(Stall(5), times=1, method="GET")
        await client.get_events()  # cancelled
    await client.download(await client.get_ticket_url(refs[0], user_id=789), out)
    await client.aclose()

async def in_process():
    await alifecycle(sandbox.async_client())
    await sandbox.aclose()

with sandbox.serve() as base_url:
    lifecycle(ticketpulse.Client(sandbox.api_key, base_url=base_url))
    lifecycle(sandbox.client())
    sandbox.close()
    for backend in ("asyncio", "trio"):
        anyio.run(alifecycle, ticketpulse.AsyncClient(sandbox.api_key, base_url=base_url),
                  backend=backend)
        anyio.run(in_process, backend=backend)
    async def with_aiohttp():
        await alifecycle(
            ticketpulse.AsyncClient(sandbox.api_key, base_url=base_url, transport="aiohttp")
        )
    if importlib.util.find_spec("aiohttp") is not None:
        asyncio.run(with_aiohttp())
    async def with_asyncio():
        await alifecycle(
            ticketpulse.AsyncClient(sandbox.api_key, base_url=base_url, transport="builtin")
        )
    asyncio.run(with_asyncio())
    assert sandbox.connections.wait_until(open=0, timeout=10), sandbox.connections
gc.collect()
print("lifecycle ok", sandbox.connections)
"""


def test_a_full_client_lifecycle_emits_no_resource_warning(tmp_path: Path) -> None:
    script = tmp_path / "lifecycle.py"
    script.write_text(LIFECYCLE)
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-X", "dev", "-W", "error::ResourceWarning", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "lifecycle ok" in done.stdout
    for trouble in ("ResourceWarning", "Exception ignored", "unclosed", "Task was destroyed"):
        assert trouble not in done.stderr, done.stderr


@pytest.mark.anyio
async def test_clients_closed_in_their_loop_leave_no_warning_behind(
    async_flavour: Flavour, sandbox: Sandbox, server: RunningServer
) -> None:
    """The same, in this process: warnings recorded through a collection."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api = async_flavour.make(sandbox.api_key, server.base_url)
        await api.get_events()
        await api.close()
        del api
        gc.collect()
    assert [str(w.message) for w in caught] == []
    assert server.connections.wait_until(open=0, timeout=10)


# --------------------------------------------------------------------------- cancellation


def live_tasks() -> set[Any]:
    """Every task of the running event loop (asyncio or trio)."""
    try:
        return set(asyncio.all_tasks())
    except RuntimeError:  # no asyncio loop running: trio
        import trio

    found: set[Any] = set()
    stack = [trio.lowlevel.current_root_task()]
    while stack:
        task = stack.pop()
        found.add(task)
        for nursery in task.child_nurseries:
            stack.extend(nursery.child_tasks)
    return found


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll until ``condition()`` holds (a real sandbox event, not a guessed delay)."""
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await anyio.sleep(0.005)


async def settle(server: RunningServer, most: int) -> int:
    """Wait until the server sees at most ``most`` connections open; how many are."""
    await wait_for(lambda: server.connections.open <= most, f"<= {most} open connections")
    return server.connections.open


async def cancel_when(condition: Callable[[], bool], work: Callable[[], Any]) -> bool:
    """Run ``work`` in a cancel scope cancelled once ``condition()`` holds; True if cancelled."""
    finished = False
    with anyio.CancelScope() as scope:

        async def watch() -> None:
            await wait_for(condition, "the work to be in flight")
            scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            await work()
            finished = True
            group.cancel_scope.cancel()
    return scope.cancelled_caught and not finished


@pytest.mark.anyio
async def test_a_cancelled_call_leaves_no_connection_and_no_task(
    async_flavour: Flavour, sandbox: Sandbox, server: RunningServer
) -> None:
    api = async_flavour.make(sandbox.api_key, server.base_url)
    before = live_tasks()
    sandbox.faults.inject(Stall(NEVER), times=1, method="GET")
    assert await cancel_when(lambda: len(sandbox.requests) == 1, api.get_events)
    # The connection carrying the cancelled request is closed, not pooled half-read.
    assert await settle(server, 0) == 0
    assert live_tasks() <= before
    # The client is still fine, and keeps at most one idle connection.
    assert await api.get_events()
    assert await settle(server, 1) <= 1
    await api.close()
    assert server.connections.wait_until(open=0, timeout=10)
    assert live_tasks() <= before


CONCURRENCY = 12


def stall_after_the_first(sandbox: Sandbox, normal: int) -> Callable[[], int]:
    """Ticket URL requests after the first ``normal`` ones never get an answer.

    Returns a function counting the stalled requests the server holds.
    """
    sandbox.faults.inject(
        Stall(NEVER),
        times=None,
        path="/tp-api/users/get-ticket",
        when=lambda _: len(sandbox.requests) >= normal,
    )
    return lambda: sum(1 for r in sandbox.requests if r.fault == "Stall")


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["get_ticket_urls", "iter_ticket_urls"])
async def test_a_cancelled_bulk_fetch_leaves_no_connection_and_no_task(
    async_flavour: Flavour, sandbox: Sandbox, server: RunningServer, method: str
) -> None:
    ids = active_tickets(sandbox, 120)
    stalled = stall_after_the_first(sandbox, 20)
    api = async_flavour.make(sandbox.api_key, server.base_url)
    before = live_tasks()
    got: list[Any] = []
    opened: list[int] = []

    async def fetch() -> None:
        if method == "get_ticket_urls":
            got.extend(await api.get_ticket_urls(ids, user_id=USER, concurrency=CONCURRENCY))
            return
        async with api.client.iter_ticket_urls(
            ids, user_id=USER, concurrency=CONCURRENCY
        ) as results:
            async for result in results:
                got.append(result)

    def every_worker_is_stuck() -> bool:
        if stalled() < CONCURRENCY:
            return False
        opened.append(server.connections.open)
        return True

    assert await cancel_when(every_worker_is_stuck, fetch)
    assert live_tasks() <= before  # no worker is left running
    # Every connection that carried a request was closed; idle ones may stay.
    idle = opened[0] - CONCURRENCY
    assert await settle(server, idle) <= idle
    sent = len(sandbox.requests)
    assert sent == 20 + CONCURRENCY  # the rest was never sent
    await api.close()
    assert server.connections.wait_until(open=0, timeout=10)
    assert live_tasks() <= before
    assert len(sandbox.requests) == sent
    assert len(got) < len(ids)


@pytest.mark.anyio
async def test_leaving_a_bulk_iteration_early_cancels_what_is_in_flight(
    async_flavour: Flavour, sandbox: Sandbox, server: RunningServer
) -> None:
    ids = active_tickets(sandbox, 120)
    stalled = stall_after_the_first(sandbox, 20)
    api = async_flavour.make(sandbox.api_key, server.base_url)
    before = live_tasks()
    taken = []
    async with api.client.iter_ticket_urls(ids, user_id=USER, concurrency=CONCURRENCY) as results:
        async for result in results:
            taken.append(result)
            if len(taken) == 10:
                break
        await wait_for(lambda: stalled() == CONCURRENCY, "every worker to be stuck")
        opened = server.connections.open
    assert len(taken) == 10
    assert live_tasks() <= before
    idle = opened - CONCURRENCY
    assert await settle(server, idle) <= idle
    assert len(sandbox.requests) == 20 + CONCURRENCY
    await api.close()
    assert server.connections.wait_until(open=0, timeout=10)
    assert len(sandbox.requests) == 20 + CONCURRENCY


def test_leaving_a_blocking_bulk_iteration_early_stops_every_worker(
    sandbox: Sandbox, server: RunningServer
) -> None:
    ids = active_tickets(sandbox, 120)
    sandbox.delay = 0.02
    threads = set(threading.enumerate())
    with ticketpulse.Client(sandbox.api_key, base_url=server.base_url) as client:
        with client.iter_ticket_urls(ids, user_id=USER, concurrency=12) as results:
            taken = [next(results) for _ in range(10)]
        assert len(taken) == 10
        assert set(threading.enumerate()) <= threads  # every worker thread joined
        sent = len(sandbox.requests)
        assert sent < len(ids)
    assert server.connections.wait_until(open=0, timeout=10)
    assert len(sandbox.requests) == sent


# --------------------------------------------------------------------------- event loops


def other_loop_cases() -> list[Any]:
    return [
        pytest.param("AsyncClient", "asyncio", id="AsyncClient-asyncio-then-asyncio"),
        pytest.param("AsyncClient", "trio", id="AsyncClient-trio-then-asyncio"),
        pytest.param(
            "AsyncClient[aiohttp]",
            "asyncio",
            id="AsyncClient[aiohttp]-asyncio-then-asyncio",
            marks=needs_aiohttp,
        ),
        pytest.param(
            "AsyncClient[builtin]", "asyncio", id="AsyncClient[builtin]-asyncio-then-asyncio"
        ),
    ]


def run_in(backend: str, work: Callable[[], Any]) -> Any:
    return anyio.run(work, backend=backend)


@pytest.mark.parametrize(("client", "first"), other_loop_cases())
def test_a_client_used_from_another_event_loop_says_what_to_do(
    sandbox: Sandbox, server: RunningServer, client: str, first: str
) -> None:
    # Its own loop runs in another thread (as an app's would) and outlives the check.
    with anyio.from_thread.start_blocking_portal(first) as portal:
        made = client_class(client)(sandbox.api_key, base_url=server.base_url)
        assert portal.call(made.get_events)
        with pytest.raises(RuntimeError) as caught:
            asyncio.run(made.get_events())
        message = str(caught.value)
        assert "Event loop is closed" not in message
        assert "bound to the event loop" in message
        assert "create the client inside the loop" in message
        assert portal.call(made.get_events)  # still fine in its own loop
        portal.call(made.aclose)
    assert server.connections.wait_until(open=0, timeout=10)


@pytest.mark.parametrize(("client", "first"), other_loop_cases())
def test_a_client_closed_after_its_event_loop_ended_closes_its_connections(
    sandbox: Sandbox, server: RunningServer, client: str, first: str
) -> None:
    api = Api(client_class(client)(sandbox.api_key, base_url=server.base_url))
    assert run_in(first, api.get_events)
    assert server.connections.accepted == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            asyncio.run(api.client.aclose())
            closed = server.connections.wait_until(open=0, timeout=2)
        finally:
            del api
            gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    assert closed


@pytest.mark.parametrize(("client", "first"), other_loop_cases())
def test_a_client_used_after_its_event_loop_ended_says_so(
    sandbox: Sandbox, server: RunningServer, client: str, first: str
) -> None:
    api = Api(client_class(client)(sandbox.api_key, base_url=server.base_url))
    assert run_in(first, api.get_events)
    # The loop closed the connections as it ended, before anyone called aclose().
    assert server.connections.wait_until(open=0, timeout=10)
    with pytest.raises(RuntimeError) as caught:
        run_in("asyncio", api.get_events)
    assert "has ended" in str(caught.value)
    assert "create the client inside the loop" in str(caught.value)
    run_in("asyncio", api.client.aclose)  # nothing left to close: no error


@pytest.mark.parametrize(("client", "backend"), other_loop_cases())
def test_a_client_dropped_without_aclose_closes_its_connections(
    sandbox: Sandbox, server: RunningServer, client: str, backend: str
) -> None:
    async def use_and_drop() -> None:
        api = Api(client_class(client)(sandbox.api_key, base_url=server.base_url))
        assert await api.get_events()
        assert server.connections.open == 1
        del api
        gc.collect()
        # The loop's finalizer closes them while the loop goes on.
        for _ in range(100):
            await anyio.sleep(0.01)
            if server.connections.open == 0:
                break
        assert server.connections.open == 0

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_in(backend, use_and_drop)
        gc.collect()
    leaks = [str(w.message) for w in caught if w.category is ResourceWarning]
    # trio warns of any async generator it has to finalize (here the client's
    # loop guard): fair for a client never closed. No socket is left open.
    assert [leak for leak in leaks if "unclosed" in leak] == []
    assert len(leaks) == (1 if backend == "trio" else 0)


def test_aclose_from_another_loop_while_its_own_is_open_says_what_to_do(
    sandbox: Sandbox, server: RunningServer
) -> None:
    with anyio.from_thread.start_blocking_portal("asyncio") as portal:
        client = ticketpulse.AsyncClient(sandbox.api_key, base_url=server.base_url)
        assert portal.call(client.get_events)
        with pytest.raises(RuntimeError, match="close the client inside that loop"):
            asyncio.run(client.aclose())
        portal.call(client.aclose)  # still closable where it belongs
        assert server.connections.wait_until(open=0, timeout=10)


# Regression: CPython (3.11) attaches an accepted socket to its server a loop turn
# after accepting it; a server closed in between leaked the socket.
def test_stopping_the_sandbox_server_closes_connections_it_has_not_served_yet() -> None:
    sandbox = Sandbox.demo()
    running = sandbox.start_server()
    waiting: list[socket.socket] = []

    def stop_with_connections_waiting(_: object) -> bool:
        # Runs on the server's loop, which cannot accept meanwhile: five clients
        # connect (the kernel queues them), then the stop is scheduled.
        waiting.extend(socket.create_connection(("127.0.0.1", running.port)) for _ in range(5))
        with contextlib.suppress(RuntimeError):  # the server's thread cannot join itself
            running.stop()
        return False

    sandbox.faults.inject(Respond(500), times=1, when=stop_with_connections_waiting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{running.base_url}/events", params={"key": sandbox.api_key}, timeout=10)
        running.stop()
        for client in waiting:
            client.close()
        gc.collect()
    assert len(waiting) == 5
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
