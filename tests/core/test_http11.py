"""The SDK's own HTTP/1.1 (``_transport._http11``) as tables: bytes in, events out.

No sockets: every answer is bytes fed to a :class:`ResponseParser`, whole, split
at every point (short answers) and byte by byte, with the body kept and only
counted; each must give the same events, ``trailing_data`` and ``reusable``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketpulse._transport._http11 import (
    END,
    MAX_CHUNK_LINE,
    MAX_HEAD,
    MAX_INTERIM,
    MAX_TRAILERS,
    NEED_DATA,
    Head,
    LimitError,
    ProtocolError,
    ResponseParser,
    State,
    request_bytes,
)

OK = b"HTTP/1.1 200 OK"
CHUNKED = b"Transfer-Encoding: chunked"
NEXT = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nINJECTED"
"""An answer nobody asked for, as a hostile server smuggles one."""


def msg(*lines: bytes, body: bytes = b"") -> bytes:
    """A head from its lines (status line first), then the body as given."""
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(*lines: bytes, body: bytes) -> bytes:
    return msg(OK, CHUNKED, *lines, body=body)


def H(status: int, headers: dict[str, str] | None = None, keep_alive: bool = True) -> Head:
    return Head(status, headers or {}, keep_alive)


def length(value: bytes) -> bytes:
    """An answer whose only header is ``Content-Length: <value>``."""
    return msg(OK, b"Content-Length: " + value, body=b"hello")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    data: bytes | tuple[bytes, ...]
    """The answer's bytes (fed whole and split every way), or the exact pieces to feed."""
    events: tuple[Head | bytes | object, ...] = ()
    """Expected events, consecutive body bytes joined, NEED_DATA left out."""
    error: tuple[type[ProtocolError], str] | None = None
    """Or the exact class raised and a fragment of its message."""
    method: str | None = "GET"
    """The request's method; None: no request was started."""
    eof: bool = False
    trailing: bytes = b""
    reusable: bool = True
    max_body: int | None = None


def fails(name: str, data: bytes | tuple[bytes, ...], fragment: str, **kw: Any) -> Case:
    """A case that raises ProtocolError (exactly, not a subclass) with ``fragment``."""
    return Case(name, data, error=(ProtocolError, fragment), **kw)


def limit(name: str, data: bytes | tuple[bytes, ...], fragment: str, **kw: Any) -> Case:
    """A case that raises LimitError with ``fragment``."""
    return Case(name, data, error=(LimitError, fragment), **kw)


HEAD_FILLER = MAX_HEAD - len(OK) - len(b"\r\nX: ")
"""The value length that makes a head of ``OK`` and one ``X:`` field exactly MAX_HEAD."""
AT_MAX_HEAD = OK + b"\r\nX: " + b"a" * HEAD_FILLER
assert len(AT_MAX_HEAD) == MAX_HEAD
AT_MAX_CHUNK_LINE = b"5;" + b"e" * (MAX_CHUNK_LINE - 2)
TRAILER = b"X-T: " + b"t" * 1000
"""A trailer field line: 1,005 bytes, 1,007 with its CRLF."""
ONE_TRAILER_AT_MAX = b"X-T: " + b"t" * (MAX_TRAILERS - 7)
"""A trailer section (line and CRLF) of exactly MAX_TRAILERS bytes."""
INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n"

