"""Bounded in size and time (SPEC §9): heads, bodies, trailers, interim answers, trickles.

Every case ends in a TicketPulseError within a bound derived from the client's
timeout (a trickle that keeps each read within the read timeout must still hit
the attempt's overall deadline), and the same client's follow-up call then
gets its own answer. The big bodies also check that the process's peak RSS did
not grow by more than ``RSS_BOUND``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import ticketpulse

from .conftest import (
    RSS_BOUND,
    Action,
    Api,
    HostileServer,
    Pause,
    PeakRSS,
    Request,
    hostile_first,
    ticket_url,
)

pytestmark = pytest.mark.anyio

SHORT_TIMEOUT = 0.1
"""The timeout of the calls facing trickles and endless answers.

They run on ``client.with_options(timeout=SHORT_TIMEOUT)``, which shares the
client's pool; the follow-up call runs on the client itself (timeout 1 s).
"""
TRICKLE = 0.025
"""Seconds between trickled bytes or lines: a quarter of the read timeout."""
DEADLINE_BOUND = 8 * SHORT_TIMEOUT + 1.0
"""A trickled answer must end within this (the attempt's deadline, with room to spare)."""

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
_MIB = 1024 * 1024


def _body(request: Request) -> bytes:
    return json.dumps(ticket_url(request.ticket_id)).encode()


# --------------------------------------------------------------------------- heads


def _huge_head(request: Request) -> Iterator[Action]:
    yield _OK
    line = b"X-Pad-%06d: " + b"a" * 1000 + b"\r\n"
    for n in range(1100):  # 1.1 MB of header lines
        yield line % n
    body = _body(request)
    yield b"Content-Length: %d\r\n\r\n" % len(body) + body


def _huge_header_line(request: Request) -> Iterator[Action]:
    yield _OK + b"X-Huge: "
    for _ in range(16):
        yield b"a" * 65536
    body = _body(request)
    yield b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def _huge_status_line(request: Request) -> Iterator[Action]:
    yield b"HTTP/1.1 200 "
    for _ in range(16):
        yield b"O" * 65536
    body = _body(request)
    yield b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body


def _huge_chunk_size_line(request: Request) -> Iterator[Action]:
    yield _OK + b"Transfer-Encoding: chunked\r\n\r\n5;ext="
    for _ in range(16):
        yield b"a" * 65536
    yield b"\r\nhello\r\n0\r\n\r\n"


def _endless_chunk_extension(request: Request) -> Iterator[Action]:
    yield _OK + b"Transfer-Encoding: chunked\r\n\r\n5;ext="
    while True:
        yield b"a" * 4096
        yield Pause(0.001)


def _endless_trailers(request: Request) -> Iterator[Action]:
    body = _body(request)
    yield _OK + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body) + body + b"\r\n0\r\n"
    n = 0
    while True:
        yield b"".join(b"X-Trailer-%d: v\r\n" % (n + i) for i in range(100))
        n += 100
        yield Pause(0.001)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_huge_head, id="1-mib-of-header-lines"),
        pytest.param(_huge_header_line, id="1-mib-header-line"),
        pytest.param(_huge_status_line, id="1-mib-status-line"),
        pytest.param(_huge_chunk_size_line, id="1-mib-chunk-size-line"),
        pytest.param(_endless_chunk_extension, id="endless-chunk-extension"),
        pytest.param(_endless_trailers, id="endless-trailers"),
    ],
)
async def test_an_oversized_head_line_or_trailer_section_is_an_error_not_a_hang(
    make_api: Callable[..., Api],
    server: HostileServer,
    answer: Callable[[Request], Iterator[Action]],
) -> None:
    api = make_api()
    server.script = hostile_first(answer)

    first = await api.with_options(timeout=SHORT_TIMEOUT).ticket("t1", bound=DEADLINE_BOUND)
    first.failed_with(ticketpulse.TicketPulseError)
    first.typed()
    await api.expect_own_answer("t2")


# --------------------------------------------------------------------------- trickles


def _endless_header_lines(request: Request) -> Iterator[Action]:
    yield _OK
    n = 0
    while True:
        yield b"X-Line-%d: v\r\n" % n
        n += 1
        yield Pause(TRICKLE / 5)


def _endless_interim_answers(request: Request) -> Iterator[Action]:
    while True:
        yield b"HTTP/1.1 100 Continue\r\n\r\n"
        yield Pause(TRICKLE / 5)


def _trickled_body(request: Request) -> Iterator[Action]:
    body = _body(request) + b" " * 10_000  # JSON allows the trailing spaces
    yield _OK + b"Content-Length: %d\r\n\r\n" % len(body)
    for byte in body:
        yield bytes([byte])
        yield Pause(TRICKLE)


