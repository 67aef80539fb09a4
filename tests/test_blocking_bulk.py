"""``Client.get_ticket_urls`` on its own event loop: the sandbox over loopback sockets.

With the SDK's own connections, the blocking bulk fetch runs AsyncClient's on
the client's private asyncio loop in a worker thread, whose connections are
kept from one call to the next until the client is closed. These cases check
what that adds to the shared bulk behaviour: the caller's thread and its loop
are left alone, an interruption cancels what is in flight, connections are
reused across calls and closed with the client, copies made by
``with_options`` keep their own settings, and after ``fork()`` a child runs
its own loop.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Literal

import pytest

import ticketpulse
from ticketpulse.testing import Respond, RunningServer, Sandbox

pytestmark = pytest.mark.sockets

KEY = "tp_blocking_bulk_0123456789"
USER = 77


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox()
    account = sandbox.add_account(KEY)
    event = sandbox.add_event(account, name="Bulk", start=datetime(2031, 1, 1, tzinfo=UTC))
    ticket_type = sandbox.add_ticket_type(event, name="GA", price="10.00", stock=40)
    order = sandbox.add_order(account, wp_user_id=USER, items={ticket_type.id: 40})
    for reference in order.ticket_refs:
        sandbox.activate_ticket(reference)
    return sandbox


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[RunningServer]:
    running = sandbox.start_server()
    try:
        yield running
    finally:
        running.stop()


def ticket_ids(sandbox: Sandbox) -> list[str]:
    return [t.reference for t in sandbox.tickets()]


def _bulk_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ticketpulse-bulk" and t.is_alive()]


@pytest.mark.parametrize("transport", ["httpx", "builtin"])
def test_in_order_within_the_concurrency_and_connections_kept_until_close(
    sandbox: Sandbox, server: RunningServer, transport: Literal["httpx", "builtin"]
) -> None:
    ids = ticket_ids(sandbox)
    # Two 503s: both meet the first request, which goes alone, and its retries.
    sandbox.faults.inject(Respond(503), times=2, path="/tp-api/users/get-ticket")
    threads_before = len(_bulk_threads())
    with ticketpulse.Client(KEY, base_url=server.base_url, transport=transport) as client:
        urls = client.get_ticket_urls(ids, user_id=USER, concurrency=8)
        assert [u.url.split("/ticket_")[1].split(".png")[0] for u in urls] == ids
        # Each 503 was retried on its own ticket: 2 more requests than tickets.
        asked = [r for r in sandbox.requests if r.path.endswith("/users/get-ticket")]
        assert len(asked) == len(ids) + 2
        opened = server.connections.accepted
        assert 1 < opened <= 8
        # The next call reuses them: no new connection (no new TLS handshake over https).
        again = client.get_ticket_urls(ids, user_id=USER, concurrency=8)
        assert len(again) == len(ids)
        assert server.connections.accepted == opened
        assert len(_bulk_threads()) == threads_before + 1
    # Closing the client closes them and ends its loop's thread.
    assert server.connections.wait_until(open=0, timeout=5)
    assert len(_bulk_threads()) == threads_before


def test_a_copy_keeps_its_own_settings_and_shares_the_loop(
    sandbox: Sandbox, server: RunningServer
) -> None:
    ids = ticket_ids(sandbox)[:8]
    with ticketpulse.Client(KEY, base_url=server.base_url, max_retries=0) as client:
        assert len(client.get_ticket_urls(ids, user_id=USER, concurrency=4)) == 8
        patient = client.with_options(max_retries=2)
        sandbox.faults.inject(Respond(503), times=2, path="/tp-api/users/get-ticket")
        assert len(patient.get_ticket_urls(ids, user_id=USER, concurrency=4)) == 8
        sandbox.faults.inject(Respond(503), times=1, path="/tp-api/users/get-ticket")
        with pytest.raises(ticketpulse.APIStatusError):
            client.get_ticket_urls(ids, user_id=USER, concurrency=4)  # no retry here
        patient.close()  # a copy's close leaves the loop and the pool to the original
        assert len(client.get_ticket_urls(ids, user_id=USER, concurrency=4)) == 8
        assert server.connections.accepted <= 4


def test_a_client_dropped_unclosed_ends_its_thread(sandbox: Sandbox, server: RunningServer) -> None:
    threads_before = len(_bulk_threads())
    client = ticketpulse.Client(KEY, base_url=server.base_url)
    assert len(client.get_ticket_urls(ticket_ids(sandbox)[:6], user_id=USER)) == 6
    assert len(_bulk_threads()) == threads_before + 1
    del client
    gc.collect()
    assert server.connections.wait_until(open=0, timeout=5)
    deadline = time.monotonic() + 5
    while len(_bulk_threads()) > threads_before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(_bulk_threads()) == threads_before


def test_a_call_running_while_another_thread_closes_gets_a_usage_error(
    sandbox: Sandbox, server: RunningServer
) -> None:
    sandbox.delay = 0.2  # 40 tickets, 2 at a time: 4 s if left to run
    client = ticketpulse.Client(KEY, base_url=server.base_url)
    closer = threading.Timer(0.5, client.close)
    closer.start()
    with pytest.raises(ticketpulse.UsageError, match="closed"):
        client.get_ticket_urls(ticket_ids(sandbox), user_id=USER, concurrency=2)
    closer.join()
    assert server.connections.wait_until(open=0, timeout=5)
    with pytest.raises(ticketpulse.UsageError, match="closed"):
        client.get_ticket_urls(ticket_ids(sandbox)[:3], user_id=USER)


def test_the_first_error_is_raised_and_the_rest_are_not_sent(
    sandbox: Sandbox, server: RunningServer
) -> None:
    ids = ticket_ids(sandbox)
    ids[1] = "T-NOT-THERE"
    sandbox.delay = 0.05
    with ticketpulse.Client(KEY, base_url=server.base_url, max_retries=0) as client:
        with pytest.raises(ticketpulse.TicketPulseError) as caught:
            client.get_ticket_urls(ids, user_id=USER, concurrency=2)
        assert "T-NOT-THERE" in str(caught.value)
    asked = [r for r in sandbox.requests if r.path.endswith("/users/get-ticket")]
    assert len(asked) < len(ids)
    assert server.connections.wait_until(open=0, timeout=5)


@pytest.mark.usefixtures("ctrl_c")
def test_an_interrupt_cancels_what_is_in_flight(sandbox: Sandbox, server: RunningServer) -> None:
    ids = ticket_ids(sandbox)
    sandbox.delay = 0.4  # 40 tickets, 4 at a time: 4 s if left to run
    main = threading.main_thread().ident
    assert main is not None
    assert threading.get_ident() == main
    # A real SIGINT (Ctrl-C) to this thread, which is waiting for the worker.
    interrupter = threading.Timer(0.6, signal.pthread_kill, (main, signal.SIGINT))
    started = time.monotonic()
    with ticketpulse.Client(KEY, base_url=server.base_url) as client:
        interrupter.start()
        with pytest.raises(KeyboardInterrupt):
            client.get_ticket_urls(ids, user_id=USER, concurrency=4)
        assert time.monotonic() - started < 3
        # The 4 requests in flight were cut off: their connections are closed.
        assert server.connections.wait_until(open=0, timeout=5)
        sandbox.delay = 0
        assert len(client.get_ticket_urls(ids[:5], user_id=USER)) == 5  # still usable


def test_called_from_a_thread_that_runs_an_event_loop(
    sandbox: Sandbox, server: RunningServer
) -> None:
    ids = ticket_ids(sandbox)[:10]

    async def main() -> list[ticketpulse.SignedURL]:
        running = asyncio.get_running_loop()
        with ticketpulse.Client(KEY, base_url=server.base_url) as client:
            urls = client.get_ticket_urls(ids, user_id=USER, concurrency=4)  # blocks, works
        assert asyncio.get_running_loop() is running
        return urls

    assert len(asyncio.run(main())) == 10


def test_the_callers_event_loop_is_left_alone(sandbox: Sandbox, server: RunningServer) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        with ticketpulse.Client(KEY, base_url=server.base_url) as client:
            assert len(client.get_ticket_urls(ticket_ids(sandbox)[:6], user_id=USER)) == 6
        assert asyncio.get_event_loop() is loop
        assert not loop.is_closed()
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_a_closed_client_refuses_to_fetch(sandbox: Sandbox, server: RunningServer) -> None:
    client = ticketpulse.Client(KEY, base_url=server.base_url)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.get_ticket_urls(ticket_ids(sandbox)[:3], user_id=USER)
    assert server.connections.accepted == 0