CASES = [
    # -- Content-Length (RFC 9112 §6.3 item 6)
    Case("length", length(b"5"), (H(200, {"content-length": "5"}), b"hello", END)),
    Case("length zero", msg(OK, b"Content-Length: 0"), (H(200, {"content-length": "0"}), END)),
    Case("length with OWS", length(b" \t5 \t"), (H(200, {"content-length": "5"}), b"hello", END)),
    Case(
        "length with leading zeros",
        length(b"005"),
        (H(200, {"content-length": "005"}), b"hello", END),
    ),
    Case(
        "bytes after the length are trailing data",
        length(b"5") + NEXT,
        (H(200, {"content-length": "5"}), b"hello", END),
        trailing=NEXT,
        reusable=False,
    ),
    Case(
        "body not complete yet",
        msg(OK, b"Content-Length: 9", body=b"hel"),
        (H(200, {"content-length": "9"}), b"hel"),
        reusable=False,
    ),
    fails(
        "body cut by eof",
        msg(OK, b"Content-Length: 9", body=b"hel"),
        "before the end of its answer",
        eof=True,
    ),
    Case(
        "identical lengths as a list",
        length(b"5, 5"),
        (H(200, {"content-length": "5, 5"}), b"hello", END),
    ),
    Case(
        "identical lengths on two lines",
        msg(OK, b"Content-Length: 5", b"Content-Length: 5", body=b"hello"),
        (H(200, {"content-length": "5, 5"}), b"hello", END),
    ),
    fails(
        "different lengths on two lines",
        msg(OK, b"Content-Length: 5", b"Content-Length: 4", body=b"hello"),
        "conflicting Content-Lengths",
    ),
    fails("different lengths as a list", length(b"5, 4"), "conflicting Content-Lengths"),
    fails("length with an empty list member", length(b"5,"), "conflicting Content-Lengths"),
    fails("length superscript two (UTF-8)", length("²".encode()), "invalid Content-Length"),
    fails("length superscript two (latin-1)", length(b"\xb2"), "invalid Content-Length"),
    fails("length with a trailing NBSP", length(b"5\xa0"), "invalid Content-Length"),
    fails("length with a leading NEL", length(b"\x855"), "invalid Content-Length"),
    fails("length -1", length(b"-1"), "invalid Content-Length"),
    fails("length +5", length(b"+5"), "invalid Content-Length"),
    fails("length 1e3", length(b"1e3"), "invalid Content-Length"),
    fails("length in hex", length(b"0x5"), "invalid Content-Length"),
    fails("length empty", length(b""), "invalid Content-Length"),
    fails("length of 19 digits", length(b"1" * 19), "invalid Content-Length"),
    Case(
        "length of 18 digits",
        msg(OK, b"Content-Length: " + b"9" * 18),
        (H(200, {"content-length": "9" * 18}),),
        reusable=False,
    ),
    # -- chunked (RFC 9112 §7.1)
    Case(
        "chunked",
        chunked(body=b"5\r\nhello\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    Case(
        "chunked, several chunks",
        chunked(body=b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello world", END),
    ),
    Case(
        "chunked, upper-case hex and leading zeros",
        chunked(body=b"00A\r\n0123456789\r\n000\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"0123456789", END),
    ),
    Case(
        "chunked, 15 hex digits",
        chunked(body=b"000000000000005\r\nhello\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    Case(
        "chunked, extensions ignored",
        chunked(body=b'5;name=value;flag;q="a b"\r\nhello\r\n0 ;last=1\r\n\r\n'),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    Case(
        "chunked, trailers read and dropped",
        chunked(body=b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other:\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    Case(
        "chunked, the coding's name in any case",
        msg(OK, b"Transfer-Encoding: Chunked", body=b"0\r\n\r\n"),
        (H(200, {"transfer-encoding": "Chunked"}), END),
    ),
    Case(
        "bytes after the last chunk are trailing data",
        chunked(body=b"5\r\nhello\r\n0\r\n\r\n" + NEXT),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
        trailing=NEXT,
        reusable=False,
    ),
    fails(
        "chunked cut by eof", chunked(body=b"5\r\nhel"), "before the end of its answer", eof=True
    ),
    fails(
        "chunked, no last chunk at eof", chunked(body=b"5\r\nhello\r\n"), "before the end", eof=True
    ),
    fails(
        "gzip, chunked",
        msg(OK, b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"),
        "unsupported Transfer-Encoding",
    ),
    fails(
        "chunked twice",
        msg(OK, b"Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"),
        "unsupported Transfer-Encoding",
    ),
    fails(
        "identity",
        msg(OK, b"Transfer-Encoding: identity", body=b"hello"),
        "unsupported Transfer-Encoding",
    ),
    fails(
        "chunked with an NBSP",
        msg(OK, b"Transfer-Encoding: chunked\xa0", body=b"0\r\n\r\n"),
        "unsupported Transfer-Encoding",
    ),
    fails("chunk size zz", chunked(body=b"zz\r\nhello\r\n0\r\n\r\n"), "invalid size"),
    fails(
        "chunk size of 16 hex digits",
        chunked(body=b"0000000000000005\r\nhello\r\n0\r\n\r\n"),
        "invalid size",
    ),
    fails("chunk size empty", chunked(body=b"\r\nhello\r\n0\r\n\r\n"), "invalid size"),
    fails(
        "chunk size only an extension", chunked(body=b";x\r\nhello\r\n0\r\n\r\n"), "invalid size"
    ),
    fails("chunk size negative", chunked(body=b"-5\r\nhello\r\n0\r\n\r\n"), "invalid size"),
    fails(
        "chunk size with a 0x prefix", chunked(body=b"0x5\r\nhello\r\n0\r\n\r\n"), "invalid size"
    ),
    fails(
        "chunk longer than its size",
        chunked(body=b"3\r\nhello\r\n0\r\n\r\n"),
        "longer than its size line said",
    ),
    fails("chunk size line ends in a bare LF", chunked(body=b"5\nhello\r\n0\r\n\r\n"), "bare LF"),
    fails(
        "chunk extension holds a bare LF",
        chunked(body=b"5;x\nhello\r\nabcde\r\n0\r\n\r\n"),
        "bare LF",
    ),
    fails("chunk data ends in a bare LF", chunked(body=b"5\r\nhello\n0\r\n\r\n"), "bare LF"),
    fails("trailer ends in a bare LF", chunked(body=b"0\r\nX-T: 1\n\r\n"), "bare LF"),
    fails(
        "trailer malformed", chunked(body=b"0\r\nnot a field\r\n\r\n"), "malformed trailer field"
    ),
    # -- close-delimited (RFC 9112 §6.3 item 8)
    Case(
        "until close",
        msg(OK, body=b"hello"),
        (H(200, {}, False), b"hello", END),
        eof=True,
        reusable=False,
    ),
    Case(
        "until close, not closed yet",
        msg(OK, body=b"hello"),
        (H(200, {}, False), b"hello"),
        reusable=False,
    ),
    Case("until close, empty", msg(OK), (H(200, {}, False), END), eof=True, reusable=False),
    Case(
        "until close whatever Connection says",
        msg(OK, b"Connection: keep-alive", body=b"hello"),
        (H(200, {"connection": "keep-alive"}, False), b"hello", END),
        eof=True,
        reusable=False,
    ),
    # -- no body, whatever the headers say (RFC 9112 §6.3 items 1 and 2)
    Case("204", msg(b"HTTP/1.1 204 No Content"), (H(204), END)),
    Case(
        "204 with bytes after its head",
        msg(b"HTTP/1.1 204 No Content", body=b"INJECTED"),
        (H(204), END),
        trailing=b"INJECTED",
        reusable=False,
    ),
    Case(
        "204 with a length and a body",
        msg(b"HTTP/1.1 204 No Content", b"Content-Length: 5", body=b"hello"),
        (H(204, {"content-length": "5"}), END),
        trailing=b"hello",
        reusable=False,
    ),
    Case(
        "304 with a length and a body",
        msg(b"HTTP/1.1 304 Not Modified", b"Content-Length: 5", body=b"hello"),
        (H(304, {"content-length": "5"}), END),
        trailing=b"hello",
        reusable=False,
    ),
    Case(
        "304 with chunks",
        msg(b"HTTP/1.1 304 Not Modified", CHUNKED, body=b"0\r\n\r\n"),
        (H(304, {"transfer-encoding": "chunked"}), END),
        trailing=b"0\r\n\r\n",
        reusable=False,
    ),
    Case(
        "HEAD", msg(OK, b"Content-Length: 5"), (H(200, {"content-length": "5"}), END), method="HEAD"
    ),
    Case(
        "HEAD with a body",
        msg(OK, b"Content-Length: 5", body=b"hello"),
        (H(200, {"content-length": "5"}), END),
        method="HEAD",
        trailing=b"hello",
        reusable=False,
    ),
    Case(
        "CONNECT 200 becomes a tunnel",
        msg(OK, b"Content-Length: 5", body=b"hello"),
        (H(200, {"content-length": "5"}), END),
        method="CONNECT",
        trailing=b"hello",
        reusable=False,
    ),
    # -- interim answers (RFC 9110 §15.2)
    Case(
        "100 Continue skipped",
        INTERIM + length(b"5"),
        (H(200, {"content-length": "5"}), b"hello", END),
    ),
    Case(
        "103 Early Hints skipped, its headers too",
        msg(b"HTTP/1.1 103 Early Hints", b"Link: </a.css>; rel=preload") + length(b"5"),
        (H(200, {"content-length": "5"}), b"hello", END),
    ),
    Case(
        f"{MAX_INTERIM} interim answers",
        INTERIM * MAX_INTERIM + length(b"5"),
        (H(200, {"content-length": "5"}), b"hello", END),
    ),
    limit(
        f"{MAX_INTERIM + 1} interim answers",
        INTERIM * (MAX_INTERIM + 1) + length(b"5"),
        f"more than {MAX_INTERIM} interim",
    ),
    limit("endless interim answers", INTERIM * 1000, f"more than {MAX_INTERIM} interim"),
    fails(
        "101 Switching Protocols",
        msg(b"HTTP/1.1 101 Switching Protocols", b"Upgrade: h2c"),
        "switched protocols",
    ),
    fails("interim answer then eof", INTERIM, "without answering", eof=True),
    fails("nothing then eof", b"", "without answering", eof=True),
    fails("half a status line then eof", b"HTTP/1.1 20", "without answering", eof=True),
    # -- framing the head (RFC 9112 §2.2, §4, §5)
    fails(
        "Content-Length and Transfer-Encoding",
        msg(OK, b"Content-Length: 5", CHUNKED, body=b"0\r\n\r\n"),
        "both Transfer-Encoding and Content-Length",
    ),
    fails("head in bare LFs", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF"),
    fails("head ends in LF CRLF", b"HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", "bare LF"),
    fails(
        "bare LF inside a field line", msg(OK, b"X: 1\nContent-Length: 0"), "malformed header line"
    ),
    fails("obs-fold", msg(OK, b"X-Long: a", b" b", b"Content-Length: 0"), "folds a header line"),
    fails(
        "obs-fold with a tab",
        msg(OK, b"X-Long: a", b"\tb", b"Content-Length: 0"),
        "folds a header line",
    ),
    fails(
        "NUL in a field value", msg(OK, b"X: a\x00b", b"Content-Length: 0"), "malformed header line"
    ),
    fails(
        "bare CR in a field value",
        msg(OK, b"X: a\rb", b"Content-Length: 0"),
        "malformed header line",
    ),
    fails(
        "space before the colon",
        msg(OK, b"Content-Length : 5", body=b"hello"),
        "malformed header line",
    ),
    fails("empty field name", msg(OK, b": x", b"Content-Length: 0"), "malformed header line"),
    fails("field without a colon", msg(OK, b"Content-Length 0"), "malformed header line"),
    fails("HTTP/2 status line", msg(b"HTTP/2 200 OK", b"Content-Length: 0"), "status line"),
    fails("HTTP/1.2 status line", msg(b"HTTP/1.2 200 OK", b"Content-Length: 0"), "status line"),
    fails("lower-case protocol name", msg(b"http/1.1 200 OK", b"Content-Length: 0"), "status line"),
    fails("two-digit status", msg(b"HTTP/1.1 20 OK", b"Content-Length: 0"), "status line"),
    fails(
        "status glued to its reason", msg(b"HTTP/1.1 200OK", b"Content-Length: 0"), "status line"
    ),
    fails("status 099", msg(b"HTTP/1.1 099 X", b"Content-Length: 0"), "status line"),
    fails(
        "empty line before the status line", b"\r\n" + msg(OK, b"Content-Length: 0"), "status line"
    ),
    Case(
        "status line without a reason",
        msg(b"HTTP/1.1 200", b"Content-Length: 0"),
        (H(200, {"content-length": "0"}), END),
    ),
    Case(
        "status line with an empty reason",
        msg(b"HTTP/1.1 404 ", b"Content-Length: 0"),
        (H(404, {"content-length": "0"}), END),
    ),
    # -- limits
    Case(
        "head of exactly MAX_HEAD bytes",
        msg(AT_MAX_HEAD),
        (H(200, {"x": "a" * HEAD_FILLER}, False), END),
        eof=True,
        reusable=False,
    ),
    Case(
        "head of exactly MAX_HEAD bytes, its last byte apart",
        (AT_MAX_HEAD + b"\r\n\r", b"\nhello"),
        (H(200, {"x": "a" * HEAD_FILLER}, False), b"hello", END),
        eof=True,
        reusable=False,
    ),
    Case("MAX_HEAD bytes of head so far", (AT_MAX_HEAD,), (), reusable=False),
    limit("head over MAX_HEAD", msg(AT_MAX_HEAD + b"a"), f"head is larger than {MAX_HEAD:,} bytes"),
    limit(
        "head over MAX_HEAD by its last byte, no CRLFCRLF",
        (AT_MAX_HEAD[:-1], b"a", b"a" * 4),
        f"head is larger than {MAX_HEAD:,} bytes",
    ),
    limit(
        "endless head lines in pieces",
        (OK + b"\r\n", *[b"X-Filler: " + b"f" * 8000 + b"\r\n"] * 20),
        f"head is larger than {MAX_HEAD:,} bytes",
    ),
    Case(
        "chunk line of exactly MAX_CHUNK_LINE bytes",
        chunked(body=AT_MAX_CHUNK_LINE + b"\r\nhello\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    Case(
        "chunk line of exactly MAX_CHUNK_LINE bytes, its LF apart",
        (chunked(body=AT_MAX_CHUNK_LINE + b"\r"), b"\nhello\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"hello", END),
    ),
    limit(
        "chunk line over MAX_CHUNK_LINE",
        chunked(body=AT_MAX_CHUNK_LINE + b"e\r\nhello\r\n0\r\n\r\n"),
        f"chunk line is longer than {MAX_CHUNK_LINE:,} bytes",
    ),
    limit(
        "endless chunk extension in pieces",
        (chunked(body=b"5;"), *[b"e" * 1000] * 5),
        f"chunk line is longer than {MAX_CHUNK_LINE:,} bytes",
    ),
    limit(
        "chunk data not ended",
        (chunked(body=b"1\r\nx"), *[b"x" * 1000] * 5),
        f"chunk line is longer than {MAX_CHUNK_LINE:,} bytes",
    ),
    Case(
        "trailers of exactly MAX_TRAILERS bytes, the last byte apart",
        (chunked(body=b"0\r\n" + ONE_TRAILER_AT_MAX + b"\r\n\r"), b"\n"),
        (H(200, {"transfer-encoding": "chunked"}), END),
    ),
    limit(
        "trailers over MAX_TRAILERS",
        chunked(body=b"0\r\n" + b"\r\n".join([TRAILER] * 17) + b"\r\n\r\n"),
        f"trailer section is larger than {MAX_TRAILERS:,} bytes",
    ),
    limit(
        "trailers one byte over MAX_TRAILERS",
        chunked(body=b"0\r\n" + ONE_TRAILER_AT_MAX + b"t\r\n\r\n"),
        f"trailer section is larger than {MAX_TRAILERS:,} bytes",
    ),
    limit(
        "endless trailer line in pieces",
        (chunked(body=b"0\r\nX-T: "), *[b"t" * 4000] * 5),
        f"trailer section is larger than {MAX_TRAILERS:,} bytes",
    ),
    # -- the caller's body cap
    limit(
        "length announced over max_body",
        msg(OK, b"Content-Length: 5"),
        "larger than the 4-byte limit",
        max_body=4,
    ),
    Case(
        "length at max_body",
        length(b"5"),
        (H(200, {"content-length": "5"}), b"hello", END),
        max_body=5,
    ),
    limit(
        "chunks reach past max_body",
        chunked(body=b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"),
        "larger than the 8-byte limit",
        max_body=8,
    ),
    limit(
        "one chunk announced over max_body",
        chunked(body=b"9\r\n"),
        "larger than the 8-byte limit",
        max_body=8,
    ),
    Case(
        "chunks at max_body",
        chunked(body=b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"),
        (H(200, {"transfer-encoding": "chunked"}), b"helloworld", END),
        max_body=10,
    ),
    limit(
        "until close past max_body",
        msg(OK, body=b"hello"),
        "larger than the 4-byte limit",
        max_body=4,
    ),
    Case(
        "until close at max_body",
        msg(OK, body=b"hello"),
        (H(200, {}, False), b"hello", END),
        eof=True,
        reusable=False,
        max_body=5,
    ),
    # -- unsolicited bytes (SPEC §9)
    fails(
        "bytes while no request is outstanding",
        NEXT,
        "while no request was outstanding",
        method=None,
    ),
    # -- persistence (RFC 9112 §9.3)
    Case(
        "HTTP/1.0 closes by default",
        msg(b"HTTP/1.0 200 OK", b"Content-Length: 5", body=b"hello"),
        (H(200, {"content-length": "5"}, False), b"hello", END),
        reusable=False,
    ),
    Case(
        "HTTP/1.0 with Connection: keep-alive",
        msg(b"HTTP/1.0 200 OK", b"Connection: Keep-Alive", b"Content-Length: 5", body=b"hello"),
        (H(200, {"connection": "Keep-Alive", "content-length": "5"}), b"hello", END),
    ),
    Case(
        "HTTP/1.0 with Transfer-Encoding closes",
        msg(
            b"HTTP/1.0 200 OK", b"Connection: keep-alive", CHUNKED, body=b"5\r\nhello\r\n0\r\n\r\n"
        ),
        (
            H(200, {"connection": "keep-alive", "transfer-encoding": "chunked"}, False),
            b"hello",
            END,
        ),
        reusable=False,
    ),
    Case(
        "HTTP/1.0 until close",
        msg(b"HTTP/1.0 200 OK", body=b"hello"),
        (H(200, {}, False), b"hello", END),
        eof=True,
        reusable=False,
    ),
    Case(
        "Connection: close",
        msg(OK, b"Connection: close", b"Content-Length: 5", body=b"hello"),
        (H(200, {"connection": "close", "content-length": "5"}, False), b"hello", END),
        reusable=False,
    ),
    Case(
        "Connection: keep-alive, Close",
        msg(OK, b"Connection: keep-alive, Close", b"Content-Length: 0"),
        (H(200, {"connection": "keep-alive, Close", "content-length": "0"}, False), END),
        reusable=False,
    ),
    Case(
        "Connection: close, bytes after the answer",
        msg(OK, b"Connection: close", b"Content-Length: 5", body=b"hello" + NEXT),
        (H(200, {"connection": "close", "content-length": "5"}, False), b"hello", END),
        trailing=NEXT,
        reusable=False,
    ),
    Case(
        "answer then eof",
        length(b"5"),
        (H(200, {"content-length": "5"}), b"hello", END),
        eof=True,
        reusable=False,
    ),
    # -- fields (RFC 9110 §5)
    Case(
        "repeated fields joined, names lower-cased",
        msg(
            OK,
            b"Set-Cookie: a=1",
            b"X-Thing: 1",
            b"set-cookie: b=2",
            b"x-THING:2",
            b"Content-Length: 0",
        ),
        (H(200, {"set-cookie": "a=1, b=2", "x-thing": "1, 2", "content-length": "0"}), END),
    ),
    Case(
        "empty and latin-1 values",
        msg(OK, b"X-Empty:", b"X-Name: caf\xe9", b"Content-Length: 0"),
        (H(200, {"x-empty": "", "x-name": "café", "content-length": "0"}), END),
    ),
]

SHORT = 300
"""Answers up to this size are also fed split at every point."""


def ways_to_feed(data: bytes | tuple[bytes, ...]) -> Iterator[tuple[str, tuple[bytes, ...]]]:
    if isinstance(data, tuple):
        yield "as given", data
        return
    yield "whole", (data,)
    if len(data) <= SHORT:
        for cut in range(1, len(data)):
            yield f"split at {cut}", (data[:cut], data[cut:])
        yield "byte by byte", tuple(data[i : i + 1] for i in range(len(data)))
    else:
        yield "in 1000-byte pieces", tuple(data[i : i + 1000] for i in range(0, len(data), 1000))


def drive(parser: ResponseParser, case: Case, pieces: tuple[bytes, ...]) -> list[object]:
    """Feed the pieces as a driver does, taking events after each; joins body bytes."""
    events: list[object] = []

    def pump() -> None:
        while not events or events[-1] is not END:
            event = parser.next_event()
            if event is NEED_DATA:
                return
            assert event != b"", "an empty body event"
            if isinstance(event, bytes) and events and isinstance(events[-1], bytes):
                events[-1] = events[-1] + event
            else:
                events.append(event)

    feed(parser, case, pieces, pump)
    return events


def feed(
    parser: ResponseParser, case: Case, pieces: tuple[bytes, ...], pump: Callable[[], None]
) -> None:
    """Start the case's request, feed the pieces (and the end, if the case has
    one), calling ``pump`` after each."""
    if case.method is not None:
        parser.start(case.method)
    for piece in pieces:
        parser.feed(piece)
        pump()
    if case.eof:
        parser.feed_eof()
        pump()


def drive_whole(parser: ResponseParser, case: Case, pieces: tuple[bytes, ...]) -> list[object]:
    """Feed the pieces as a driver keeping answers in memory does: ``next_message``
    after each. The answer comes back as the events it stands for."""
    events: list[object] = []

    def pump() -> None:
        if events:
            return
        message = parser.next_message()
        if message is NEED_DATA:
            return
        assert isinstance(message, tuple)
        head, body, reusable = message
        assert reusable is parser.reusable
        events.extend([head, body, END] if body else [head, END])
        assert parser.next_message() is END  # taken once

    feed(parser, case, pieces, pump)
    return events


READINGS = {
    "events, body kept": (drive, True),
    "events, body counted": (drive, False),
    "whole answers": (drive_whole, True),
}


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_response_parser(case: Case, reading: str) -> None:
    run, keep_body = READINGS[reading]
    expected = (
        list(case.events)
        if keep_body
        else [event for event in case.events if not isinstance(event, bytes)]
    )
    body = b"".join(event for event in case.events if isinstance(event, bytes))
    if run is drive_whole:  # nothing but the answer (interim ones are never events)
        expected = [] if END not in expected else expected
    for way, pieces in ways_to_feed(case.data):
        parser = ResponseParser(keep_body=keep_body, max_body=case.max_body)
        if case.error is not None:
            cls, fragment = case.error
            with pytest.raises(ProtocolError) as info:
                run(parser, case, pieces)
            assert type(info.value) is cls, way
            assert fragment in str(info.value), way
            assert parser.state is State.BROKEN, way
            assert parser.reusable is False
            continue
        events = run(parser, case, pieces)
        assert events == expected, way
        if run is drive or END in expected:  # a whole answer's body is counted as taken
            assert parser.body_size == len(body), way
        assert parser.trailing_data == case.trailing, way
        assert parser.reusable is case.reusable, way
        assert (parser.state is State.DONE) == (END in expected), way


def test_the_table_covers_every_state_and_limit() -> None:
    names = " ".join(case.name for case in CASES)
    for word in ("length", "chunk", "until close", "204", "304", "HEAD", "interim", "101"):
        assert word in names
    for constant in ("MAX_HEAD", "MAX_CHUNK_LINE", "MAX_TRAILERS", "max_body"):
        assert constant in names


# -- the parser's life across requests


def complete(parser: ResponseParser, method: str, data: bytes) -> list[object]:
    parser.start(method)
    parser.feed(data)
    events: list[object] = []
    while not events or events[-1] is not END:
        events.append(parser.next_event())
    return events


def test_a_reusable_connection_reads_the_next_answer() -> None:
    parser = ResponseParser()
    assert complete(parser, "GET", length(b"5")) == [H(200, {"content-length": "5"}), b"hello", END]
    assert parser.reusable
    second = msg(b"HTTP/1.1 404 Not Found", b"Content-Length: 3", body=b"bye")
    events = complete(parser, "GET", second)
    assert events == [H(404, {"content-length": "3"}), b"bye", END]
    assert parser.body_size == 3


def test_start_refuses_a_connection_with_trailing_data() -> None:
    parser = ResponseParser()
    complete(parser, "GET", length(b"5") + NEXT)
    assert parser.trailing_data == NEXT
    with pytest.raises(ProtocolError, match="cannot carry another request"):
        parser.start("GET")


def test_start_refuses_bytes_that_came_after_the_answer() -> None:
    parser = ResponseParser()
    complete(parser, "GET", length(b"5"))
    assert parser.reusable
    parser.feed(NEXT)  # unsolicited, between two requests
    assert (parser.reusable, parser.trailing_data) == (False, NEXT)
    with pytest.raises(ProtocolError, match="cannot carry another request"):
        parser.start("GET")


def test_start_refuses_a_connection_the_server_closed() -> None:
    parser = ResponseParser()
    complete(parser, "GET", msg(OK, b"Connection: close", b"Content-Length: 0"))
    with pytest.raises(ProtocolError, match="cannot carry another request"):
        parser.start("GET")


def test_start_refuses_an_answer_still_unread() -> None:
    parser = ResponseParser()
    parser.start("GET")
    parser.feed(msg(OK, b"Content-Length: 5"))
    assert isinstance(parser.next_event(), Head)
    with pytest.raises(ProtocolError, match="not idle"):
        parser.start("GET")


def test_next_event_without_a_request_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="no request is outstanding"):
        ResponseParser().next_event()


def test_a_broken_parser_stays_broken() -> None:
    parser = ResponseParser()
    parser.start("GET")
    parser.feed(b"HTTP/1.1 200 OK\nX: 1\n\n")
    with pytest.raises(ProtocolError, match="bare LF"):
        parser.next_event()
    parser.feed(NEXT)  # ignored from now on
    with pytest.raises(ProtocolError, match="broken"):
        parser.next_event()
    with pytest.raises(ProtocolError):
        parser.start("GET")
    assert (parser.state, parser.trailing_data, parser.reusable) == (State.BROKEN, b"", False)


# -- one property: however the bytes arrive, the events are the same


@st.composite
def valid_answers(draw: st.DrawFn) -> tuple[bytes, bool, int, bytes]:
    """(answer bytes with maybe some trailing bytes, eof, status, body)."""
    status = draw(st.sampled_from([200, 201, 400, 404, 503]))
    body = draw(st.binary(max_size=80))
    head = INTERIM * draw(st.integers(0, 2)) + b"HTTP/1.1 %d Reason\r\n" % status
    for name, value in draw(
        st.lists(
            st.tuples(
                st.sampled_from([b"Server", b"X-Id", b"Date"]),
                st.binary(max_size=12).map(lambda v: bytes(c for c in v if 0x20 < c < 0x7F)),
            ),
            max_size=3,
        )
    ):
        head += name + b": " + value + b"\r\n"
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    if framing == "close":
        return head + b"\r\n" + body, True, status, body
    if framing == "length":
        payload = b"Content-Length: %d\r\n\r\n" % len(body) + body
    else:
        sizes = draw(st.lists(st.integers(1, 20), max_size=10))
        payload, rest = CHUNKED + b"\r\n\r\n", body
        for size in sizes:
            if not rest:
                break
            ext = draw(st.sampled_from([b"", b";a=b", b" ;x"]))
            payload += b"%x%s\r\n%s\r\n" % (len(rest[:size]), ext, rest[:size])
            rest = rest[size:]
        if rest:
            payload += b"%x\r\n%s\r\n" % (len(rest), rest)
        payload += b"0\r\n" + draw(st.sampled_from([b"", b"X-Sum: 1\r\n"])) + b"\r\n"
    trailing = draw(st.sampled_from([b"", b"x", NEXT]))
    return head + payload + trailing, False, status, body


@settings(max_examples=150, deadline=None)
@given(answer=valid_answers(), data=st.data())
def test_any_split_gives_the_same_events(
    answer: tuple[bytes, bool, int, bytes], data: st.DataObject
) -> None:
    raw, eof, status, body = answer
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=12)))
    pieces = tuple(raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True))
    case = Case("property", raw, eof=eof)
    for keep_body in (True, False):
        outcomes = []
        for feed in ((raw,), pieces):
            parser = ResponseParser(keep_body=keep_body)
            events = drive(parser, case, feed)
            outcomes.append((events, parser.trailing_data, parser.reusable, parser.body_size))
        assert outcomes[0] == outcomes[1]
        events = outcomes[0][0]
        assert isinstance(events[0], Head)
        assert events[0].status == status
        assert events[-1] is END
        assert b"".join(e for e in events if isinstance(e, bytes)) == (body if keep_body else b"")
        assert outcomes[0][3] == len(body)
    # Whole answers: the same answer, however it was split.
    head = outcomes[0][0][0]
    for feed in ((raw,), pieces):
        parser = ResponseParser()
        whole = drive_whole(parser, case, feed)
        assert whole == ([head, body, END] if body else [head, END])
        assert (parser.trailing_data, parser.reusable, parser.body_size) == outcomes[0][1:]


# -- request_bytes (RFC 9112 §3)

REQUESTS = [
    (
        "GET",
        ("GET", "/tp-api/events?key=k", "ticket-pulse.com", "Accept: application/json\r\n", None),
        b"GET /tp-api/events?key=k HTTP/1.1\r\nHost: ticket-pulse.com\r\n"
        b"Accept: application/json\r\n\r\n",
    ),
    (
        "GET without headers, host with a port",
        ("GET", "/a", "127.0.0.1:8080", "", None),
        b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
    ),
    (
        "IPv6 host",
        ("GET", "/a", "[::1]:8080", "", None),
        b"GET /a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
    ),
    (
        "POST with a JSON body",
        ("POST", "/tp-api/orders/create?key=k", "h", "User-Agent: t\r\n", b'{"a":1}'),
        b"POST /tp-api/orders/create?key=k HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n"
        b'Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}',
    ),
    (
        "POST with an empty body",
        ("POST", "/x", "h", "", b""),
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
        b"Content-Length: 0\r\n\r\n",
    ),
    (
        "body bytes sent as they are",
        ("POST", "/x", "h", "", "é\r\n".encode()),
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\n\r\n" + "é\r\n".encode(),
    ),
]


@pytest.mark.parametrize(
    ("args", "expected"), [r[1:] for r in REQUESTS], ids=[r[0] for r in REQUESTS]
)
def test_request_bytes(args: tuple[str, str, str, str, bytes | None], expected: bytes) -> None:
    assert request_bytes(*args) == expected


UNSENDABLE = [
    ("space in the target", "/a b", "h"),
    ("CRLF in the target", "/a\r\nX-Injected: 1", "h"),
    ("NUL in the target", "/a\x00", "h"),
    ("tab in the target", "/a\tb", "h"),
    ("DEL in the target", "/a\x7f", "h"),
    ("non-ASCII target", "/café", "h"),
    ("empty target", "", "h"),
    ("space in the host", "/a", "evil.example h"),
    ("CRLF in the host", "/a", "h\r\nX-Injected: 1"),
    ("control char in the host", "/a", "h\x01"),
    ("non-ASCII host", "/a", "tïcket-pulse.com"),
    ("empty host", "/a", ""),
]


@pytest.mark.parametrize(
    ("target", "host"), [r[1:] for r in UNSENDABLE], ids=[r[0] for r in UNSENDABLE]
)
@pytest.mark.parametrize("body", [None, b"{}"], ids=["GET", "POST"])
def test_request_bytes_refuses_what_a_request_line_cannot_carry(
    target: str, host: str, body: bytes | None
) -> None:
    with pytest.raises(ValueError, match="cannot be sent") as info:
        request_bytes("GET", target, host, "", body)
    assert type(info.value) is ValueError


@pytest.mark.parametrize("body", [None, b"{}"], ids=["GET", "POST"])
def test_a_target_the_caller_vouches_for_is_still_refused_if_not_ascii(
    body: bytes | None,
) -> None:
    # ``checked``: an API call's target, percent-encoded by construction (the
    # endpoint table's tests prove it); a non-ASCII one is still a ValueError.
    assert request_bytes("GET", "/a", "h", "", body, checked=True).startswith(b"GET /a HTTP/1.1")
    with pytest.raises(ValueError, match="cannot be sent") as info:
        request_bytes("GET", "/café", "h", "", body, checked=True)
    assert type(info.value) is ValueError


@pytest.mark.parametrize(
    "base_url",
    [
        "https://ticket pulse.com/tp-api",
        "https://ticket-pulse.com/tp api",
        "https://ticket-pulse.com/tp-api\r\nX-Injected: 1",
        "https://ticket-pulse.com/tp-api\x00",
    ],
)
def test_the_api_host_and_path_are_checked_once_when_the_request_builder_is_made(
    base_url: str,
) -> None:
    from ticketpulse._transport._origin import RequestHead
    from ticketpulse._transport._shared import InvalidURL

    RequestHead("https://ticket-pulse.com/tp-api", {"Accept": "application/json"})
    with pytest.raises(InvalidURL, match="cannot be sent"):
        RequestHead(base_url, {"Accept": "application/json"})
