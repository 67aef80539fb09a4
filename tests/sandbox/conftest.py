"""Fixtures for the sandbox's own tests: plain httpx against the sandbox, no SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, FakeClock, OrderRecord, Sandbox, _pytest_plugin

# The plugin's fixtures, also when the package is not installed (no entry point yet).
ticketpulse_sandbox = _pytest_plugin.ticketpulse_sandbox
ticketpulse_client = _pytest_plugin.ticketpulse_client
ticketpulse_async_client = _pytest_plugin.ticketpulse_async_client

KEY = DEMO_API_KEY
USER = 789


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2025, 7, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox.demo(clock=clock)


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url) as client:
        yield client


def line(
    ticket_type_id: int | None, quantity: int = 1, *, unit_price: float = 29.95
) -> dict[str, Any]:
    """One order line as the doc shows it."""
    result: dict[str, Any] = {
        "name": "Ticket",
        "quantity": quantity,
        "product_id": 101,
        "order_item_type": "line_item",
        "unit_price": unit_price,
    }
    if ticket_type_id is not None:
        result["tp_event_ticket_id"] = ticket_type_id
    return result


@pytest.fixture
def order_line() -> Callable[..., dict[str, Any]]:
    return line


@pytest.fixture
def create_order(http: httpx.Client, sandbox: Sandbox) -> Callable[..., OrderRecord]:
    """POST /orders/create with the given lines; returns the order it made."""

    def create(
        *lines: tuple[int, int], wp_user_id: int = USER, key: str = KEY, **extra: Any
    ) -> OrderRecord:
        body = {
            "wp_user_id": wp_user_id,
            "wp_order_id": "wc_456",
            "billing_information": {"email": "jane@example.com"},
            "order_lines": [line(t, q) for t, q in lines],
            **extra,
        }
        before = sandbox.order_count()
        response = http.post("/orders/create", params={"key": key}, json=body)
        assert (response.status_code, response.text) == (200, "Order created")
        assert sandbox.order_count() == before + 1
        return sandbox.orders()[-1]

    return create


@pytest.fixture
def personalize(http: httpx.Client) -> Callable[..., httpx.Response]:
    """POST /events/{id}/tickets/personalize for the given ticket references."""

    def call(event_id: int, *refs: str, wp_user_id: int = USER, key: str = KEY) -> httpx.Response:
        tickets = [
            {
                "ticket_id": ref,
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "jane@example.com",
                "tel": "+31612345678",
            }
            for ref in refs
        ]
        return http.post(
            f"/events/{event_id}/tickets/personalize",
            params={"key": key, "wp_user_id": wp_user_id},
            json={"tickets": tickets},
        )

    return call
