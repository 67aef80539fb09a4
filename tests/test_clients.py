"""Construction, settings, lifetimes and pool sharing of both clients (SPEC §2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
import pytest
import respx

import ticketpulse

from .conftest import BASE, KEY, Api

pytestmark = pytest.mark.anyio


async def test_no_key_anywhere_is_a_configuration_error(
    client_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TICKETPULSE_API_KEY", raising=False)
    with pytest.raises(ticketpulse.ConfigurationError, match="TICKETPULSE_API_KEY"):
        client_class()
    with pytest.raises(ticketpulse.ConfigurationError):
        client_class("")


@pytest.mark.parametrize("key", ["has space", "new\nline", 123])
async def test_malformed_keys_are_refused_without_echoing_them(
    client_class: type[Any], key: Any
) -> None:
    with pytest.raises(ticketpulse.ConfigurationError) as caught:
        client_class(key)
    assert str(key) not in str(caught.value)


async def test_key_and_base_url_come_from_the_environment(
    make_api: Callable[..., Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TICKETPULSE_API_KEY", "env-key")
    monkeypatch.setenv("TICKETPULSE_BASE_URL", "http://127.0.0.1:9/tp-api/")
    api = make_api(api_key=None)
    assert api.client.base_url == "http://127.0.0.1:9/tp-api"
    with respx.mock(base_url="http://127.0.0.1:9/tp-api") as router:
        route = router.get("/events").respond(200, json=[])
        await api.get_events()
    assert route.calls.last.request.url.params["key"] == "env-key"


async def test_default_base_url_is_the_documented_one(api: Api) -> None:
    assert api.client.base_url == "https://ticket-pulse.com/tp-api"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", "5"),
        ("max_retries", -1),
        ("max_retries", True),
        ("max_retries", 1.5),
    ],
)
async def test_invalid_settings_are_refused(
    client_class: type[Any], setting: str, value: Any
) -> None:
    with pytest.raises(ticketpulse.ConfigurationError):
        client_class(KEY, **{setting: value})


async def test_wrong_kind_of_http_client_is_refused(client_class: type[Any]) -> None:
    wrong = httpx.Client() if client_class is ticketpulse.AsyncClient else httpx.AsyncClient()
    with pytest.raises(ticketpulse.ConfigurationError, match="http_client"):
        client_class(KEY, http_client=wrong)
    if isinstance(wrong, httpx.Client):
        wrong.close()
    else:
        await wrong.aclose()


async def test_default_timeout_is_finite(api: Api, mock: respx.MockRouter) -> None:
    route = mock.get("/events").respond(200, json=[])
    await api.get_events()
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}


async def test_timeout_applies_to_requests_and_with_options(
    make_api: Callable[..., Api], mock: respx.MockRouter
) -> None:
    api = make_api(timeout=2.5)
    route = mock.get("/events").respond(200, json=[])
    await api.get_events()
    assert route.calls.last.request.extensions["timeout"]["read"] == 2.5
    await Api(api.client.with_options(timeout=httpx.Timeout(9.0))).get_events()
    assert route.calls.last.request.extensions["timeout"]["read"] == 9.0
    assert api.client.timeout.read == 2.5


async def test_with_options_shares_the_pool(api: Api) -> None:
    copy = api.client.with_options(max_retries=5)
    assert copy._transport is api.client._transport  # type: ignore[union-attr]
    assert copy.max_retries == 5
    assert api.client.max_retries == 2
    await Api(copy).close()  # closing a copy leaves the pool open
    assert not api.client._transport.is_closed  # type: ignore[union-attr]


async def test_closing_closes_an_owned_pool(make_api: Callable[..., Api]) -> None:
    api = make_api()
    await api.close()
    assert api.client._transport.is_closed  # type: ignore[union-attr]


async def test_an_injected_client_is_never_closed(
    make_api: Callable[..., Api], client_class: type[Any], mock: respx.MockRouter
) -> None:
    http: httpx.Client | httpx.AsyncClient = (
        httpx.AsyncClient() if client_class is ticketpulse.AsyncClient else httpx.Client()
    )
    api = make_api(http_client=http)
    mock.get("/events").respond(200, json=[])
    await api.get_events()
    await api.close()
    assert not http.is_closed
    if isinstance(http, httpx.AsyncClient):
        await http.aclose()
    else:
        http.close()


async def test_context_managers_close_the_pool(mock: respx.MockRouter) -> None:
    mock.get("/events").respond(200, json=[])
    async with ticketpulse.AsyncClient(KEY) as aclient:
        assert await aclient.get_events() == []
    assert aclient._transport.is_closed
    with ticketpulse.Client(KEY) as client:
        assert client.get_events() == []
    assert client._transport.is_closed


def test_sync_client_works_inside_a_running_event_loop(mock: respx.MockRouter) -> None:
    import asyncio

    mock.get("/events").respond(200, json=[])

    async def handler() -> list[ticketpulse.Event]:
        with ticketpulse.Client(KEY) as client:  # e.g. a notebook cell
            return client.get_events()

    assert asyncio.run(handler()) == []


def test_sync_client_is_shared_between_threads(mock: respx.MockRouter) -> None:
    from concurrent.futures import ThreadPoolExecutor

    route = mock.get("/events").respond(200, json=[{"id": 1}])
    with ticketpulse.Client(KEY) as client, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.get_events(), range(64)))
    assert all(r == [ticketpulse.Event(id=1)] for r in results)
    assert route.call_count == 64


async def test_repr_shows_settings_not_the_key(api: Api) -> None:
    text = repr(api.client)
    assert BASE in text
    assert "max_retries=2" in text
    assert KEY not in text


def test_async_client_used_from_another_event_loop_says_what_to_do(mock: respx.MockRouter) -> None:
    import asyncio

    mock.get("/events").respond(200, json=[])
    client = ticketpulse.AsyncClient(KEY)
    assert asyncio.run(client.get_events()) == []
    with pytest.raises(RuntimeError, match="create the client inside the loop") as caught:
        asyncio.run(client.get_events())
    assert "Event loop is closed" not in str(caught.value)
    # One error tree: a TicketPulseError too, naming the class the user built.
    assert isinstance(caught.value, ticketpulse.UsageError)
    assert isinstance(caught.value, ticketpulse.TicketPulseError)
    assert "this AsyncClient" in str(caught.value)
    with_options = client.with_options(timeout=3)
    with pytest.raises(RuntimeError, match="bound to the event loop"):
        asyncio.run(with_options.get_events())


@pytest.mark.sockets
@pytest.mark.parametrize("transport", ["httpx", "builtin"])
def test_a_bulk_run_from_another_event_loop_sends_nothing(
    transport: Literal["httpx", "builtin"],
) -> None:
    # A bulk run checks the loop once, before its workers start, not per call;
    # iter_ticket_urls on entering its block (not as each ticket's error).
    import asyncio

    from ticketpulse.testing import Sandbox

    sandbox = Sandbox()
    account = sandbox.add_account(KEY)
    event = sandbox.add_event(account, name="E", start=datetime(2031, 1, 1, tzinfo=UTC))
    ticket_type = sandbox.add_ticket_type(event, name="GA", price="1.00", stock=3)
    order = sandbox.add_order(account, wp_user_id=7, items={ticket_type.id: 3})
    for reference in order.ticket_refs:
        sandbox.activate_ticket(reference)
    server = sandbox.start_server()
    try:
        client = ticketpulse.AsyncClient(KEY, base_url=server.base_url, transport=transport)
        assert len(asyncio.run(client.get_ticket_urls(order.ticket_refs, user_id=7))) == 3
        sandbox.requests.clear()
        with pytest.raises(ticketpulse.UsageError, match="bound to the event loop"):
            asyncio.run(client.get_ticket_urls(order.ticket_refs, user_id=7))

        async def iterate() -> None:
            async with client.iter_ticket_urls(order.ticket_refs, user_id=7) as results:
                async for _ in results:
                    pass

        with pytest.raises(ticketpulse.UsageError, match="bound to the event loop"):
            asyncio.run(iterate())
        assert sandbox.requests.snapshot() == []
    finally:
        server.stop()


def test_a_closed_client_raises_a_usage_error(mock: respx.MockRouter) -> None:
    mock.get("/events").respond(200, json=[])
    client = ticketpulse.Client(KEY, transport="builtin")
    client.close()
    with pytest.raises(ticketpulse.UsageError, match="closed"):
        client.get_events()
    with pytest.raises(ticketpulse.UsageError, match="closed"):
        client.get_ticket_urls(["a", "b"], user_id=7)


def test_async_client_bound_under_trio_refuses_asyncio(mock: respx.MockRouter) -> None:
    import asyncio

    import trio

    mock.get("/events").respond(200, json=[])
    client = ticketpulse.AsyncClient(KEY)
    assert trio.run(client.get_events) == []
    with pytest.raises(RuntimeError, match="bound to the event loop"):
        trio.run(client.get_events)  # a second run is another loop too
    with pytest.raises(RuntimeError, match="bound to the event loop"):
        asyncio.run(client.get_events())


async def test_proxy_variables_send_through_the_proxy_unless_bypassed(
    client_class: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import threading

    seen: list[bytes] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def proxy() -> None:
        listener.settimeout(10)
        with listener, listener.accept()[0] as conn:
            conn.settimeout(10)
            seen.append(conn.recv(65536))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]")

    thread = threading.Thread(target=proxy, daemon=True)
    thread.start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    api = Api(client_class(KEY, base_url="http://localhost:9/tp-api", max_retries=0))
    assert await api.get_events() == []
    await api.close()
    thread.join(5)
    # The absolute form a proxy is sent (RFC 9112 §3.2.2), to the API's origin.
    assert seen[0].startswith(b"GET http://localhost:9/tp-api/events?key=")
    monkeypatch.setenv("NO_PROXY", "localhost")
    bypassed = Api(client_class(KEY, base_url="http://localhost:9/tp-api", max_retries=0))
    with pytest.raises(ticketpulse.APIConnectionError, match="could not connect"):
        await bypassed.get_events()  # straight to port 9: nothing listens
    await bypassed.close()


@pytest.mark.parametrize("client_type", [ticketpulse.Client, ticketpulse.AsyncClient])
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_the_builtin_transport_refuses_a_proxy_it_would_not_use(
    client_type: type[Any], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, "http://alice:s3cr3tpw@proxy.corp.example:3128")
    api = "https://api.partner.example/tp-api"
    with pytest.raises(ticketpulse.ConfigurationError, match="connects directly") as caught:
        client_type(KEY, base_url=api, transport="builtin")
    assert "api.partner.example" in str(caught.value)
    assert "s3cr3tpw" not in str(caught.value)
    assert "proxy.corp" not in str(caught.value)
    # The default transport goes through the proxy; a loopback API is reached directly.
    client_type(KEY, base_url=api)
    client_type(KEY, base_url="http://127.0.0.1:9/tp-api", transport="builtin")
    monkeypatch.setenv("NO_PROXY", ".partner.example")
    client_type(KEY, base_url=api, transport="builtin")


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: ticketpulse.Client(KEY, transport="aiohttp"), "transport must be one of"),
        (lambda: ticketpulse.AsyncClient(KEY, transport="h2"), "transport must be one of"),
        (
            lambda: ticketpulse.Client(KEY, transport="builtin", http_client=httpx.Client()),
            "implies transport='httpx'",
        ),
        (lambda: ticketpulse.AsyncClient(KEY, http_client=httpx.Client()), "httpx.AsyncClient"),
        (lambda: ticketpulse.Client(KEY, max_connections=0), "max_connections"),
        (lambda: ticketpulse.AsyncClient(KEY, max_response_size=True), "max_response_size"),
    ],
)
def test_transport_settings_are_checked_at_construction(make: Any, says: str) -> None:
    with pytest.raises(ticketpulse.ConfigurationError, match=says):
        make()
