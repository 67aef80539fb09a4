"""Security (SPEC §6): secrets never shown, https only, no redirects, input checked."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import ticketpulse
from ticketpulse import Attendee, InvalidRequestError, NewOrder, OrderLine

from .conftest import BASE, KEY, SECRET, Api

pytestmark = pytest.mark.anyio

LOGGERS = ["", "httpx", "httpcore", "ticketpulse", "hpack"]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, records captured."""
    previous = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)


def rendered(error: BaseException) -> str:
    return "".join(traceback.format_exception(error)) + repr(error) + str(error)


async def test_secrets_appear_in_no_log_error_or_repr(
    make_api: Callable[..., Api],
    mock: respx.MockRouter,
    sleeps: list[float],
    all_logs: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    api = make_api()
    signed = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"
    mock.get("/events").mock(
        side_effect=[
            httpx.ConnectError(f"failed for {BASE}/events?key={KEY}"),
            httpx.Response(503),
            httpx.Response(200, json=[]),
        ]
    )
    mock.get("/users/get-ticket").respond(200, json=signed)
    mock.get("/orders/get-ticket").respond(401, text=f"File not found for key={KEY}")
    mock.get("/users/789/events").respond(403, text="Unauthorized")
    mock.post("/orders/create").mock(side_effect=httpx.ReadTimeout("lost"))
    mock.get("/events/12/tickets").mock(side_effect=httpx.ReadTimeout(f"GET {BASE}?key={KEY}"))
    mock.get(signed).mock(side_effect=[httpx.Response(503), httpx.Response(200, content=b"png")])

    errors: list[BaseException] = []
    await api.get_events()
    url = await api.get_ticket_url("a3f9b", user_id=789)
    await api.download(url, tmp_path / "qr.png")
    for call in (
        lambda: api.get_order_pdf_url("TP-1", user_id=789),
        lambda: api.get_user_events(789),
        lambda: api.create_order(NewOrder(order_lines=[OrderLine("GA", 1, 1, 1)])),
        lambda: api.get_event_tickets(12, user_id=789),
    ):
        with pytest.raises(ticketpulse.TicketPulseError) as caught:
            await call()
        errors.append(caught.value)

    assert len(all_logs.records) > 5  # httpx logged every request, retries were logged
    for record in all_logs.records:
        text = record.getMessage() + repr(record.args) + str(record.msg)
        assert KEY not in text, text
        assert SECRET not in text, text
    for error in errors:
        assert KEY not in rendered(error)
        assert SECRET not in rendered(error)
    for shown in (repr(api.client), repr(url), str(url), repr(vars(api.client))):
        assert KEY not in shown
        assert SECRET not in shown


async def test_the_key_cannot_be_pickled(api: Api) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(api.client._key)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "base_url",
    [
        "http://ticket-pulse.com/tp-api",
        "http://10.0.0.1/tp-api",
        "http://127.0.0.1.example.com/x",
        "ftp://ticket-pulse.com",
    ],
)
async def test_plain_http_to_a_remote_host_is_refused(
    client_class: type[Any], base_url: str
) -> None:
    with pytest.raises(ticketpulse.ConfigurationError, match="https"):
        client_class(KEY, base_url=base_url)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/tp-api",
        "http://127.9.9.9/tp-api",
        "http://localhost:1/tp-api",
        "http://[::1]:8080/tp-api",
    ],
)
async def test_plain_http_to_loopback_is_allowed(
    make_api: Callable[..., Api], base_url: str
) -> None:
    assert make_api(base_url=base_url).client.base_url == base_url


@pytest.mark.parametrize(
    "base_url",
    [
        "https://user:pw@ticket-pulse.com/tp-api",
        "https://ticket-pulse.com/tp-api?key=x",
        "not a url",
        "https://:99999",
    ],
)
async def test_odd_base_urls_are_refused(client_class: type[Any], base_url: str) -> None:
    with pytest.raises(ticketpulse.ConfigurationError):
        client_class(KEY, base_url=base_url)


async def test_a_redirect_is_not_followed(api: Api, mock: respx.MockRouter) -> None:
    mock.get("/events").respond(302, headers={"Location": "https://evil.example/steal"})
    evil = respx.get("https://evil.example/steal").respond(200, json=[])
    with pytest.raises(ticketpulse.APIStatusError) as caught:
        await api.get_events()
    assert caught.value.status_code == 302
    assert evil.call_count == 0


async def test_a_redirect_is_not_followed_by_an_injected_client(
    make_api: Callable[..., Api], mock: respx.MockRouter, client_class: type[Any]
) -> None:
    http: httpx.Client | httpx.AsyncClient = (
        httpx.AsyncClient(follow_redirects=True)
        if client_class is ticketpulse.AsyncClient
        else httpx.Client(follow_redirects=True)
    )
    api = make_api(http_client=http)
    mock.get("/events").respond(302, headers={"Location": f"{BASE}/elsewhere"})
    other = mock.get("/elsewhere").respond(200, json=[])
    with pytest.raises(ticketpulse.APIStatusError):
        await api.get_events()
    assert other.call_count == 0
    if isinstance(http, httpx.AsyncClient):
        await http.aclose()
    else:
        http.close()


BAD_IDS = [True, False, 0, -1, "1", 1.5, None, b"1", 2**70 * 0.5]


