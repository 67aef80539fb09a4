from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import respx

import ticketpulse
from ticketpulse import _telemetry

pytest_plugins = ["pytester"]

BASE = "https://ticket-pulse.com/tp-api"
KEY = "tp_live_S3CRETkey0123456789"
SECRET = "eyJ0aWNrZXQiOiJhM2Y5YiJ9.c2lnbmF0dXJlLXNlY3JldA"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every async test runs under both anyio backends."""
    return str(request.param)


@pytest.fixture(autouse=True)
def _untraced(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test but test_telemetry's runs as an application without tracing does.

    OpenTelemetry's tracer provider is set once per process, and test_telemetry
    sets one when it is imported (at collection): without this, every test
    collected with it would run traced, and a traced bulk run takes the usual
    path instead of chaining its calls (``AsyncClient._fetch_chained``).
    """
    module = getattr(request.node, "module", None)
    if module is None or not module.__name__.endswith("test_telemetry"):
        monkeypatch.setattr(_telemetry, "_trace", None)


class Api:
    """Both clients behind one awaitable face, so a behaviour test is written once.

    ``await api.get_events()`` calls ``AsyncClient.get_events`` or, for the
    blocking client, ``Client.get_events`` directly.
    """

    def __init__(self, client: ticketpulse.Client | ticketpulse.AsyncClient) -> None:
        self.client = client
        self.is_async = isinstance(client, ticketpulse.AsyncClient)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        if self.is_async:
            return method  # type: ignore[no-any-return]

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call

    async def close(self) -> None:
        if isinstance(self.client, ticketpulse.AsyncClient):
            await self.client.aclose()
        else:
            self.client.close()


@pytest.fixture(params=["Client", "AsyncClient"])
def client_class(
    request: pytest.FixtureRequest,
) -> type[ticketpulse.Client | ticketpulse.AsyncClient]:
    return getattr(ticketpulse, str(request.param))  # type: ignore[no-any-return]


@pytest.fixture
async def make_api(
    client_class: type[ticketpulse.Client | ticketpulse.AsyncClient],
) -> AsyncIterator[Callable[..., Api]]:
    """Build Apis over the parametrized client class; all closed after the test."""
    made: list[Api] = []

    def make(**kwargs: Any) -> Api:
        kwargs.setdefault("api_key", KEY)
        api = Api(client_class(**kwargs))
        made.append(api)
        return api

    yield make
    for api in made:
        await api.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record retry delays instead of sleeping them."""
    recorded: list[float] = []

    def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    async def fake_async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr("ticketpulse._client.sleep", fake_sleep)
    monkeypatch.setattr("ticketpulse._async_client.sleep", fake_async_sleep)
    return recorded


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here and in child processes, whoever started the run.

    A background job of a non-interactive shell starts with SIGINT ignored,
    which a child process inherits; a test that sends Ctrl-C needs it live.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
