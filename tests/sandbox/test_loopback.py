"""The sandbox over real loopback sockets: the built-in h11 server and uvicorn."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
import zxingcpp
from PIL import Image

from ticketpulse.testing import (
    DEMO_API_KEY,
    Drop,
    NotJSON,
    Respond,
    Sandbox,
    Stall,
    StallBody,
    Truncate,
)
from ticketpulse.testing._serve import Backend

pytestmark = pytest.mark.sockets

KEY = DEMO_API_KEY
ORDER = {
    "wp_user_id": 789,
    "order_lines": [
        {
            "tp_event_ticket_id": 51,
            "name": "Front Row",
            "quantity": 1,
            "product_id": 1,
            "order_item_type": "line_item",
            "unit_price": 49,
        }
    ],
}


@pytest.fixture
def base_url(sandbox: Sandbox) -> Iterator[str]:
    with sandbox.serve() as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=5) as http:
        yield http


def test_serves_the_api_and_files_over_loopback(
    sandbox: Sandbox, base_url: str, client: httpx.Client
) -> None:
    assert base_url.startswith("http://127.0.0.1:")
    assert base_url.endswith("/tp-api")
    assert [e["id"] for e in client.get("/events", params={"key": KEY}).json()] == [12, 15, 16]
    response = client.post("/orders/create", params={"key": KEY}, json=ORDER)
    assert (response.status_code, response.text) == (200, "Order created")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    (ref,) = sandbox.orders()[0].ticket_refs
    sandbox.activate_ticket(ref)
    url = client.get(
        "/users/get-ticket", params={"key": KEY, "wp_user_id": 789, "ticket_id": ref}
    ).json()
    origin = base_url.removesuffix("/tp-api")
    assert url.startswith(f"{origin}/files/tickets/ticket_{ref}.png?secret=eyJ")
    png = client.get(url)
    assert png.headers["content-type"] == "image/png"
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [ref]
    assert client.get("/events").status_code == 403


def test_keep_alive_reuses_one_connection(sandbox: Sandbox, client: httpx.Client) -> None:
    for _ in range(20):
        assert client.get("/events", params={"key": KEY}).status_code == 200
    assert (sandbox.connections.accepted, sandbox.connections.open) == (1, 1)
    client.close()
    assert sandbox.connections.wait_until(open=0, timeout=5)
    assert sandbox.connections.peak == 1


def test_connection_counts_show_the_clients_pool_limit(sandbox: Sandbox, base_url: str) -> None:
    sandbox.faults.inject(Stall(0.1), times=None)
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=3)
    with httpx.Client(base_url=base_url, limits=limits, timeout=10) as client:

        def call() -> None:
            assert client.get("/events", params={"key": KEY}).status_code == 200

        threads = [threading.Thread(target=call) for _ in range(9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sandbox.connections.peak == 3
        assert sandbox.connections.accepted == 3
    assert sandbox.connections.wait_until(open=0)
    sandbox.connections.reset()
    assert (sandbox.connections.accepted, sandbox.connections.peak) == (0, 0)
    assert "open=0" in repr(sandbox.connections)


def test_stopping_the_server_closes_idle_connections(sandbox: Sandbox) -> None:
    with sandbox.serve() as url, httpx.Client(base_url=url) as client:
        client.get("/events", params={"key": KEY})
        assert sandbox.connections.open == 1
    assert sandbox.connections.open == 0


def test_drop_before_acting(sandbox: Sandbox, client: httpx.Client) -> None:
    client.get("/events", params={"key": KEY})  # a kept-alive connection gets dropped too
    sandbox.faults.inject(Drop(), method="POST")
    with pytest.raises(httpx.RemoteProtocolError, match=r"^Server disconnected without sending"):
        client.post("/orders/create", params={"key": KEY}, json=ORDER)
    assert sandbox.order_count() == 0
    assert client.post("/orders/create", params={"key": KEY}, json=ORDER).status_code == 200


def test_drop_after_acting(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.inject(Drop(after_acting=True))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/orders/create", params={"key": KEY}, json=ORDER)
    assert sandbox.order_count() == 1
    assert sandbox.stock(51) == 3


def test_stall_past_the_read_timeout(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.inject(Stall(30))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/orders/create", params={"key": KEY}, json=ORDER, timeout=0.2)
    assert time.monotonic() - started < 5
    assert sandbox.order_count() == 1
    # httpx discards the timed-out connection; the stalled server notices at once.
    assert sandbox.connections.wait_until(open=0, timeout=5)


def test_stall_in_the_body_and_truncation(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.inject(StallBody(0.05))
    sandbox.faults.inject(StallBody(30))
    sandbox.faults.inject(Truncate())
    started = time.monotonic()
    assert len(client.get("/events", params={"key": KEY}).json()) == 3
    assert time.monotonic() - started >= 0.05
    with pytest.raises(httpx.ReadTimeout):
        client.get("/events", params={"key": KEY}, timeout=0.2)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        client.post("/orders/create", params={"key": KEY}, json=ORDER)
    assert str(caught.value) == (
        "peer closed connection without sending complete message body"
        " (received 6 bytes, expected 13)"
    )
    assert sandbox.order_count() == 1


def test_status_faults_over_the_wire(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.inject(Respond(503, retry_after=3))
    sandbox.faults.inject(NotJSON())
    response = client.get("/events", params={"key": KEY})
    assert (response.status_code, response.headers["retry-after"]) == (503, "3")
    assert response.reason_phrase == "Service Unavailable"
    assert client.get("/events", params={"key": KEY}).text.startswith("<!DOCTYPE html>")


def test_global_delay_applies_over_the_wire(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.delay = 0.05
    started = time.monotonic()
    client.get("/events", params={"key": KEY})
    assert time.monotonic() - started >= 0.05


def test_concurrent_orders_over_sockets_never_oversell(sandbox: Sandbox, base_url: str) -> None:
    statuses: list[int] = []
    with httpx.Client(base_url=base_url, limits=httpx.Limits(max_connections=16)) as client:

        def buy() -> None:
            response = client.post("/orders/create", params={"key": KEY}, json=ORDER)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=buy) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 4 + [400] * 12
    assert (sandbox.order_count(), sandbox.stock(51)) == (4, 0)


def test_malformed_http_gets_a_400(base_url: str) -> None:
    host, port = base_url.removeprefix("http://").removesuffix("/tp-api").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 ")


def test_bad_server_arguments(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="builtin"):
        sandbox.start_server(server="nginx")  # type: ignore[arg-type]
    with sandbox.serve() as url:
        port = int(url.removesuffix("/tp-api").rsplit(":", 1)[1])
        with pytest.raises(OSError):  # noqa: PT011 -- the OS's own error
            sandbox.start_server(port=port)


def test_running_server_handle(sandbox: Sandbox) -> None:
    with sandbox.start_server() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/tp-api"
        assert server.backend == "builtin"
        assert "builtin" in repr(server)
        assert httpx.get(server.base_url + "/events", params={"key": KEY}).status_code == 200
    server.stop()  # stopping twice is harmless


@pytest.mark.anyio
async def test_async_serve_and_cancellation_leave_no_connection_open(sandbox: Sandbox) -> None:
    sandbox.faults.inject(Stall(30), times=None, path="/tp-api/users/")
    async with sandbox.aserve() as url, httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/events", params={"key": KEY})).status_code == 200

        async def stuck(user: int) -> None:
            await client.get(f"/users/{user}/events", params={"key": KEY})

        with anyio.move_on_after(0.2):
            async with anyio.create_task_group() as group:
                for user in range(1, 6):
                    group.start_soon(stuck, user)
        # httpx closes the cancelled requests' connections; the stalled server sees it.
        closed = await anyio.to_thread.run_sync(lambda: sandbox.connections.wait_until(open=0))
        assert closed
        assert sandbox.connections.peak == 5
    assert sandbox.connections.open == 0


# ---------------------------------------------------------------------------- uvicorn


@pytest.fixture
def uvicorn_url(sandbox: Sandbox) -> Iterator[str]:
    with sandbox.serve(server="uvicorn") as url:
        yield url


def test_uvicorn_serves_the_same_api(sandbox: Sandbox, uvicorn_url: str) -> None:
    with httpx.Client(base_url=uvicorn_url) as client:
        for _ in range(5):
            assert client.get("/events", params={"key": KEY}).status_code == 200
        response = client.post("/orders/create", params={"key": KEY}, json=ORDER)
        assert (response.status_code, response.text) == (200, "Order created")
        assert sandbox.connections.accepted == 1
        assert sandbox.connections.open == 1
    assert sandbox.connections.wait_until(open=0)
    assert sandbox.requests[-1].status == 200


def test_uvicorn_faults(sandbox: Sandbox, uvicorn_url: str) -> None:
    sandbox.faults.inject(Drop())
    sandbox.faults.inject(Drop(after_acting=True))
    sandbox.faults.inject(Truncate())
    sandbox.faults.inject(Respond(503, retry_after=1))
    sandbox.faults.inject(StallBody(0.05))
    sandbox.faults.inject(Stall(30))
    with httpx.Client(base_url=uvicorn_url, timeout=5) as client:
        with pytest.raises(httpx.RemoteProtocolError, match=r"^Server disconnected without"):
            client.post("/orders/create", params={"key": KEY}, json=ORDER)
        assert sandbox.order_count() == 0
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/orders/create", params={"key": KEY}, json=ORDER)
        assert sandbox.order_count() == 1
        with pytest.raises(httpx.RemoteProtocolError, match="received 6 bytes, expected 13"):
            client.post("/orders/create", params={"key": KEY}, json=ORDER)
        assert client.get("/events", params={"key": KEY}).headers["retry-after"] == "1"
        assert len(client.get("/events", params={"key": KEY}).json()) == 3
        with pytest.raises(httpx.ReadTimeout):
            client.get("/events", params={"key": KEY}, timeout=0.2)
    assert sandbox.connections.wait_until(open=0)


@pytest.mark.parametrize("server", ["builtin", "uvicorn"])
def test_answers_do_not_wait_for_delayed_acks(sandbox: Sandbox, server: Backend) -> None:
    # Without TCP_NODELAY each answer waits ~40 ms for the client's delayed ACK.
    with sandbox.serve(server=server) as url, httpx.Client(base_url=url) as client:
        client.get("/events", params={"key": KEY})
        started = time.monotonic()
        for _ in range(20):
            client.get("/events", params={"key": KEY})
        assert time.monotonic() - started < 0.5
