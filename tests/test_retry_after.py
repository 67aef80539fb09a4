"""``RateLimitError.retry_after``: how long the server asked to wait (SPEC §10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

import ticketpulse

from .conftest import Api

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),  # over the SDK's 60 s cap: raised at once, not retried
        (None, None),
        ("soon", None),
    ],
)
async def test_a_429_says_how_long_to_wait(
    api: Api,
    mock: respx.MockRouter,
    sleeps: list[float],
    header: str | None,
    expected: float | None,
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    route = mock.get("/events").mock(
        return_value=httpx.Response(429, text="Slow down", headers=headers)
    )
    client = api.client.with_options(max_retries=0) if expected is None else api.client
    with pytest.raises(ticketpulse.RateLimitError) as caught:
        await Api(client).get_events()
    assert caught.value.retry_after == expected
    assert route.call_count == 1


async def test_an_http_date_is_seconds_from_now(api: Api, mock: respx.MockRouter) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=300), usegmt=True)
    mock.get("/events").mock(return_value=httpx.Response(429, headers={"Retry-After": when}))
    with pytest.raises(ticketpulse.RateLimitError) as caught:
        await api.get_events()
    assert caught.value.retry_after is not None
    assert 290 <= caught.value.retry_after <= 300
