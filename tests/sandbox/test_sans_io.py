"""The sans-I/O core, and the plain ASGI app, driven without any server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ticketpulse.testing import (
    DEMO_API_KEY,
    Delivery,
    Drop,
    HTTPRequest,
    Sandbox,
    StallBody,
    Truncate,
)


def test_respond_maps_plain_values_to_plain_values(sandbox: Sandbox) -> None:
    answer = sandbox.app.respond(
        HTTPRequest("GET", "/tp-api/events", f"key={DEMO_API_KEY}", [("Host", "x")])
    )
    assert answer.status == 200
    assert dict(answer.headers)["content-type"] == "application/json"
    assert dict(answer.headers)["content-length"] == str(len(answer.body))
    assert json.loads(answer.body)[0]["id"] == 12
    assert len(sandbox.requests) == 0  # respond() alone logs nothing


def test_exchange_logs_and_applies_faults(sandbox: Sandbox) -> None:
    sandbox.faults.inject(Drop())
    sandbox.faults.inject(StallBody(2))
    request = HTTPRequest("GET", "/tp-api/events", f"key={DEMO_API_KEY}")
    dropped = sandbox.app.exchange(request)
    assert (dropped.response, dropped.delivery) == (None, Delivery.DROP)
    stalled = sandbox.app.exchange(request)
    assert (stalled.delivery, stalled.body_stall) == (Delivery.STALL_BODY, 2)
    assert stalled.response is not None
    assert stalled.split == len(stalled.response.body) // 2
    assert [r.fault for r in sandbox.requests] == ["Drop", "StallBody"]


def test_signed_urls_without_a_host_header_use_the_server_name(sandbox: Sandbox) -> None:
    order = sandbox.add_order(wp_user_id=1, items={45: 1})
    sandbox.activate_ticket(order.ticket_refs[0])
    answer = sandbox.app.respond(
        HTTPRequest(
            "GET",
            "/tp-api/users/get-ticket",
            f"key={DEMO_API_KEY}&wp_user_id=1&ticket_id={order.ticket_refs[0]}",
            server="10.0.0.1:9",
        )
    )
    assert json.loads(answer.body).startswith("http://10.0.0.1:9/files/tickets/ticket_")


class _ASGI:
    """Drives an ASGI app with one request and records what it sends."""

    def __init__(self, body: bytes = b"") -> None:
        self.incoming: list[dict[str, Any]] = [
            {"type": "http.request", "body": body, "more_body": False}
        ]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.incoming:
            return self.incoming.pop(0)
        return {"type": "http.disconnect"}

    async def send(self, message: Any) -> None:
        self.sent.append(dict(message))


def _scope(path: str, query: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"example.test")],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 5000),
    }


@pytest.mark.anyio
async def test_the_asgi_app_answers(sandbox: Sandbox) -> None:
    io = _ASGI()
    await sandbox.asgi_app(
        _scope("/tp-api/events", f"key={DEMO_API_KEY}".encode()), io.receive, io.send
    )
    start, body = io.sent
    assert start["status"] == 200
    assert (b"content-type", b"application/json") in start["headers"]
    assert json.loads(body["body"])[0]["name"] == "Summer Festival 2025"


@pytest.mark.anyio
async def test_plain_asgi_approximates_connection_faults(sandbox: Sandbox) -> None:
    sandbox.faults.inject(Drop())
    sandbox.faults.inject(Truncate())
    scope = _scope("/tp-api/events", f"key={DEMO_API_KEY}".encode())
    dropped = _ASGI()
    await sandbox.asgi_app(scope, dropped.receive, dropped.send)
    # No way to close the socket in plain ASGI: headers promising a body never sent.
    assert [m["type"] for m in dropped.sent] == ["http.response.start"]
    truncated = _ASGI()
    await sandbox.asgi_app(scope, truncated.receive, truncated.send)
    assert [m.get("more_body") for m in truncated.sent[1:]] == [True]


@pytest.mark.anyio
async def test_the_asgi_app_speaks_lifespan(sandbox: Sandbox) -> None:
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    await sandbox.asgi_app({"type": "lifespan"}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
