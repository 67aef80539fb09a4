"""``Client.get_ticket_urls`` on its own event loop: the sandbox over loopback sockets.

With the SDK's own connections, the blocking bulk fetch runs AsyncClient's on
a new asyncio loop in a worker thread, over connections it opens and closes
itself. These cases check what that adds to the shared bulk behaviour: the
caller's thread and its loop are left alone, an interruption cancels what is
in flight, and no connection outlives the call.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

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


def test_in_order_within_the_concurrency_and_no_connection_left_open(
    sandbox: Sandbox, server: RunningServer
) -> None:
    ids = ticket_ids(sandbox)
    # Two 503s: both meet the first request, which goes alone, and its retries.
    sandbox.faults.inject(Respond(503), times=2, path="/tp-api/users/get-ticket")
    with ticketpulse.Client(KEY, base_url=server.base_url) as client:
        urls = client.get_ticket_urls(ids, user_id=USER, concurrency=8)
        assert [u.url.split("/ticket_")[1].split(".png")[0] for u in urls] == ids
        # The bulk run's connections were its own, closed as it returned.
        assert server.connections.wait_until(open=0, timeout=5)
        assert 1 < server.connections.peak <= 8
        # Each 503 was retried on its own ticket: 2 more requests than tickets.
        asked = [r for r in sandbox.requests if r.path.endswith("/users/get-ticket")]
        assert len(asked) == len(ids) + 2


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
        assert server.connections.wait_until(open=0, timeout=5)
        assert not [
            t for t in threading.enumerate() if t.name == "ticketpulse-bulk" and t.is_alive()
        ]
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
