"""Every answer reaches the request that asked for it (SPEC §9).

A connection goes back to the pool only when its answer ended exactly at its
framing boundary. Each fake answer here names the ticket ``INJECTED``: it must
never come back from any call.
"""

from __future__ import annotations

import anyio
import pytest

from .conftest import (
    INJECTED,
    USER,
    Answer,
    Api,
    HostileServer,
    Pause,
    Request,
    assert_ticket,
    hostile_first,
    response,
    ticket_answer,
    ticket_url,
)

pytestmark = pytest.mark.anyio


async def test_bytes_after_the_content_length_never_answer_the_next_request(
    api: Api, server: HostileServer
) -> None:
    server.script = hostile_first(lambda r: ticket_answer("t1") + ticket_answer(INJECTED))

    first = (await api.ticket("t1")).typed()
    if first.error is None:
        assert_ticket(first.value, "t1")
    await api.expect_own_answer("t2")
    await api.expect_own_answer("t3")


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"HTTP/1.1 204 No Content\r\n\r\n", id="204"),
        pytest.param(b"HTTP/1.1 204 No Content\r\nContent-Length: 62\r\n\r\n", id="204-length"),
        pytest.param(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 62\r\n\r\n", id="304-length"),
    ],
)
async def test_a_body_on_an_answer_that_has_none_is_never_the_next_answer(
    api: Api, server: HostileServer, head: bytes
) -> None:
    # RFC 9112 §6.3: a 204 or 304 ends at its head, whatever Content-Length says;
    # what follows on the connection is not an answer to anything.
    server.script = hostile_first(lambda r: head + ticket_answer(INJECTED))

    first = await api.ticket("t1")
    first.failed_with()  # an empty 204 / 304 is not a signed URL
    first.typed()
    await api.expect_own_answer("t2")
    await api.expect_own_answer("t3")


async def test_an_answer_sent_while_the_connection_is_idle_is_never_handed_to_a_call(
    api: Api, server: HostileServer
) -> None:
    server.script = hostile_first(
        lambda r: [ticket_answer("t1"), Pause(0.05), ticket_answer(INJECTED)]
    )

    first = await api.ticket("t1")
    assert first.error is None, first.error
    assert_ticket(first.value, "t1")
    await anyio.sleep(0.25)  # the unsolicited answer has arrived on the idle connection
    await api.expect_own_answer("t2")
    await api.expect_own_answer("t3")


@pytest.mark.parametrize("injected_after", [1, 2], ids=["after-t1", "after-t2"])
async def test_bulk_results_stay_in_order_and_never_include_a_smuggled_answer(
    api: Api, server: HostileServer, injected_after: int
) -> None:
    def script(request: Request) -> bytes | None:
        if request.is_ticket and request.index == injected_after:
            return ticket_answer(request.ticket_id) + ticket_answer(INJECTED)
        return None

    server.script = script

    urls = await api.call("get_ticket_urls", ["t1", "t2", "t3"], user_id=USER, concurrency=1)
    assert [u.url for u in urls] == [ticket_url(t) for t in ("t1", "t2", "t3")]
    await api.expect_own_answer("t4")


async def test_a_later_bulk_call_never_takes_an_answer_left_on_a_kept_connection(
    api: Api, server: HostileServer
) -> None:
    # Bulk calls keep their connections for the next one (the blocking client's
    # on its own loop too). The first call's first request goes alone; then each
    # of its two workers sends one more, whose answer is followed, once the
    # connection idles, by one nobody asked for.
    def script(request: Request) -> Answer | None:
        if request.is_ticket and request.ticket_id.startswith("x"):
            return [ticket_answer(request.ticket_id), Pause(0.05), ticket_answer(INJECTED)]
        return None

    server.script = script
    ids = ["a1", "x2", "x3"]
    first = await api.call("get_ticket_urls", ids, user_id=USER, concurrency=2)
    assert [u.url for u in first] == [ticket_url(t) for t in ids]
    await anyio.sleep(0.25)  # the unsolicited answers have reached the idle connections
    ids = ["b1", "b2", "b3", "b4"]
    second = await api.call("get_ticket_urls", ids, user_id=USER, concurrency=2)
    assert [u.url for u in second] == [ticket_url(t) for t in ids]
    await api.expect_own_answer("t5")


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_iterated_bulk_results_each_name_their_own_ticket_despite_smuggling(
    api: Api, server: HostileServer, concurrency: int
) -> None:
    def script(request: Request) -> bytes | None:
        if request.is_ticket and request.index <= 2:
            return ticket_answer(request.ticket_id) + ticket_answer(INJECTED)
        return None

    server.script = script
    ids = [f"t{n}" for n in range(1, 7)]

    outcome = await api.iterate(ids, concurrency=concurrency)
    assert outcome.error is None, outcome.error
    results = outcome.value
    assert sorted(r.ticket_id for r in results) == sorted(ids)
    for result in results:
        assert_ticket(result.unwrap(), result.ticket_id)  # unwrap raises the ticket's error
    await api.expect_own_answer("t7")


async def test_a_smuggled_answer_inside_an_error_body_is_never_the_next_answer(
    api: Api, server: HostileServer
) -> None:
    # A 500 answer whose Content-Length stops short of its "body", which is a
    # whole second answer: the leftover must not answer the next request.
    fake = ticket_answer(INJECTED)
    server.script = hostile_first(
        lambda r: response(500, b"oops", content_type="text/plain") + fake
    )

    first = await api.ticket("t1")
    first.typed()
    first.failed_with()
    await api.expect_own_answer("t2")
    await api.expect_own_answer("t3")
