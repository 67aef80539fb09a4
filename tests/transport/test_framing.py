"""Answers whose framing is broken, ambiguous or conflicting (RFC 9112 §2-§7).

Each gives the right result or a TicketPulseError, never another exception
type, within a time bound; and a follow-up call on the same client then gets
its own answer. Every broken answer is followed by a complete fake answer
naming ``INJECTED``: a client that misreads the framing and keeps the
connection hands it to the follow-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .conftest import (
    CLOSE,
    INJECTED,
    Answer,
    Api,
    HostileServer,
    Request,
    hostile_first,
    ticket_answer,
    ticket_url,
)

pytestmark = pytest.mark.anyio


def _body(request: Request) -> bytes:
    return json.dumps(ticket_url(request.ticket_id)).encode()


def _head(*lines: str, status: str = "HTTP/1.1 200 OK", end: str = "\r\n") -> bytes:
    return (end.join([status, "Content-Type: application/json", *lines]) + end + end).encode(
        "latin-1"
    )


def _length(request: Request) -> str:
    return f"Content-Length: {len(_body(request))}"


def _chunk(data: bytes, size_line: bytes | None = None) -> bytes:
    return (size_line if size_line is not None else f"{len(data):x}".encode()) + b"\r\n" + data


BROKEN: dict[str, Callable[[Request], Answer]] = {
    # -- Content-Length and Transfer-Encoding together (§6.3: TE wins, and the
    # connection must close; a smuggling classic)
    "cl-and-te": lambda r: (
        _head("Content-Length: 5", "Transfer-Encoding: chunked")
        + _chunk(_body(r))
        + b"\r\n0\r\n\r\n"
    ),
    "te-and-cl": lambda r: (
        _head("Transfer-Encoding: chunked", _length(r)) + _chunk(_body(r)) + b"\r\n0\r\n\r\n"
    ),
    "te-not-chunked-last": lambda r: (
        _head("Transfer-Encoding: chunked, identity", _length(r)) + _body(r)
    ),
    "te-unknown": lambda r: _head("Transfer-Encoding: rot13", _length(r)) + _body(r),
    # -- two different Content-Lengths (§6.3: unrecoverable)
    "two-lengths": lambda r: (
        _head(_length(r), f"Content-Length: {len(_body(r)) + 9}") + _body(r) + b"         "
    ),
    "length-list": lambda r: (
        _head(f"Content-Length: {len(_body(r))}, {len(_body(r)) + 9}") + _body(r) + b"         "
    ),
    # -- bad sizes
    "length-negative": lambda r: _head("Content-Length: -1") + _body(r),
    "length-superscript-two": lambda r: _head("Content-Length: \u00b2") + _body(r),
    "length-exponent": lambda r: _head("Content-Length: 1e3") + _body(r),
    "length-80-digits": lambda r: _head("Content-Length: " + "9" * 80) + _body(r),
    # Past Python's 4,300-digit limit for int(str): a ValueError if parsed naively.
    "length-5000-digits": lambda r: _head("Content-Length: " + "9" * 5000) + _body(r),
    "length-5000-digits-listed": lambda r: (
        _head(f"Content-Length: {len(_body(r))}, " + "9" * 5000) + _body(r)
    ),
    "length-plus-sign": lambda r: _head(f"Content-Length: +{len(_body(r))}") + _body(r),
    "length-hex": lambda r: _head(f"Content-Length: 0x{len(_body(r)):x}") + _body(r),
    "length-space-before-colon": lambda r: _head(f"Content-Length : {len(_body(r))}") + _body(r),
    "length-empty": lambda r: _head("Content-Length: ") + _body(r),
    "chunk-size-zz": lambda r: (
        _head("Transfer-Encoding: chunked") + _chunk(_body(r), b"zz") + b"\r\n0\r\n\r\n"
    ),
    "chunk-size-40-hex-digits": lambda r: (
        _head("Transfer-Encoding: chunked") + _chunk(_body(r), b"f" * 40) + b"\r\n0\r\n\r\n"
    ),
    "chunk-size-negative": lambda r: (
        _head("Transfer-Encoding: chunked") + _chunk(_body(r), b"-1") + b"\r\n0\r\n\r\n"
    ),
    "chunk-size-0x-prefix": lambda r: (
        _head("Transfer-Encoding: chunked")
        + _chunk(_body(r), f"0x{len(_body(r)):x}".encode())
        + b"\r\n0\r\n\r\n"
    ),
    "chunk-size-with-space-inside": lambda r: (
        _head("Transfer-Encoding: chunked") + _chunk(_body(r), b"1 0") + b"\r\n0\r\n\r\n"
    ),
    # -- bad chunk lines
    "chunk-data-without-crlf": lambda r: (
        _head("Transfer-Encoding: chunked") + _chunk(_body(r)) + b"XX0\r\n\r\n"
    ),
    "chunk-data-longer-than-size": lambda r: (
        _head("Transfer-Encoding: chunked")
        + _chunk(_body(r) + b"  extra", f"{len(_body(r)):x}".encode())
        + b"\r\n0\r\n\r\n"
    ),
    "chunk-extension-with-nul": lambda r: (
        _head("Transfer-Encoding: chunked")
        + _chunk(_body(r), f"{len(_body(r)):x};a=\x00b".encode())
        + b"\r\n0\r\n\r\n"
    ),
    "chunk-size-bare-lf": lambda r: (
        _head("Transfer-Encoding: chunked")
        + f"{len(_body(r)):x}\n".encode()
        + _body(r)
        + b"\n0\n\n"
    ),
    "chunked-body-cut-short-then-close": lambda r: [
        _head("Transfer-Encoding: chunked") + _chunk(_body(r))[:-4],
        CLOSE,
    ],
    # -- status lines
    "status-2000": lambda r: _head(_length(r), status="HTTP/1.1 2000 OK") + _body(r),
    "status-version-9.9": lambda r: _head(_length(r), status="HTTP/9.9 200 OK") + _body(r),
    "status-garbage": lambda r: _head(_length(r), status="garbage") + _body(r),
    "status-two-digits": lambda r: _head(_length(r), status="HTTP/1.1 20 OK") + _body(r),
    "status-leading-space": lambda r: _head(_length(r), status=" HTTP/1.1 200 OK") + _body(r),
    "status-lowercase-http": lambda r: _head(_length(r), status="http/1.1 200 OK") + _body(r),
    "status-nul-in-reason": lambda r: _head(_length(r), status="HTTP/1.1 200 O\x00K") + _body(r),
    "status-http-0.9-body-only": lambda r: _body(r) + b"\r\n\r\n",
    # -- line endings and header bytes
    "bare-lf-line-endings": lambda r: _head(_length(r), end="\n") + _body(r),
    "bare-cr-line-endings": lambda r: _head(_length(r), end="\r") + _body(r),
    "nul-in-header-value": lambda r: _head("X-Evil: a\x00b", _length(r)) + _body(r),
    "nul-in-header-name": lambda r: _head("X-E\x00vil: ab", _length(r)) + _body(r),
    "obs-fold": lambda r: _head("X-Long: a", " folded", _length(r)) + _body(r),
    "obs-fold-of-content-length": lambda r: _head("X-Long: a", f" {_length(r)}") + _body(r),
    "header-without-colon": lambda r: _head("Garbage header line", _length(r)) + _body(r),
    "header-name-with-space": lambda r: _head("X Evil: yes", _length(r)) + _body(r),
    "header-8-bit-bytes": lambda r: _head("X-Evil: \xff\xfe", _length(r)) + _body(r),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
async def test_a_broken_framing_gives_the_right_answer_or_a_typed_error_and_no_desync(
    api: Api, server: HostileServer, case: str
) -> None:
    build = BROKEN[case]

    def answer(request: Request) -> Answer:
        built = build(request)
        if isinstance(built, bytes):
            return built + ticket_answer(INJECTED)
        return built

    server.script = hostile_first(answer)

    first = (await api.ticket("t1")).typed()
    if first.error is None:
        assert first.value.url == ticket_url("t1"), f"t1 got {first.value.url!r}"
    await api.expect_own_answer("t2")
    await api.expect_own_answer("t3")
