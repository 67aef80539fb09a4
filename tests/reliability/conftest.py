"""Shared pieces of the reliability suites (issue 5).

The light cases run in every ``pytest`` / ``nox -s tests`` run. Tests marked
``reliability`` (the load test, the fault soak, the large hypothesis budgets)
are skipped there and run by ``nox -s reliability`` (``pytest -m reliability``)
or when ``TICKETPULSE_RELIABILITY=1`` is set.

At the end of a run the figures the README quotes (fault cases survived, bad
inputs tried, requests under load, orders lost or duplicated) are printed in
the terminal summary.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import anyio
import anyio.to_thread
import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse import NewOrder, OrderLine, TicketURLResult
from ticketpulse.testing import RunningServer, Sandbox

ENV = "TICKETPULSE_RELIABILITY"
USER = 789
HAS_AIOHTTP = importlib.util.find_spec("aiohttp") is not None
needs_aiohttp = pytest.mark.skipif(
    not HAS_AIOHTTP, reason='aiohttp is not installed (pip install "ticketpulse[aiohttp]")'
)


def with_marks(values: list[Any]) -> list[Any]:
    """``values`` as pytest params named by ``str``; those naming aiohttp skip without it."""
    return [
        pytest.param(v, id=str(v), marks=[needs_aiohttp] if "Aiohttp" in str(v) else [])
        for v in values
    ]


def heavy_selected(config: pytest.Config) -> bool:
    """Whether this run asked for the heavy, marked tests."""
    expr = str(config.getoption("markexpr", "") or "")
    chosen = "reliability" in expr and "not reliability" not in expr
    return chosen or os.environ.get(ENV) == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if heavy_selected(config):
        return
    skip = pytest.mark.skip(
        reason=f"heavy reliability case: run `nox -s reliability` (pytest -m reliability, "
        f"or {ENV}=1)"
    )
    for item in items:
        if item.get_closest_marker("reliability") is not None:
            item.add_marker(skip)


# --------------------------------------------------------------------------- figures


@dataclass
class Figures:
    """What the suites measured, for the README; printed at the end of the run."""

    examples: Counter[str] = field(default_factory=Counter)
    """Hypothesis examples run, by test."""
    refusals: Counter[str] = field(default_factory=Counter)
    """The exception types invalid arguments were refused with."""
    orders: Counter[str] = field(default_factory=Counter)
    """create_order calls by outcome, and the orders lost / duplicated."""
    faults: int = 0
    """Faults the sandbox injected in test_faults.py."""
    load: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def example(self, name: str) -> None:
        with self.lock:
            self.examples[name] += 1

    def refusal(self, kind: str) -> None:
        with self.lock:
            self.refusals[kind] += 1

    def order(self, outcome: str, count: int = 1) -> None:
        with self.lock:
            self.orders[outcome] += count


FIGURES_KEY = pytest.StashKey[Figures]()


def _figures(config: pytest.Config) -> Figures:
    if FIGURES_KEY not in config.stash:
        config.stash[FIGURES_KEY] = Figures()
    return config.stash[FIGURES_KEY]


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Figures:
    return _figures(pytestconfig)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    passed = [r for r in terminalreporter.stats.get("passed", []) if "reliability/" in r.nodeid]
    if not passed:
        return
    figures = _figures(config)
    faults = sum(1 for r in passed if "test_faults.py" in r.nodeid)
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    if faults:
        write(f"fault cases survived (test_faults.py, passed): {faults}")
        write(f"faults injected by the sandbox in them: {figures.faults}")
    total = sum(figures.examples.values())
    if total:
        write(f"bad inputs tried (hypothesis examples): {total}")
        for name, count in sorted(figures.examples.items()):
            write(f"    {name}: {count}")
    if figures.refusals:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(figures.refusals.items()))
        write(f"invalid arguments refused with: {shown}")
    if figures.orders:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(figures.orders.items()))
        write(f"create_order under faults: {shown}")
    for run in figures.load:
        write(
            "load ({client}): {requests} requests at concurrency {concurrency}, {errors} errors, "
            "{wrong} wrong answers, {rate:.0f} requests/s, sandbox connections "
            "peak {peak} (accepted {accepted})".format(**run)
        )


# --------------------------------------------------------------------------- clients


class Api:
    """Any of the three clients behind one awaitable face.

    ``await api.get_events()`` awaits ``AsyncClient`` / ``AiohttpClient``
    methods and calls the blocking ``Client`` directly (the servers run in
    their own threads, so blocking the test's event loop is harmless).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.is_async = isinstance(client, ticketpulse.AsyncClient)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.client, name)
        if self.is_async:
            return method  # type: ignore[no-any-return]

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call

    async def collect(self, ids: list[str], **kwargs: Any) -> list[TicketURLResult]:
        """Every result of ``iter_ticket_urls``, used the way each client is meant to be."""
        if self.is_async:
            async with self.client.iter_ticket_urls(ids, **kwargs) as results:
                return [result async for result in results]
        with self.client.iter_ticket_urls(ids, **kwargs) as results:
            return list(results)

    async def close(self) -> None:
        if self.is_async:
            await self.client.aclose()
        else:
            self.client.close()


@dataclass(frozen=True)
class Flavour:
    """A client class and the event loop it runs on."""

    client: str
    backend: str

    def __str__(self) -> str:
        return f"{self.client}-{self.backend}"

    def make(self, api_key: str, base_url: str, **kwargs: Any) -> Api:
        cls = client_class(self.client)
        return Api(cls(api_key, base_url=base_url, **kwargs))


FLAVOURS = [
    Flavour("Client", "asyncio"),  # blocking: the event loop only hosts the test
    Flavour("AsyncClient", "asyncio"),
    Flavour("AsyncClient", "trio"),
    Flavour("AsyncClient[aiohttp]", "asyncio"),  # aiohttp runs on asyncio only
    Flavour("AsyncClient[builtin]", "asyncio"),  # its own HTTP/1.1 on asyncio transports
]
ASYNC_FLAVOURS = FLAVOURS[1:]


@pytest.fixture(params=with_marks(FLAVOURS))
def flavour(request: pytest.FixtureRequest) -> Flavour:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The backend follows the flavour when a test has one, else both backends' param."""
    if "flavour" in request.fixturenames:
        return request.getfixturevalue("flavour").backend  # type: ignore[no-any-return]
    if "async_flavour" in request.fixturenames:
        return request.getfixturevalue("async_flavour").backend  # type: ignore[no-any-return]
    return "asyncio"


@pytest.fixture(params=with_marks(ASYNC_FLAVOURS))
def async_flavour(request: pytest.FixtureRequest) -> Flavour:
    return request.param  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- sandbox


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox.demo()


@pytest.fixture
def server(sandbox: Sandbox) -> Iterator[RunningServer]:
    """The sandbox's builtin h11 server on a free loopback port."""
    running = sandbox.start_server()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def make_api(flavour: Flavour, server: RunningServer, sandbox: Sandbox) -> AsyncIterator[Any]:
    """Build clients of the test's flavour on the loopback sandbox; all closed after."""
    made: list[Api] = []

    def make(**kwargs: Any) -> Api:
        api = flavour.make(kwargs.pop("api_key", sandbox.api_key), server.base_url, **kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        await api.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


# --------------------------------------------------------------------------- retries


class Sleeps(list[float]):
    """The retry delays the clients asked for, recorded instead of slept.

    ``hook``, if set, is a blocking function run at every retry wait (in a
    worker thread for the async clients): a test uses it to change the world
    between two attempts, say restart a server.
    """

    hook: Callable[[], None] | None = None


@pytest.fixture
def retry_sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    recorded = Sleeps()
    lock = threading.Lock()

    def fake_sleep(seconds: float) -> None:
        with lock:
            recorded.append(seconds)
        if recorded.hook is not None:
            recorded.hook()

    async def fake_async_sleep(seconds: float) -> None:
        with lock:
            recorded.append(seconds)
        if recorded.hook is not None:
            await anyio.to_thread.run_sync(recorded.hook)
        else:
            await anyio.lowlevel.checkpoint()

    monkeypatch.setattr("ticketpulse._client.sleep", fake_sleep)
    monkeypatch.setattr("ticketpulse._async_client.sleep", fake_async_sleep)
    return recorded


# --------------------------------------------------------------------------- data


def new_order(reference: str, quantity: int = 1, user: int = USER) -> NewOrder:
    """A new order for General Admission (ticket type 45) named by ``wp_order_id``."""
    return NewOrder(
        wp_order_id=reference,
        wp_user_id=user,
        currency="EUR",
        order_lines=[
            OrderLine(
                name="General Admission",
                quantity=quantity,
                product_id=101,
                unit_price=Decimal("29.95"),
                tp_event_ticket_id=45,
            )
        ],
    )


def orders_named(sandbox: Sandbox, reference: str) -> int:
    """How many orders the sandbox holds with this ``wp_order_id``."""
    return sum(1 for order in sandbox.orders() if order.wp_order_id == reference)


def active_tickets(sandbox: Sandbox, count: int, user: int = USER) -> list[str]:
    """``count`` personalised (status 2) tickets of ``user``, made directly in the sandbox."""
    order = sandbox.add_order(wp_user_id=user, items={45: count})
    for reference in order.ticket_refs:
        sandbox.activate_ticket(reference)
    return list(order.ticket_refs)


def closed_port() -> socket.socket:
    """A loopback socket bound but not listening: connecting to its port is refused.

    Holding it keeps the port from being taken by anyone else; close it to
    free the port.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.bind(("127.0.0.1", 0))
    return probe
