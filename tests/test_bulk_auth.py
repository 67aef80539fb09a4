"""A wrong key reaches the server once, whatever the number of ids (SPEC §2).

The API warns that repeated authentication failures may suspend the key: a bulk
run's first request goes alone, the rest fan out only once it authenticated,
and a 403 later in the run starts no new request and ends the run with
``AuthenticationError`` (the iterator too). Counted on the sandbox's own
request log, over loopback for every transport and in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse.testing import Respond, Sandbox, Stall

pytestmark = pytest.mark.anyio

USER = 789
IDS = [f"t{i:04d}" for i in range(1000)]
WRONG_KEY = "tp_wrong_key_0000000000"


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox.demo(users=[USER])
    with sandbox.serve(port=0) as base_url:
        yield sandbox, base_url


FLAVOURS = [
    "Client",
    "Client[builtin]",
    "AsyncClient",
    "AsyncClient[builtin]",
    "AsyncClient[aiohttp]",
    "in-process Client",
    "in-process AsyncClient",
]


def make(flavour: str, sandbox: Sandbox, base_url: str, key: str) -> Any:
    if flavour == "in-process Client":
        return sandbox.client(api_key=key, max_retries=0)
    if flavour == "in-process AsyncClient":
        return sandbox.async_client(api_key=key, max_retries=0)
    return client_class(flavour)(key, base_url=base_url, max_retries=0)


async def fetch_all(client: Any, ids: list[str], concurrency: int = 32) -> Any:
    if isinstance(client, ticketpulse.AsyncClient):
        return await client.get_ticket_urls(ids, user_id=USER, concurrency=concurrency)
    return client.get_ticket_urls(ids, user_id=USER, concurrency=concurrency)


async def iterate(client: Any, ids: list[str], concurrency: int = 32) -> list[Any]:
    if isinstance(client, ticketpulse.AsyncClient):
        async with client.iter_ticket_urls(ids, user_id=USER, concurrency=concurrency) as results:
            return [r async for r in results]
    with client.iter_ticket_urls(ids, user_id=USER, concurrency=concurrency) as results:
        return list(results)


async def close(client: Any) -> None:
    if isinstance(client, ticketpulse.AsyncClient):
        await client.aclose()
    else:
        client.close()


def get_ticket_requests(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests.snapshot() if r.path.endswith("/users/get-ticket"))


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("form", ["get_ticket_urls", "iter_ticket_urls"])
async def test_a_wrong_key_reaches_the_server_once(
    served: tuple[Sandbox, str], flavour: str, form: str
) -> None:
    sandbox, base_url = served
    sandbox.requests.clear()
    client = make(flavour, sandbox, base_url, WRONG_KEY)
    try:
        with pytest.raises(ticketpulse.AuthenticationError):
            await (fetch_all if form == "get_ticket_urls" else iterate)(client, IDS)
    finally:
        await close(client)
    assert get_ticket_requests(sandbox) == 1


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("form", ["get_ticket_urls", "iter_ticket_urls"])
async def test_a_403_later_in_the_run_starts_no_new_request(
    served: tuple[Sandbox, str], flavour: str, form: str
) -> None:
    sandbox, base_url = served
    sandbox.requests.clear()
    seen = 0

    def fifth(request: Any) -> bool:
        nonlocal seen
        seen += 1
        return seen == 5

    rule = sandbox.faults.inject(Respond(403), path="/tp-api/users/get-ticket", when=fifth)
    # What reaches the server after the 403 was sent waits, so that a client slow
    # to read the 403 (a busy machine) cannot look like one that ignored it: the
    # bound below then counts only the requests already in flight. The stalled
    # ones get the sandbox's own answer (the ids are made up: a 401 each).
    sandbox.faults.inject(
        Stall(0.3), times=None, path="/tp-api/users/get-ticket", when=lambda _: rule.fired > 0
    )
    # Every other id gets a URL (the ids are made up: the sandbox would say 401).
    answer = Respond(200, body='"https://files.example/qr/x.png?secret=s3cr3t"')
    sandbox.faults.inject(answer, times=None, path="/tp-api/users/get-ticket")
    concurrency = 4
    client = make(flavour, sandbox, base_url, sandbox.api_key)
    try:
        with pytest.raises(ticketpulse.AuthenticationError):
            await (fetch_all if form == "get_ticket_urls" else iterate)(
                client, IDS, concurrency=concurrency
            )
    finally:
        await close(client)
        sandbox.faults.clear()
    assert rule.fired == 1
    # The 403 was the fifth; at most the others already in flight followed it.
    assert 5 <= get_ticket_requests(sandbox) <= 5 + concurrency - 1


@pytest.mark.parametrize("flavour", ["Client", "AsyncClient", "AsyncClient[builtin]"])
async def test_a_good_key_fetches_every_id_with_invalid_ones_first(
    served: tuple[Sandbox, str], flavour: str
) -> None:
    sandbox, base_url = served
    client = make(flavour, sandbox, base_url, sandbox.api_key)
    try:
        results = await iterate(client, ["", "a3f9b", "nope"], concurrency=2)
    finally:
        await close(client)
    by_id = {r.ticket_id: r for r in results}
    assert isinstance(by_id[""].error, ticketpulse.InvalidRequestError)
    assert by_id["a3f9b"].ok
    assert isinstance(by_id["nope"].error, ticketpulse.NotPermittedError)