def bad_calls(bad: Any) -> list[Callable[[Api], Any]]:
    good_people = [Attendee("a", "b", "c", "d", "e")]
    return [
        lambda a: a.get_user_events(bad),
        lambda a: a.get_event_tickets(bad, user_id=1),
        lambda a: a.get_event_tickets(1, user_id=bad),
        lambda a: a.personalize_tickets(bad, user_id=1, tickets=good_people),
        lambda a: a.personalize_tickets(1, user_id=bad, tickets=good_people),
        lambda a: a.get_ticket_url("a", user_id=bad),
        lambda a: a.get_order_pdf_url("a", user_id=bad),
        lambda a: a.mark_order_processing(bad),
    ]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_invalid_ids_are_refused_before_sending(
    api: Api, mock: respx.MockRouter, bad: Any
) -> None:
    for call in bad_calls(bad):
        with pytest.raises(InvalidRequestError):
            await call(api)
    assert mock.calls.call_count == 0


BAD_REFERENCES = ["", "   ", "a\nb", "a\rb", "a\x00b", "x" * 201, 12, None, b"a3f9b"]


@pytest.mark.parametrize("bad", BAD_REFERENCES, ids=repr)
async def test_invalid_references_are_refused_before_sending(
    api: Api, mock: respx.MockRouter, bad: Any
) -> None:
    with pytest.raises(InvalidRequestError):
        await api.get_ticket_url(bad, user_id=1)
    with pytest.raises(InvalidRequestError):
        await api.get_order_pdf_url(bad, user_id=1)
    assert mock.calls.call_count == 0


@pytest.mark.parametrize(
    "crafted",
    [
        "a&key=x",
        "a&wp_user_id=2",
        "../x",
        "a/../../events",
        "a#frag",
        "a?b=c",
        "a%26key%3Dx",
        "a b+c",
    ],
)
async def test_references_cannot_change_the_request(
    api: Api, mock: respx.MockRouter, crafted: str
) -> None:
    route = mock.get("/users/get-ticket").respond(
        200, json="https://ticket-pulse.com/f.png?secret=s"
    )
    await api.get_ticket_url(crafted, user_id=7)
    request = route.calls.last.request
    assert request.url.path == "/tp-api/users/get-ticket"
    assert list(request.url.params.multi_items()) == [
        ("wp_user_id", "7"),
        ("ticket_id", crafted),
        ("key", KEY),
    ]


@pytest.mark.parametrize(
    "order",
    [
        NewOrder(),  # no lines
        NewOrder(order_lines=[OrderLine("GA", 0, 1, 1)]),
        NewOrder(order_lines=[OrderLine("GA", 1, -5, 1)]),
        NewOrder(order_lines=[OrderLine("", 1, 1, 1)]),
        NewOrder(order_lines=[OrderLine("GA", True, 1, 1)]),
        NewOrder(order_lines=[OrderLine("GA", 1, 1, 1, tp_event_ticket_id=0)]),
        NewOrder(order_lines=[OrderLine("GA", 1, 1, 1, order_item_type="")]),
        NewOrder(wp_user_id=-1, order_lines=[OrderLine("GA", 1, 1, 1)]),
        NewOrder(locale="nl\r\nX-Evil: 1", order_lines=[OrderLine("GA", 1, 1, 1)]),
        "not an order",
    ],
)
async def test_invalid_orders_are_refused_before_sending(
    api: Api, mock: respx.MockRouter, order: Any
) -> None:
    with pytest.raises(InvalidRequestError):
        await api.create_order(order)
    assert mock.calls.call_count == 0


async def test_naive_datetimes_are_refused(api: Api, mock: respx.MockRouter) -> None:
    from datetime import datetime

    order = NewOrder(date_paid=datetime(2025, 1, 1), order_lines=[OrderLine("GA", 1, 1, 1)])
    with pytest.raises(InvalidRequestError, match="timezone"):
        await api.create_order(order)
    assert mock.calls.call_count == 0


@pytest.mark.parametrize(
    "tickets",
    [
        [],
        "a3f9b",
        [Attendee("", "b", "c", "d", "e")],
        [Attendee("a", "b", "c", "d", "")],
        [{"ticket_id": "a"}],
        None,
    ],
    ids=repr,
)
async def test_invalid_attendees_are_refused_before_sending(
    api: Api, mock: respx.MockRouter, tickets: Any
) -> None:
    with pytest.raises(InvalidRequestError):
        await api.personalize_tickets(1, user_id=1, tickets=tickets)
    assert mock.calls.call_count == 0


@pytest.mark.parametrize(
    "url", ["http://evil.example/x.png?secret=s", "ftp://x/y", "", "/files/x.png", 42]
)
async def test_unsafe_download_urls_are_refused(
    api: Api, mock: respx.MockRouter, url: Any, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError):
        await api.download(url, tmp_path)
    assert mock.calls.call_count == 0


async def test_download_into_a_missing_directory_is_refused(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRequestError, match="does not exist"):
        await api.download("https://ticket-pulse.com/f.png?secret=s", tmp_path / "no" / "f.png")
    assert mock.calls.call_count == 0


async def test_download_name_cannot_escape_the_directory(
    api: Api, mock: respx.MockRouter, tmp_path: Path
) -> None:
    url = "https://ticket-pulse.com/files/..%2F..%2Fetc%2Fpasswd?secret=s"
    mock.get(url).respond(200, content=b"x")
    written = await api.download(url, tmp_path)
    assert written.parent == tmp_path
