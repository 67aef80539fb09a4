"""A bulk run whose calls leave their chain mid-run still answers every ticket rightly.

The builtin transport on asyncio chains a bulk run's calls on each connection
(``AsyncClient._fetch_chained``): a call answered 2xx is read, and the next one
sent, in the read callback. Any other outcome takes the call off its chain to
the usual path (the retry policy, a new connection). Each case puts one such
outcome in the middle of a run, on every flavor: the results must stay in
order, each naming its own ticket, and each ticket must be asked for once per
attempt.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from ticketpulse import UnexpectedResponseError

from .conftest import (
    CLOSE,
    USER,
    Answer,
    Api,
    Flavor,
    HostileServer,
    Pause,
    Request,
    assert_ticket,
    json_answer,
    response,
    text_answer,
    ticket_answer,
    ticket_url,
)

pytestmark = pytest.mark.anyio

IDS = [f"t{i}" for i in range(40)]
ODD = "t17"
"""The ticket whose first attempt gets the case's outcome."""


def once(answer: Callable[[Request], Answer]) -> Callable[[Request], Answer | None]:
    """A script: ODD's first request gets ``answer(request)``, everything else the default."""
    seen = threading.Event()

    def script(request: Request) -> Answer | None:
        if request.is_ticket and request.ticket_id == ODD and not seen.is_set():
            seen.set()
            return answer(request)
        return None

    return script


def asked(server: HostileServer) -> Counter[str]:
    return Counter(r.ticket_id for r in server.received() if r.is_ticket)


async def test_a_chained_run_answers_every_ticket_with_its_own_url(
    make_api: Callable[..., Api], server: HostileServer
) -> None:
    api = make_api()
    urls = await api.call("get_ticket_urls", IDS, user_id=USER, concurrency=4)
    for url, ticket in zip(urls, IDS, strict=True):
        assert_ticket(url, ticket)
    assert asked(server) == Counter(IDS)
    # The first call alone, then four workers: no more connections than that.
    assert len({r.connection for r in server.received()}) <= 5


OUTCOMES: dict[str, tuple[Callable[[Request], Answer], int]] = {
    # name: (ODD's first answer, how many times ODD is asked for)
    "503": (lambda r: text_answer(503, "try again"), 2),
    "connection close after a good answer": (
        lambda r: [
            response(200, b'"' + ticket_url(ODD).encode() + b'"', headers=["Connection: close"]),
            CLOSE,
        ],
        1,
    ),
    "dropped unanswered": (lambda r: [CLOSE], 2),
    "stalled past the read timeout": (lambda r: [Pause(3.0), ticket_answer(ODD)], 2),
}


@pytest.mark.parametrize("outcome", OUTCOMES)
async def test_a_call_taken_off_its_chain_is_settled_and_the_run_goes_on(
    make_api: Callable[..., Api], server: HostileServer, sleeps: list[float], outcome: str
) -> None:
    answer, times = OUTCOMES[outcome]
    server.script = once(answer)
    api = make_api(max_retries=2)
    urls = await api.call("get_ticket_urls", IDS, user_id=USER, concurrency=4)
    for url, ticket in zip(urls, IDS, strict=True):
        assert_ticket(url, ticket)
    expected = Counter(IDS)
    expected[ODD] = times
    assert asked(server) == expected
    await api.expect_own_answer()


async def test_an_unreadable_answer_mid_run_fails_the_run_and_stops_it(
    make_api: Callable[..., Api], server: HostileServer
) -> None:
    ids = [f"t{i}" for i in range(400)]
    server.script = once(lambda r: json_answer(["not", "a", "url"]))
    api = make_api()
    outcome = await api.attempt("get_ticket_urls", ids, user_id=USER, concurrency=4)
    error = outcome.failed_with(UnexpectedResponseError)
    assert "expected a URL string, got list" in str(error)
    assert sum(asked(server).values()) < len(ids) // 2  # fail-fast: the rest never sent
    await api.expect_own_answer()


async def test_calls_taken_once_tracing_began_go_the_usual_way(
    make_api: Callable[..., Api], server: HostileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tracer provider set mid-run, as the 13th call after the first is taken:
    # from then on each call goes the usual way, which begins its span; the run's
    # results are unchanged. (A chained run asks tracing() once per call taken,
    # right as it takes it.)
    taken = 0

    def tracing() -> bool:
        nonlocal taken
        taken += 1
        return taken > 12

    spanned: set[str] = set()

    def call_span(operation: str, method: str, shown_url: str) -> None:
        spanned.add(parse_qs(urlsplit(shown_url).query)["ticket_id"][0])

    monkeypatch.setattr("ticketpulse._async_client.traceable", lambda: True)  # the package is there
    monkeypatch.setattr("ticketpulse._async_client.tracing", tracing)
    monkeypatch.setattr("ticketpulse._async_client.call_span", call_span)
    api = make_api()
    urls = await api.call("get_ticket_urls", IDS, user_id=USER, concurrency=4)
    for url, ticket in zip(urls, IDS, strict=True):
        assert_ticket(url, ticket)
    assert asked(server) == Counter(IDS)
    if api.flavor.transport == "builtin":  # chained until then: no span begun for those
        assert spanned == {IDS[0], *IDS[13:]}
    else:  # never chained: every call went the usual way
        assert spanned == set(IDS)


async def test_cancelling_a_chained_run_leaves_nothing_running(
    make_api: Callable[..., Api], server: HostileServer, flavor: Flavor
) -> None:
    if not flavor.is_async:
        pytest.skip("a blocking call is cancelled by Ctrl-C (test_blocking_bulk)")

    # Every answer after the first few comes late: the run is cancelled while
    # each worker's chain waits on one, and the late answers then arrive.
    def late(request: Request) -> Answer | None:
        if request.is_ticket and request.index > 8:
            return [Pause(0.6), ticket_answer(request.ticket_id)]
        return None

    server.script = late
    api = make_api(timeout=30.0)
    with anyio.move_on_after(0.3) as scope:
        await api.client.get_ticket_urls(IDS, user_id=USER, concurrency=4)
    assert scope.cancelled_caught
    sent = sum(asked(server).values())
    await anyio.sleep(1.0)  # the late answers came: nothing was read, nothing sent
    assert sum(asked(server).values()) == sent
    server.script = None
    await api.expect_own_answer()
