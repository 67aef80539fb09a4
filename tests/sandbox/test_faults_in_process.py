"""Fault injection through the in-process transports, blocking and async."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

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

KEY = DEMO_API_KEY
ORDER = {
    "wp_user_id": 789,
    "order_lines": [
        {
            "tp_event_ticket_id": 45,
            "name": "GA",
            "quantity": 1,
            "product_id": 1,
            "order_item_type": "line_item",
            "unit_price": 29.95,
        }
    ],
}


def create(client: httpx.Client) -> httpx.Response:
    return client.post("/orders/create", params={"key": KEY}, json=ORDER)


async def acreate(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post("/orders/create", params={"key": KEY}, json=ORDER)


@pytest.fixture
async def ahttp(sandbox: Sandbox) -> Any:
    async with httpx.AsyncClient(
        transport=sandbox.async_transport(), base_url=sandbox.base_url
    ) as client:
        yield client


# ---------------------------------------------------------------------------- answers


def test_respond_answers_the_status_without_acting(http: httpx.Client, sandbox: Sandbox) -> None:
    rule = sandbox.faults.inject(Respond(503, retry_after=2), times=2)
    for _ in range(2):
        response = create(http)
        assert (response.status_code, response.text) == (503, "Service Unavailable")
        assert response.headers["retry-after"] == "2"
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert sandbox.order_count() == 0
    assert create(http).status_code == 200  # the third request is served
    assert (rule.fired, rule.remaining, sandbox.faults.fired) == (2, 0, 2)
    assert [r.fault for r in sandbox.requests] == ["Respond", "Respond", None]
    assert [r.status for r in sandbox.requests] == [503, 503, 200]


def test_respond_after_acting_changes_the_state(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Respond.bad_gateway_html(after_acting=True))
    response = create(http)
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<h1>502 Bad Gateway</h1>" in response.text
    assert sandbox.order_count() == 1


def test_retry_after_as_an_http_date_and_extra_headers(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    when = datetime(2025, 7, 1, 12, 0, 30, tzinfo=UTC)
    sandbox.faults.inject(Respond(429, "slow down", retry_after=when, headers={"X-A": "b"}))
    sandbox.faults.inject(Respond(503, retry_after=1.5))
    response = http.get("/events", params={"key": KEY})
    assert response.status_code == 429
    assert response.text == "slow down"
    assert response.headers["retry-after"] == "Tue, 01 Jul 2025 12:00:30 GMT"
    assert response.headers["x-a"] == "b"
    assert http.get("/events", params={"key": KEY}).headers["retry-after"] == "1.5"


def test_not_json_is_a_200_html_page(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(NotJSON(), method="GET", path="/tp-api/events")
    response = http.get("/events", params={"key": KEY})
    assert response.status_code == 200
    assert response.text.startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError):  # noqa: PT011 -- json's own error
        response.json()


# ---------------------------------------------------------------------------- connection


def test_drop_before_acting(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Drop())
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        create(http)
    assert sandbox.order_count() == 0
    assert sandbox.requests[0].status is None
    assert sandbox.requests[0].fault == "Drop"


def test_drop_after_acting_loses_the_answer_but_not_the_order(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.faults.inject(Drop(after_acting=True))
    with pytest.raises(httpx.RemoteProtocolError):
        create(http)
    assert sandbox.order_count() == 1
    assert sandbox.stock(45) == 399


def test_stall_shorter_than_the_timeout_only_delays(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Stall(0.05))
    started = time.monotonic()
    assert http.get("/events", params={"key": KEY}).status_code == 200
    assert time.monotonic() - started >= 0.05


def test_stall_longer_than_the_read_timeout_times_out_after_acting(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    sandbox.faults.inject(Stall(30))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        http.post("/orders/create", params={"key": KEY}, json=ORDER, timeout=0.1)
    assert 0.1 <= time.monotonic() - started < 5
    assert sandbox.order_count() == 1


def test_stall_in_the_body(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(StallBody(0.05), times=None)
    started = time.monotonic()
    assert len(http.get("/events", params={"key": KEY}).json()) == 3
    assert time.monotonic() - started >= 0.05
    with pytest.raises(httpx.ReadTimeout):
        http.get("/events", params={"key": KEY}, timeout=0.01)
    with http.stream("GET", "/events", params={"key": KEY}) as response:
        assert response.status_code == 200
        chunks = list(response.iter_raw())
    assert len(chunks) == 2


def test_truncated_body(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Truncate(), path="/tp-api/orders")
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        create(http)
    assert str(caught.value) == (
        "peer closed connection without sending complete message body"
        " (received 6 bytes, expected 13)"
    )
    assert sandbox.order_count() == 1


def test_global_delay(http: httpx.Client, sandbox: Sandbox) -> None:
    sandbox.delay = 0.05
    started = time.monotonic()
    http.get("/events", params={"key": KEY})
    assert time.monotonic() - started >= 0.05
    with pytest.raises(httpx.ReadTimeout):
        http.get("/events", params={"key": KEY}, timeout=0.01)
    with pytest.raises(ValueError, match=">= 0"):
        sandbox.delay = -1


# ---------------------------------------------------------------------------- matching


def test_rules_match_method_path_and_predicate(http: httpx.Client, sandbox: Sandbox) -> None:
    faults = sandbox.faults
    by_method = faults.inject(Respond(500), method="post", times=None)
    by_path = faults.inject(Respond(501), path="/tp-api/users/")
    by_when = faults.inject(Respond(502), when=lambda r: r.query.get("wp_user_id") == "7")
    assert http.get("/events", params={"key": KEY}).status_code == 200
    assert http.get("/users/1/events", params={"key": KEY}).status_code == 501
    assert http.get("/users/1/events", params={"key": KEY}).status_code == 404  # spent
    assert http.get("/events/12/tickets", params={"key": KEY, "wp_user_id": 7}).status_code == 502
    for _ in range(3):
        assert create(http).status_code == 500
    assert (by_method.fired, by_method.remaining) == (3, None)
    assert (by_path.fired, by_when.fired) == (1, 1)
    assert faults.pending == 1
    assert faults.fired_by_kind == {"Respond": 5}
    faults.clear()
    assert create(http).status_code == 200
    assert (faults.pending, faults.fired) == (0, 5)


def test_rule_arguments_are_checked(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="/tp-api/"):
        sandbox.faults.inject(Drop(), path="/events")
    with pytest.raises(ValueError, match="at least 1"):
        sandbox.faults.inject(Drop(), times=0)
    rule = sandbox.faults.inject(Drop(), path="/files")
    assert "Drop" in repr(rule)
    assert sandbox.faults.rules == [rule]


def test_file_downloads_can_fail_too(http: httpx.Client, sandbox: Sandbox) -> None:
    order = sandbox.add_order(wp_user_id=789, items={45: 1})
    ref = order.ticket_refs[0]
    sandbox.activate_ticket(ref)
    url = http.get(
        "/users/get-ticket", params={"key": KEY, "wp_user_id": 789, "ticket_id": ref}
    ).json()
    sandbox.faults.inject(Truncate(), path="/files/")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(url)
    assert http.get(url).status_code == 200


# ---------------------------------------------------------------------------- async


@pytest.mark.anyio
async def test_async_respond_and_drop(ahttp: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Respond(503, retry_after=1))
    sandbox.faults.inject(Drop())
    sandbox.faults.inject(Drop(after_acting=True))
    assert (await acreate(ahttp)).status_code == 503
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await acreate(ahttp)
    assert sandbox.order_count() == 0
    with pytest.raises(httpx.RemoteProtocolError):
        await acreate(ahttp)
    assert sandbox.order_count() == 1


@pytest.mark.anyio
async def test_async_stalls_and_timeouts(ahttp: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Stall(0.02))
    sandbox.faults.inject(Stall(30))
    sandbox.faults.inject(StallBody(0.02))
    sandbox.faults.inject(StallBody(30))
    assert (await ahttp.get("/events", params={"key": KEY})).status_code == 200
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await ahttp.post("/orders/create", params={"key": KEY}, json=ORDER, timeout=0.05)
    assert time.monotonic() - started < 5
    assert sandbox.order_count() == 1
    assert len((await ahttp.get("/events", params={"key": KEY})).json()) == 3
    with pytest.raises(httpx.ReadTimeout):
        await ahttp.get("/events", params={"key": KEY}, timeout=0.05)


@pytest.mark.anyio
async def test_async_truncate_and_not_json(ahttp: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.inject(Truncate())
    sandbox.faults.inject(NotJSON("oops"))
    with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
        await ahttp.get("/events", params={"key": KEY})
    response = await ahttp.get("/events", params={"key": KEY})
    assert (response.status_code, response.text) == (200, "oops")


@pytest.mark.anyio
async def test_async_cancellation_during_a_stall(
    ahttp: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    import anyio

    sandbox.faults.inject(Stall(30))
    with anyio.move_on_after(0.05) as scope:
        await ahttp.get("/events", params={"key": KEY})
    assert scope.cancelled_caught
    assert (await ahttp.get("/events", params={"key": KEY})).status_code == 200