def _trickled_chunked_body(request: Request) -> Iterator[Action]:
    yield _OK + b"Transfer-Encoding: chunked\r\n\r\n"
    for byte in _body(request) + b" " * 10_000:
        yield b"1\r\n" + bytes([byte]) + b"\r\n"
        yield Pause(TRICKLE)
    yield b"0\r\n\r\n"


def _trickled_head(request: Request) -> Iterator[Action]:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"s" * 10_000 + b"\r\n"
    for byte in head:
        yield bytes([byte])
        yield Pause(TRICKLE)


def _trickled_body_until_close(request: Request) -> Iterator[Action]:
    yield _OK + b"Connection: close\r\n\r\n"
    for byte in _body(request) + b" " * 10_000:
        yield bytes([byte])
        yield Pause(TRICKLE)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_endless_header_lines, id="endless-header-lines"),
        pytest.param(_endless_interim_answers, id="endless-100-continue"),
        pytest.param(_trickled_head, id="trickled-head"),
        pytest.param(_trickled_body, id="trickled-body"),
        pytest.param(_trickled_chunked_body, id="trickled-chunked-body"),
        pytest.param(_trickled_body_until_close, id="trickled-body-until-close"),
    ],
)
async def test_a_trickle_within_the_read_timeout_still_ends_at_the_attempt_deadline(
    make_api: Callable[..., Api],
    server: HostileServer,
    answer: Callable[[Request], Iterator[Action]],
) -> None:
    api = make_api()
    server.script = hostile_first(answer)

    first = await api.with_options(timeout=SHORT_TIMEOUT).ticket("t1", bound=DEADLINE_BOUND)
    first.failed_with(ticketpulse.APIConnectionError)
    await api.expect_own_answer("t2")


async def test_a_trickled_download_ends_at_the_attempt_deadline_and_leaves_no_file(
    make_api: Callable[..., Api], server: HostileServer, tmp_path: Path
) -> None:
    api = make_api()

    def script(request: Request) -> Iterator[Action] | None:
        if not request.path.startswith("/files/"):
            return None

        def trickle() -> Iterator[Action]:
            yield b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 10000\r\n\r\n"
            for _ in range(10_000):
                yield b"\x00"
                yield Pause(TRICKLE)

        return trickle()

    server.script = script

    outcome = await api.with_options(timeout=SHORT_TIMEOUT).attempt(
        "download", f"{server.origin}/files/slow.png?secret=S", tmp_path, bound=DEADLINE_BOUND
    )
    outcome.failed_with(ticketpulse.APIConnectionError)
    assert list(tmp_path.iterdir()) == []
    await api.expect_own_answer("t2")


# --------------------------------------------------------------------------- big bodies


def _zeros(total: int) -> Iterator[bytes]:
    block = bytes(_MIB)
    for _ in range(total // _MIB):
        yield block


def _length_framed(request: Request) -> Iterator[Action]:
    yield _OK + b"Content-Length: %d\r\n\r\n" % (200 * 1000 * 1000)
    yield from _zeros(200 * 1000 * 1000)


def _chunk_framed(request: Request) -> Iterator[Action]:
    yield _OK + b"Transfer-Encoding: chunked\r\n\r\n"
    for block in _zeros(200 * 1000 * 1000):
        yield b"%x\r\n" % len(block) + block + b"\r\n"
    yield b"0\r\n\r\n"


def _close_framed(request: Request) -> Iterator[Action]:
    yield _OK + b"Connection: close\r\n\r\n"
    yield from _zeros(200 * 1000 * 1000)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(_length_framed, id="content-length"),
        pytest.param(_chunk_framed, id="chunked"),
        pytest.param(_close_framed, id="until-close"),
    ],
)
async def test_a_200_mb_answer_is_refused_at_the_size_cap_without_growing_memory(
    api: Api, server: HostileServer, answer: Callable[[Request], Iterator[Action]]
) -> None:
    def script(request: Request) -> Iterator[Action] | None:
        return answer(request) if request.is_events and request.index == 1 else None

    server.script = script

    with PeakRSS() as rss:
        outcome = await api.attempt("get_events")
    outcome.failed_with(ticketpulse.TicketPulseError)
    outcome.typed()
    assert rss.growth < RSS_BOUND, f"peak RSS grew by {rss.growth / _MIB:.0f} MiB"
    events = await api.call("get_events")
    assert [e.id for e in events] == [12]
    await api.expect_own_answer("t2")
