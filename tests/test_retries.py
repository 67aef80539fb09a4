"""Retries (SPEC §5): what is repeated, how often, how long it waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

import ticketpulse
from ticketpulse import Attendee, NewOrder, OrderLine, OrderOutcomeUnknownError

from .conftest import Api

pytestmark = pytest.mark.anyio

ORDER = NewOrder(order_lines=[OrderLine(name="GA", quantity=1, product_id=1, unit_price=5)])
PEOPLE = [Attendee("a3f9b", "Jane", "Doe", "[email protected]", "+31612345678")]
OK_EVENTS = httpx.Response(200, json=[])

TRANSIENT = [
    pytest.param(httpx.ConnectError("refused"), id="connect-error"),
    pytest.param(httpx.ConnectTimeout("slow connect"), id="connect-timeout"),
    pytest.param(httpx.ReadTimeout("slow answer"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("Server disconnected"), id="disconnected"),
    pytest.param(httpx.Response(429, text="Too Many Requests"), id="429"),
    pytest.param(httpx.Response(502, text="Bad Gateway"), id="502"),
    pytest.param(httpx.Response(503, text="Service Unavailable"), id="503"),
    pytest.param(httpx.Response(504, text="Gateway Timeout"), id="504"),
]


@pytest.mark.parametrize("failure", TRANSIENT)
async def test_get_is_retried_until_success(
    api: Api, mock: respx.MockRouter, sleeps: list[float], failure: Exception | httpx.Response
) -> None:
    route = mock.get("/events").mock(side_effect=[failure, failure, OK_EVENTS])
    assert await api.get_events() == []
    assert route.call_count == 3  # max_retries=2 by default
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ConnectError("refused"), ticketpulse.APIConnectionError),
        (httpx.ReadTimeout("slow"), ticketpulse.APITimeoutError),
        (httpx.Response(503, text="Service Unavailable"), ticketpulse.ServerError),
        (httpx.Response(429, text="slow down"), ticketpulse.RateLimitError),
    ],
)
async def test_retries_stop_at_max_retries(
    make_api: Callable[..., Api],
    mock: respx.MockRouter,
    sleeps: list[float],
    failure: Exception | httpx.Response,
    error: type[Exception],
) -> None:
    api = make_api(max_retries=3)
    route = mock.get("/events").mock(side_effect=[failure] * 10)
    with pytest.raises(error) as caught:
        await api.get_events()
    assert type(caught.value) is error
    assert route.call_count == 4
    assert len(sleeps) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
async def test_client_errors_are_sent_once(
    api: Api, mock: respx.MockRouter, sleeps: list[float], status: int
) -> None:
    route = mock.get("/events").respond(status, text="no")
    with pytest.raises(ticketpulse.APIStatusError):
        await api.get_events()
    assert route.call_count == 1
    assert sleeps == []


async def test_403_is_never_retried_even_with_retry_after(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get("/events").respond(403, text="Unauthorized", headers={"Retry-After": "1"})
    with pytest.raises(ticketpulse.AuthenticationError):
        await api.get_events()
    assert route.call_count == 1


async def test_backoff_is_exponential_with_jitter(
    make_api: Callable[..., Api], mock: respx.MockRouter, sleeps: list[float]
) -> None:
    api = make_api(max_retries=5)
    mock.get("/events").mock(side_effect=[httpx.Response(503)] * 5 + [OK_EVENTS])
    await api.get_events()
    bounds = [(0.375, 0.5), (0.75, 1.0), (1.5, 2.0), (3.0, 4.0), (6.0, 8.0)]
    assert len(sleeps) == 5
    for delay, (low, high) in zip(sleeps, bounds, strict=True):
        assert low <= delay <= high


async def test_retry_after_seconds_is_honoured(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    mock.get("/events").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), OK_EVENTS]
    )
    await api.get_events()
    assert sleeps == [7.0]


async def test_retry_after_http_date_is_honoured(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    mock.get("/events").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": when}), OK_EVENTS]
    )
    await api.get_events()
    assert len(sleeps) == 1
    assert 17 <= sleeps[0] <= 20


async def test_retry_after_beyond_the_cap_is_not_waited_for(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get("/events").respond(429, text="later", headers={"Retry-After": "3600"})
    with pytest.raises(ticketpulse.RateLimitError):
        await api.get_events()
    assert route.call_count == 1
    assert sleeps == []


async def test_garbage_retry_after_falls_back_to_backoff(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    mock.get("/events").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "soon"}), OK_EVENTS]
    )
    await api.get_events()
    assert 0.375 <= sleeps[0] <= 0.5


async def test_max_retries_zero_sends_once(
    make_api: Callable[..., Api], mock: respx.MockRouter, sleeps: list[float]
) -> None:
    api = make_api(max_retries=0)
    route = mock.get("/events").respond(503)
    with pytest.raises(ticketpulse.ServerError):
        await api.get_events()
    assert route.call_count == 1


async def test_with_options_changes_retries_for_the_copy_only(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get("/events").respond(503)
    with pytest.raises(ticketpulse.ServerError):
        await Api(api.client.with_options(max_retries=0)).get_events()
    assert route.call_count == 1
    with pytest.raises(ticketpulse.ServerError):
        await api.get_events()
    assert route.call_count == 4


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("slow answer"), id="read-timeout"),
        pytest.param(httpx.ReadError("reset"), id="read-error"),
        pytest.param(httpx.RemoteProtocolError("Server disconnected"), id="disconnected"),
        pytest.param(httpx.WriteError("broken pipe"), id="write-error"),
        pytest.param(httpx.WriteTimeout("slow write"), id="write-timeout"),
        pytest.param(httpx.Response(502, text="Bad Gateway"), id="502"),
        pytest.param(httpx.Response(503, text="Service Unavailable"), id="503"),
        pytest.param(httpx.Response(500, text="Internal Server Error"), id="500"),
    ],
)
@pytest.mark.parametrize("which", ["create_order", "mark_order_processing"])
async def test_order_lost_after_sending_is_sent_once_and_unknown(
    api: Api,
    mock: respx.MockRouter,
    sleeps: list[float],
    failure: Exception | httpx.Response,
    which: str,
) -> None:
    route = mock.post("/orders/create").mock(side_effect=[failure, httpx.Response(200)])
    call = api.create_order(ORDER) if which == "create_order" else api.mark_order_processing(123)
    with pytest.raises(OrderOutcomeUnknownError) as caught:
        await call
    assert route.call_count == 1
    assert sleeps == []
    assert "check the order" in str(caught.value)
    if isinstance(failure, httpx.Response):
        assert caught.value.status_code == failure.status_code
    else:
        assert caught.value.status_code is None


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(httpx.ConnectTimeout("slow connect"), id="connect-timeout"),
        pytest.param(httpx.PoolTimeout("pool busy"), id="pool-timeout"),
        pytest.param(httpx.Response(429, text="Too Many Requests"), id="429"),
    ],
)
async def test_order_that_never_left_is_retried(
    api: Api, mock: respx.MockRouter, sleeps: list[float], failure: Exception | httpx.Response
) -> None:
    route = mock.post("/orders/create").mock(
        side_effect=[failure, httpx.Response(200, text="Order created")]
    )
    await api.create_order(ORDER)
    assert route.call_count == 2


async def test_order_never_sent_after_retries_is_a_connection_error(
    api: Api, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.post("/orders/create").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ticketpulse.APIConnectionError) as caught:
        await api.create_order(ORDER)
    # Certainly not created: a plain connection error, not "outcome unknown".
    assert type(caught.value) is ticketpulse.APIConnectionError
    assert route.call_count == 3


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.ReadTimeout("slow answer"), id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("Server disconnected"), id="disconnected"),
        pytest.param(httpx.Response(503, text="Service Unavailable"), id="503"),
    ],
)
async def test_personalisation_is_retried(
    api: Api, mock: respx.MockRouter, sleeps: list[float], failure: Exception | httpx.Response
) -> None:
    route = mock.post("/events/12/tickets/personalize").mock(
        side_effect=[failure, httpx.Response(200, json={"tickets": [], "all_personalized": True})]
    )
    result = await api.personalize_tickets(12, user_id=7, tickets=PEOPLE)
    assert result.all_personalized is True
    assert route.call_count == 2
    # The same body both times.
    assert route.calls[0].request.content == route.calls[1].request.content


async def test_download_is_retried(
    api: Api, mock: respx.MockRouter, sleeps: list[float], tmp_path: object
) -> None:
    url = "https://ticket-pulse.com/files/tickets/ticket_a.png?secret=s"
    route = mock.get(url).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, content=b"png", headers={"content-type": "image/png"}),
        ]
    )
    written = await api.download(url, tmp_path)
    assert written.read_bytes() == b"png"
    assert route.call_count == 2


@pytest.mark.parametrize("body", [b"", b"<html>Welcome to the hotel wifi</html>", b'{"ok": true}'])
async def test_an_order_answered_200_with_something_else_is_unknown(
    api: Api, mock: respx.MockRouter, sleeps: list[float], body: bytes
) -> None:
    route = mock.post("/orders/create").respond(200, content=body)
    with pytest.raises(OrderOutcomeUnknownError) as caught:
        await api.create_order(ORDER)
    assert caught.value.status_code == 200
    assert route.call_count == 1
