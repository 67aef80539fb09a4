"""No key and no signed-URL secret in logs, exceptions or warnings, even when echoed (SPEC §6, §9).

Every logger is at DEBUG (the root, httpx, httpcore and its children, h11,
aiohttp, asyncio, ...). The server echoes the key (raw and url-encoded) or the
bare signed-URL secret in error bodies, headers, status lines, redirect
``Location`` headers and broken answers. No log record (message and
traceback), no ``str`` / ``repr`` / traceback of the raised exception and of
every exception chained to it, no public attribute of them, and no warning may
contain either secret; the follow-up call still gets its own answer.
"""

from __future__ import annotations

import logging
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest

import ticketpulse

from .conftest import (
    KEY,
    QUOTED_KEY,
    SECRET,
    USER,
    Api,
    HostileServer,
    Outcome,
    Request,
    json_answer,
    response,
    text_answer,
)

pytestmark = pytest.mark.anyio

NEEDLES = sorted({KEY, QUOTED_KEY, quote_plus(KEY), KEY.replace("+", " "), SECRET})

LOGGERS = [
    "ticketpulse",
    "httpx",
    "httpcore",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.connection",
    "httpcore.proxy",
    "h11",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "asyncio",
    "trio",
    "anyio",
    "urllib3",
]


@pytest.fixture
def debug_everything(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Every logger at DEBUG; returns the formatted records (with tracebacks) so far."""
    caplog.set_level(logging.DEBUG)
    for name in {*LOGGERS, *logging.Logger.manager.loggerDict}:
        caplog.set_level(logging.DEBUG, logger=name)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def texts() -> list[str]:
        return [formatter.format(record) for record in caplog.records]

    return texts


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)


def _error_texts(error: BaseException | None) -> list[str]:
    if error is None:
        return []
    texts = ["".join(traceback.format_exception(error))]
    for exc in _chain(error):
        texts += [str(exc), repr(exc), repr(exc.args)]
        texts += [repr(v) for v in vars(exc).values()] if hasattr(exc, "__dict__") else []
    return texts


def _assert_no_secret(texts: list[str], where: str) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, f"{where} carries a secret ({needle!r}):\n{text[-3000:]}"


async def _run_watched(
    debug_everything: Callable[[], list[str]], attempt: Callable[[], Any]
) -> Outcome:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome: Outcome = await attempt()
    _assert_no_secret(debug_everything(), "a log record")
    _assert_no_secret(_error_texts(outcome.error), "the exception")
    _assert_no_secret([str(w.message) for w in caught], "a warning")
    return outcome


def _api_echo(answer: Callable[[Request], bytes]) -> Callable[[Request], bytes | None]:
    def script(request: Request) -> bytes | None:
        return answer(request) if request.is_ticket and request.ticket_id == "t1" else None

    return script


API_ECHOES: dict[str, tuple[Callable[[Request], bytes], type[Exception]]] = {
    "401-body-raw-key": (
        lambda r: text_answer(401, f"Invalid key {KEY}"),
        ticketpulse.NotPermittedError,
    ),
    "401-body-url-encoded-key": (
        lambda r: text_answer(401, f"Invalid key {QUOTED_KEY}"),
        ticketpulse.NotPermittedError,
    ),
    "403-body-both": (
        lambda r: text_answer(403, f"key={KEY} ({QUOTED_KEY}) suspended"),
        ticketpulse.AuthenticationError,
    ),
    "500-body-echoing-the-request-target": (
        lambda r: text_answer(500, f"Internal error at {r.target}"),
        ticketpulse.ServerError,
    ),
    "500-body-echoing-the-request-head": (
        lambda r: text_answer(500, r.head.decode("latin-1")),
        ticketpulse.ServerError,
    ),
    "400-json-body-with-the-key": (
        lambda r: json_answer({"error": "bad", "key": KEY, "quoted": QUOTED_KEY}, status=400),
        ticketpulse.BadRequestError,
    ),
    "500-header-echoing-the-key": (
        lambda r: text_answer(500, "oops", headers=[f"X-Debug: key={QUOTED_KEY}; raw={KEY}"]),
        ticketpulse.ServerError,
    ),
    "500-reason-phrase-echoing-the-key": (
        lambda r: f"HTTP/1.1 500 {KEY}\r\nContent-Length: 0\r\n\r\n".encode(),
        ticketpulse.ServerError,
    ),
    "302-location-raw-key": (
        lambda r: text_answer(302, "moved", headers=[f"Location: https://evil.example/?key={KEY}"]),
        ticketpulse.APIStatusError,
    ),
    "302-location-url-encoded-key": (
        lambda r: text_answer(
            302, "moved", headers=[f"Location: https://evil.example/login?key={QUOTED_KEY}"]
        ),
        ticketpulse.APIStatusError,
    ),
    "302-location-echoing-the-request-target": (
        lambda r: text_answer(302, "moved", headers=[f"Location: {r.target}&again=1"]),
        ticketpulse.APIStatusError,
    ),
    "200-html-echoing-the-key": (
        lambda r: response(
            200, f"<html>{KEY} {QUOTED_KEY}</html>".encode(), content_type="text/html"
        ),
        ticketpulse.UnexpectedResponseError,
    ),
    "200-json-of-the-wrong-shape-echoing-the-key": (
        lambda r: json_answer({"key": KEY, "target": r.target}),
        ticketpulse.UnexpectedResponseError,
    ),
    "200-broken-json-echoing-the-key": (
        lambda r: response(200, f'"https://files.example/{QUOTED_KEY}'.encode()),
        ticketpulse.UnexpectedResponseError,
    ),
    "broken-header-line-echoing-the-key": (
        lambda r: (
            f'HTTP/1.1 200 OK\r\nkey {KEY} {QUOTED_KEY}\r\nContent-Length: 2\r\n\r\n""'.encode()
        ),
        ticketpulse.TicketPulseError,
    ),
    "broken-status-line-echoing-the-key": (
        lambda r: f"HTTP/1.1 {QUOTED_KEY} {KEY}\r\nContent-Length: 0\r\n\r\n".encode(),
        ticketpulse.TicketPulseError,
    ),
    "bad-content-length-echoing-the-key": (
        lambda r: f"HTTP/1.1 200 OK\r\nContent-Length: {QUOTED_KEY}\r\n\r\n".encode(),
        ticketpulse.TicketPulseError,
    ),
}


@pytest.mark.parametrize("case", list(API_ECHOES), ids=list(API_ECHOES))
async def test_an_api_answer_echoing_the_key_never_leaks_it(
    api: Api,
    server: HostileServer,
    debug_everything: Callable[[], list[str]],
    case: str,
) -> None:
    answer, expected = API_ECHOES[case]
    server.script = _api_echo(answer)

    outcome = await _run_watched(debug_everything, lambda: api.ticket("t1"))
    outcome.failed_with(expected)
    await api.expect_own_answer("t2")
    _assert_no_secret(debug_everything(), "a log record")


async def test_a_bulk_fetch_whose_answer_echoes_the_key_never_leaks_it(
    api: Api, server: HostileServer, debug_everything: Callable[[], list[str]]
) -> None:
    server.script = _api_echo(lambda r: text_answer(401, f"Invalid key {KEY} {QUOTED_KEY}"))

    outcome = await _run_watched(
        debug_everything,
        lambda: api.attempt("get_ticket_urls", ["t0", "t1", "t2"], user_id=USER, concurrency=1),
    )
    outcome.failed_with(ticketpulse.NotPermittedError)
    await api.expect_own_answer("t3")


async def test_a_successful_call_logs_neither_the_key_nor_the_secret_it_returns(
    api: Api, server: HostileServer, debug_everything: Callable[[], list[str]]
) -> None:
    outcome = await _run_watched(debug_everything, lambda: api.ticket("t1"))
    assert outcome.error is None, outcome.error
    assert SECRET not in repr(outcome.value)
    assert KEY not in repr(api.client)
    assert QUOTED_KEY not in repr(api.client)
    await _run_watched(debug_everything, lambda: api.attempt("get_events"))


def _signed(server: HostileServer, name: str = "t1.png") -> str:
    return f"{server.origin}/files/{name}?secret={SECRET}"


DOWNLOAD_ECHOES: dict[str, tuple[Callable[[Request], bytes], type[Exception]]] = {
    "401-body-bare-secret": (
        lambda r: text_answer(401, f"Signature {SECRET} expired"),
        ticketpulse.NotPermittedError,
    ),
    "403-body-echoing-the-url": (
        lambda r: text_answer(403, f"Forbidden: {r.target}"),
        ticketpulse.AuthenticationError,
    ),
    "500-header-echoing-the-secret": (
        lambda r: text_answer(500, "oops", headers=[f"X-Signature: {SECRET}"]),
        ticketpulse.ServerError,
    ),
    "302-location-echoing-the-secret": (
        lambda r: text_answer(
            302, "moved", headers=[f"Location: https://cdn.example/x.png?secret={SECRET}"]
        ),
        ticketpulse.APIStatusError,
    ),
    "404-reason-phrase-echoing-the-secret": (
        lambda r: f"HTTP/1.1 404 {SECRET}\r\nContent-Length: 0\r\n\r\n".encode(),
        ticketpulse.NotFoundError,
    ),
    "broken-header-line-echoing-the-secret": (
        lambda r: f"HTTP/1.1 200 OK\r\nsecret {SECRET}\r\nContent-Length: 1\r\n\r\nx".encode(),
        ticketpulse.TicketPulseError,
    ),
}


@pytest.mark.parametrize("case", list(DOWNLOAD_ECHOES), ids=list(DOWNLOAD_ECHOES))
async def test_a_download_answer_echoing_the_secret_never_leaks_it(
    api: Api,
    server: HostileServer,
    tmp_path: Path,
    debug_everything: Callable[[], list[str]],
    case: str,
) -> None:
    answer, expected = DOWNLOAD_ECHOES[case]

    def script(request: Request) -> bytes | None:
        return answer(request) if request.path == "/files/t1.png" else None

    server.script = script

    outcome = await _run_watched(
        debug_everything, lambda: api.attempt("download", _signed(server), tmp_path)
    )
    outcome.failed_with(expected)
    assert list(tmp_path.iterdir()) == []
    await api.expect_own_answer("t2")


@pytest.mark.parametrize(
    "name_or_url",
    [
        pytest.param("t\u00efcket-\u2713.png", id="non-ascii-path"),
        pytest.param("n" * 300 + ".png", id="300-character-name"),
        pytest.param("a b\r\nX: y.png", id="control-characters"),
        pytest.param(f"https://{'a' * 64}.invalid/x.png?secret={SECRET}", id="64-character-label"),
        pytest.param(f"https://t\u00efcket.invalid/x.png?secret={SECRET}", id="non-ascii-host"),
        pytest.param(f"ftp://127.0.0.1/x.png?secret={SECRET}", id="ftp"),
        pytest.param(f"https://files.example:99999/x.png?secret={SECRET}", id="bad-port"),
    ],
)
async def test_a_hostile_signed_url_never_leaks_its_secret_in_the_error(
    api: Api,
    server: HostileServer,
    tmp_path: Path,
    debug_everything: Callable[[], list[str]],
    name_or_url: str,
) -> None:
    url = name_or_url if "://" in name_or_url else _signed(server, name_or_url)

    outcome = await _run_watched(debug_everything, lambda: api.attempt("download", url, tmp_path))
    outcome.typed()
    await api.expect_own_answer("t2")
