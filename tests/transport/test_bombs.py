"""Content codings: decoded only as asked, and never past the size cap (SPEC §9).

A 0.5 MB gzip answer that inflates to 512 MiB must end in a TicketPulseError
without the process's peak RSS growing by more than ``RSS_BOUND``; nested and
broken codings give a result or a TicketPulseError; the follow-up call works.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import ticketpulse

from .conftest import (
    EVENTS_JSON,
    PNG,
    RSS_BOUND,
    Api,
    HostileServer,
    PeakRSS,
    Request,
    gzip,
    response,
)

pytestmark = pytest.mark.anyio

_MIB = 1024 * 1024


def _encoded(body: bytes, coding: str, content_type: str = "application/json") -> bytes:
    return response(200, body, content_type=content_type, headers=[f"Content-Encoding: {coding}"])


def _events_answer(answer: bytes) -> Callable[[Request], bytes | None]:
    def script(request: Request) -> bytes | None:
        return answer if request.is_events and request.index == 1 else None

    return script


async def _expect_events_and_own_answer(api: Api) -> None:
    events = await api.call("get_events")
    assert [e.id for e in events] == [12]
    await api.expect_own_answer("t2")


@pytest.mark.parametrize("coding", ["gzip", "x-gzip"])
async def test_a_gzip_bomb_is_refused_at_the_size_cap_without_growing_memory(
    api: Api, server: HostileServer, gzip_bomb: bytes, coding: str
) -> None:
    server.script = _events_answer(_encoded(gzip_bomb, coding))

    with PeakRSS() as rss:
        outcome = await api.attempt("get_events")
    outcome.failed_with(ticketpulse.TicketPulseError)
    outcome.typed()
    assert rss.growth < RSS_BOUND, f"peak RSS grew by {rss.growth / _MIB:.0f} MiB"
    await _expect_events_and_own_answer(api)


async def test_a_nested_gzip_bomb_is_refused_without_growing_memory(
    api: Api, server: HostileServer, gzip_bomb: bytes
) -> None:
    server.script = _events_answer(_encoded(gzip(gzip_bomb), "gzip, gzip"))

    with PeakRSS() as rss:
        outcome = await api.attempt("get_events")
    outcome.failed_with(ticketpulse.TicketPulseError)
    outcome.typed()
    assert rss.growth < RSS_BOUND, f"peak RSS grew by {rss.growth / _MIB:.0f} MiB"
    await _expect_events_and_own_answer(api)


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        pytest.param("gzip, gzip", gzip(gzip(EVENTS_JSON)), id="gzip-gzip"),
        pytest.param("gzip, gzip, gzip, gzip, gzip", gzip(EVENTS_JSON), id="five-gzips-one-real"),
        pytest.param("gzip", b"\x1f\x8b\x08\x00garbage-not-deflate", id="corrupt-gzip"),
        pytest.param("gzip", gzip(EVENTS_JSON)[:-12], id="truncated-gzip"),
        pytest.param("deflate", b"\x78\x9cnot-deflate-at-all", id="corrupt-deflate"),
        pytest.param("br", b"not brotli", id="br-not-asked-for"),
        pytest.param("zstd", b"not zstd", id="zstd-not-asked-for"),
        pytest.param("x-unknown", EVENTS_JSON, id="unknown-coding"),
        pytest.param("identity, gzip", gzip(EVENTS_JSON), id="identity-then-gzip"),
    ],
)
async def test_a_nested_or_broken_coding_gives_a_result_or_a_typed_error(
    api: Api, server: HostileServer, coding: str, body: bytes
) -> None:
    server.script = _events_answer(_encoded(body, coding))

    outcome = (await api.attempt("get_events")).typed()
    if outcome.error is None:
        assert [e.id for e in outcome.value] == [12]
    await _expect_events_and_own_answer(api)


async def test_a_gzip_bomb_download_stays_bounded_in_memory(
    api: Api, server: HostileServer, gzip_bomb: bytes, tmp_path: Path
) -> None:
    answer = _encoded(gzip_bomb, "gzip", content_type="image/png")

    def script(request: Request) -> bytes | None:
        return answer if request.path.startswith("/files/") and request.index == 1 else None

    server.script = script

    with PeakRSS() as rss:
        outcome = await api.attempt(
            "download", f"{server.origin}/files/bomb.png?secret=S", tmp_path
        )
    outcome.typed()
    assert rss.growth < RSS_BOUND, f"peak RSS grew by {rss.growth / _MIB:.0f} MiB"
    for written in tmp_path.iterdir():
        written.unlink()  # a 512 MiB file, if the SDK decoded it: not kept
    done = await api.call("download", f"{server.origin}/files/after.png?secret=S", tmp_path)
    assert Path(done).read_bytes() == PNG
    await api.expect_own_answer("t2")
