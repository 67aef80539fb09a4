"""The SDK's own HTTP/1.1, sans I/O: a request is bytes out, an answer is events in.

Nothing here touches a socket. A driver (``_asyncio``, ``_blocking``) writes
what :func:`request_bytes` returns, feeds what it reads to a
:class:`ResponseParser` and pulls events from it, as httpcore drives h11. The
httpx-family transport runs the same parser beside httpcore (``_guard``) to
find where each answer ends.

It reads what the SDK asks for and no more: one answer per request, framed by
Content-Length, chunked coding or the connection's end (RFC 9112 §6.3), no
upgrades, no content codings. Anything else is a :class:`ProtocolError`, and
the connection is never reused after one. Every limit is a named constant with
its precedent.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Final, Literal, NamedTuple, NoReturn, cast

__all__ = [
    "END",
    "MAX_CHUNK_LINE",
    "MAX_HEAD",
    "MAX_INTERIM",
    "MAX_TRAILERS",
    "NEED_DATA",
    "Head",
    "LimitError",
    "ProtocolError",
    "ResponseParser",
    "State",
    "request_bytes",
]

MAX_HEAD: Final = 64 * 1024
"""Status line and header section of one answer. h11 allows 16 KiB
(``DEFAULT_MAX_INCOMPLETE_EVENT_SIZE``), httpcore raises that to 100 KiB,
llhttp (Node) 16 KiB, nginx 4 x 8 KiB; the API's heads are a few hundred bytes."""

MAX_CHUNK_LINE: Final = 4 * 1024
"""A chunk-size line with its extensions (RFC 9112 §7.1.1); llhttp and h11 bound
it by their header limit."""

MAX_TRAILERS: Final = 16 * 1024
"""The trailer section after the last chunk (RFC 9112 §7.1.2), as h11 bounds it."""

MAX_INTERIM: Final = 16
"""Interim (1xx) answers before the final one. RFC 9110 §15.2 obliges a client to
parse "one or more"; the SDK never sends ``Expect``, so more than a few is a
server stalling the call."""

_MAX_LENGTH_DIGITS: Final = 18  # below 2**63: every Content-Length fits an int64


class ProtocolError(Exception):
    """The server broke HTTP/1.1 (the message names the rule): the connection is dropped."""


class LimitError(ProtocolError):
    """The answer went past one of this module's limits, or the caller's body cap."""


class State(enum.Enum):
    """Where the parser is in the exchange (h11 names its states the same way)."""

    IDLE = "idle"
    """No request outstanding: any byte now is unsolicited (SPEC §9)."""
    HEAD = "head"
    """Waiting for the status line and header section (1xx answers included)."""
    BODY = "body"
    """Reading a Content-Length body (RFC 9112 §6.3 item 6)."""
    CHUNK_SIZE = "chunk size"
    """Waiting for a chunk-size line (RFC 9112 §7.1)."""
    CHUNK_DATA = "chunk data"
    """Reading a chunk's data."""
    CHUNK_END = "chunk end"
    """Waiting for the CRLF that ends a chunk's data."""
    TRAILERS = "trailers"
    """Reading the trailer section after the last chunk (RFC 9112 §7.1.2)."""
    UNTIL_CLOSE = "until close"
    """A body delimited by the connection's end (RFC 9112 §6.3 item 8)."""
    DONE = "done"
    """The answer ended exactly at its framing boundary."""
    BROKEN = "broken"
    """A protocol error was raised: nothing more is read from this connection."""


# The states as module constants: the parser reads them on every event, and an
# enum's class attribute costs a lookup each time (about 50 ns).
_IDLE: Final = State.IDLE
_IN_HEAD: Final = State.HEAD
_BODY: Final = State.BODY
_CHUNK_SIZE: Final = State.CHUNK_SIZE
_CHUNK_DATA: Final = State.CHUNK_DATA
_CHUNK_END: Final = State.CHUNK_END
_TRAILERS: Final = State.TRAILERS
_UNTIL_CLOSE: Final = State.UNTIL_CLOSE
_DONE: Final = State.DONE
_BROKEN: Final = State.BROKEN
_CHUNKED: Final = (_CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS)


class Head(NamedTuple):
    """The head of the final answer: status, headers (names lower-cased), and
    whether the connection may carry another request afterwards."""

    status: int
    headers: dict[str, str]
    keep_alive: bool


# Head(...) without the named constructor's Python-level call (the standard
# library only here, so not _core.new_record): one per answer.
_new_tuple: Any = cast("Any", tuple).__new__


class _End(enum.Enum):
    END = "end"
    NEED_DATA = "need data"


END: Final = _End.END
"""Event: the answer is complete."""
NEED_DATA: Final = _End.NEED_DATA
"""Event: feed more bytes (or :meth:`ResponseParser.feed_eof`)."""

Event = Head | bytes | _End

# RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
# Only HTTP/1.0 and 1.1 answers are read; the reason phrase is ignored.
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([1-9][0-9]{2})(?: [\t !-~\x80-\xff]*)?")
# RFC 9110 §5.1 / §5.5: field-name is a token; a field value has no CR, LF or NUL.
# A line starting with SP or HTAB is obsolete line folding (RFC 9112 §5.2), which
# a client may refuse; it does not match here.
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - RFC 9110's token, not a password
_VALUE = r"[\t !-~\x80-\xff]*"
_FIELD_LINE = re.compile(rf"{_TOKEN}:{_VALUE}")
# The whole head in one match. The quantifiers are possessive (``*+``, ``++``):
# each class stops at a character it cannot take (":", CR), so giving back
# would never help, and not keeping the backtracking state is 25% cheaper.
_HEAD = re.compile(
    rf"HTTP/1\.([01]) ([1-9][0-9]{{2}})(?: [\t !-~\x80-\xff]*+)?\r\n"
    rf"((?:{_TOKEN}+:{_VALUE}+\r\n)*+)"
)
_TRAILER = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t !-~\x80-\xff]*")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")
_DIGITS = re.compile(r"[0-9]{1,18}")
# A request target or Host header: visible ASCII only (RFC 9112 §3.2, RFC 3986).
_TARGET = re.compile(r"[!-~]+")
_UNSENDABLE = "the URL has characters that cannot be sent in a request line"


def request_bytes(
    method: str,
    target: str,
    host: str,
    headers: str,
    body: bytes | None = None,
    *,
    checked: bool = False,
) -> bytes:
    """A request on the wire (RFC 9112 §3): ``headers`` are ready ``Name: value\\r\\n`` lines.

    Raises :class:`ValueError` for a target or host with characters that cannot
    be sent as they are (a space, a control character, anything non-ASCII).
    ``checked``: the caller vouches for both (an API call's: its host and base
    path checked once, the rest percent-encoded): then only non-ASCII is refused.
    """
    if not checked and (_TARGET.fullmatch(target) is None or _TARGET.fullmatch(host) is None):
        raise ValueError(_UNSENDABLE)
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{headers}"
    try:
        if body is None:
            return (head + "\r\n").encode("ascii")
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode("ascii") + body
    except UnicodeEncodeError:
        raise ValueError(_UNSENDABLE) from None


class ResponseParser:
    """One connection's answers, one per request, as events (like h11's ``next_event``).

    Call :meth:`start` when a request has been sent, :meth:`feed` with every
    byte read and :meth:`feed_eof` at the connection's end, then take events
    from :meth:`next_event`: one :class:`Head`, then body ``bytes`` (none kept
    when ``keep_body`` is false: only counted), then :data:`END`; or take the
    whole answer at once from :meth:`next_message`. After the answer,
    :attr:`trailing_data` holds bytes that came after it (which make the
    connection unusable), and :attr:`reusable` says whether another request
    may be sent on it.

    ``max_body`` caps the body (``None``: no cap); past it, :class:`LimitError`.
    """

    __slots__ = (
        "_buffer",
        "_chunks",
        "_head",
        "_interim",
        "_keep_alive",
        "_keep_body",
        "_method",
        "_remaining",
        "_trailer_size",
        "body_size",
        "max_body",
        "state",
    )

    def __init__(self, *, keep_body: bool = True, max_body: int | None = None) -> None:
        self._buffer = bytearray()
        self._keep_body = keep_body
        self.max_body = max_body
        self.state = _IDLE
        self._method = ""
        self._keep_alive = True
        self._remaining = 0
        self._interim = 0
        self._trailer_size = 0
        self.body_size = 0
        self._head: Head | None = None  # the answer's, for next_message
        self._chunks: list[bytes] = []

    # -- the caller's side

    def start(self, method: str) -> None:
        """A request was sent: expect its answer. Raises ProtocolError if the
        connection is not idle (an answer unread, or bytes nobody asked for)."""
        state = self.state
        if state is _DONE:
            if self._buffer or not self._keep_alive:
                raise ProtocolError("the connection cannot carry another request")
        elif state is not _IDLE or self._buffer:
            raise ProtocolError("the connection is not idle")
        self.state = _IN_HEAD
        self._method = method
        self._keep_alive = True
        self._interim = 0
        self._trailer_size = 0
        self.body_size = 0
        self._head = None

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Bytes read from the connection."""
        if self.state is _BROKEN:
            return
        if self.state is _IDLE:
            # SPEC §9: no unsolicited bytes while idle; they would be read as the
            # answer to the next request.
            self.state = _BROKEN
            raise ProtocolError("the server sent bytes while no request was outstanding")
        self._buffer += data

    def feed_eof(self) -> None:
        """The connection ended: completes a close-delimited body, else nothing."""
        if self.state is _UNTIL_CLOSE:
            self._keep_alive = False
            self.state = _DONE
        elif self.state is _DONE:
            self._keep_alive = False
        elif self.state is _IDLE:
            self.state = _BROKEN  # no error: nothing was asked
        elif self.state is not _BROKEN:
            head_seen = self.state is not _IN_HEAD
            self.state = _BROKEN
            raise ProtocolError(
                "the server closed the connection before the end of its answer"
                if head_seen
                else "the server closed the connection without answering"
            )

    @property
    def trailing_data(self) -> bytes:
        """Bytes received after the end of the answer (normally none)."""
        return bytes(self._buffer) if self.state is _DONE else b""

    @property
    def reusable(self) -> bool:
        """The answer ended at its framing boundary with nothing after it, and
        neither side asked to close: the connection may carry another request."""
        return self.state is _DONE and self._keep_alive and not self._buffer

    def next_event(self) -> Event:
        """The next event; raises :class:`ProtocolError` for a broken answer."""
        try:
            state = self.state
            buffer = self._buffer
            if state is _IN_HEAD:
                return self._read_head()
            if state is _BODY:
                if not buffer:
                    return NEED_DATA
                data = self._take_counted(_DONE)
                if self._keep_body:
                    return data
                return END if self.state is _DONE else NEED_DATA
            if state is _DONE:
                return END
            if state in _CHUNKED:
                return self._read_chunked()
            if state is _UNTIL_CLOSE:
                if not buffer:
                    return NEED_DATA
                self._count(len(buffer))
                data = self._take(len(buffer))
                return data if self._keep_body else NEED_DATA
            if state is _IDLE:
                raise ProtocolError("no request is outstanding")
            raise ProtocolError("the connection is broken")
        except ProtocolError:
            self.state = _BROKEN
            raise

    def next_message(
        self, data: bytes | bytearray | memoryview = b""
    ) -> tuple[Head, bytes, bool] | _End:
        """The whole answer at once: ``(head, body, reusable)`` once its last byte
        came (:attr:`reusable` as it is then), else :data:`NEED_DATA` (:data:`END`
        if it was already taken). Raises :class:`ProtocolError` like
        :meth:`next_event`. ``data``: bytes read, fed first (as :meth:`feed`
        does: one call per read instead of two).

        For a caller that keeps the body in memory (``keep_body``, under
        ``max_body``): one call per answer instead of an event per piece. Take
        an answer either this way or by :meth:`next_event`, not both.
        """
        if data:
            if self.state is _IN_HEAD or self.state is _BODY:
                self._buffer += data  # feed()'s common case, inline
            else:
                self.feed(data)
        try:
            if self.state is _IN_HEAD:
                head = self._read_head()
                if head is NEED_DATA:
                    return NEED_DATA
                self._head = head
            if self.state is _BODY:
                # The common case, a Content-Length body: it waits in the buffer
                # until all of it came (its length was checked against max_body
                # with the head), then is taken in one copy (inline).
                remaining = self._remaining
                buffer = self._buffer
                if len(buffer) < remaining:
                    return NEED_DATA
                self.body_size = remaining
                self._remaining = 0
                self.state = _DONE
                if len(buffer) == remaining and self._keep_body:
                    body = bytes(buffer)
                    buffer.clear()
                else:  # bytes after the answer are left as trailing data
                    body = self._take(remaining)
            else:
                chunks = self._chunks
                while (event := self.next_event()) is not END:
                    if event is NEED_DATA:
                        return NEED_DATA
                    chunks.append(cast("bytes", event))
                body = b"".join(chunks)
                chunks.clear()
        except ProtocolError:
            self.state = _BROKEN
            raise
        answer, self._head = self._head, None
        if answer is None:
            return END
        # reusable, which this is (the property, inline): DONE, keep-alive, nothing after.
        return answer, body, self._keep_alive and not self._buffer

    # -- parsing

    def _count(self, count: int) -> None:
        """Count body bytes against ``max_body``."""
        self.body_size += count
        if self.max_body is not None and self.body_size > self.max_body:
            raise LimitError(f"the answer is larger than the {self.max_body:,}-byte limit")

    def _take_counted(self, then: State) -> bytes:
        """The body bytes buffered of the ``_remaining`` expected, counted against
        ``max_body``; ``then`` is the state once all of them came."""
        # _count inline: this runs for every answer with a body.
        count = len(self._buffer)
        remaining = self._remaining
        if count >= remaining:
            count = remaining
            self.state = then
        self._remaining = remaining - count
        self.body_size += count
        if self.max_body is not None and self.body_size > self.max_body:
            raise LimitError(f"the answer is larger than the {self.max_body:,}-byte limit")
        return self._take(count)

    def _take(self, count: int) -> bytes:
        buffer = self._buffer
        if not self._keep_body:
            del buffer[:count]
            return b""
        if count == len(buffer):
            data = bytes(buffer)
            buffer.clear()
            return data
        data = bytes(buffer[:count])
        del buffer[:count]
        return data

    def _read_head(self) -> Head | Literal[_End.NEED_DATA]:
        """The final answer's head, interim ones skipped, and the state its body's
        framing puts the parser in; NEED_DATA until the whole head came."""
        while True:
            buffer = self._buffer
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                # + 3: a head at the limit may be here with all but the last byte of
                # its CRLFCRLF, and must not fail only because of where a read ended.
                if len(buffer) > MAX_HEAD + 3:
                    raise LimitError(f"the answer's head is larger than {MAX_HEAD:,} bytes")
                if b"\n\n" in buffer or b"\n\r\n" in buffer:
                    # RFC 9112 §2.2 lets a recipient accept a bare LF; the SDK does
                    # not, as h11 does not: a bare LF is how answers get split.
                    raise ProtocolError("the answer's head has a line ending in a bare LF")
                return NEED_DATA
            if end > MAX_HEAD:
                raise LimitError(f"the answer's head is larger than {MAX_HEAD:,} bytes")
            # latin-1 maps each byte to one character: the str regexes see the bytes.
            # The first CRLF of the blank line is kept: every line ends in CRLF.
            text = buffer[: end + 2].decode("latin-1")
            del buffer[: end + 4]
            # One regex checks the whole head; only a broken one is looked at again,
            # line by line, to say what is wrong with it.
            match = _HEAD.fullmatch(text)
            if match is None:
                _refuse(text)
            minor, code, block = match.groups()
            status = int(code)
            if status >= 200:
                break
            # RFC 9110 §15.2: interim answers precede the final one; 101 would
            # switch protocols, which the SDK never asks for.
            if status == 101:
                raise ProtocolError("the server switched protocols unasked")
            self._interim += 1
            if self._interim > MAX_INTERIM:
                raise LimitError(f"more than {MAX_INTERIM} interim (1xx) answers")
        # How the body is delimited: RFC 9112 §6.3, in its order.
        headers = _fields(block)
        http10 = minor == "0"
        connection = headers.get("connection")
        if connection is None:
            keep_alive = not http10
        else:
            connection = connection.lower()
            keep_alive = "close" not in connection and (not http10 or "keep-alive" in connection)
        encoding = headers.get("transfer-encoding")
        length = headers.get("content-length")
        method = self._method
        if status in (204, 304) or (
            method != "GET" and (method == "HEAD" or (method == "CONNECT" and status < 300))
        ):
            # §6.3 items 1 and 2: no body, whatever the headers say. Bytes after the
            # head are not this answer's: they stay in the buffer as trailing data.
            self.state = _DONE
        elif encoding is not None:
            if length is not None:
                # §6.3 item 3: "ought to be handled as an error" (request smuggling
                # and response splitting use exactly this).
                raise ProtocolError("the answer has both Transfer-Encoding and Content-Length")
            # Only SP and HTAB are whitespace here (RFC 9110 §5.6.1): str.strip() would
            # also take the NBSP and NEL a latin-1 value may hold, "chunked\xa0" say.
            codings = [c.strip(" \t").lower() for c in encoding.split(",")]
            if codings != ["chunked"]:
                # §6.3 item 4 would read a non-chunked coding until close; the SDK
                # decodes no transfer coding but chunked.
                raise ProtocolError(f"unsupported Transfer-Encoding: {encoding[:40]!r}")
            if http10:
                # RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding is treated
                # as faulty framing, and the connection closed after it.
                keep_alive = False
            self.state = _CHUNK_SIZE
        elif length is not None:
            # §6.3 item 5: a list of identical values is one value; anything else
            # (two lengths, a sign, a non-ASCII digit, 19 digits) is an error.
            value = length
            # The common case, a plain number: isdigit() is 0-9 only on ASCII text.
            if not (value.isascii() and value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS):
                values = {v.strip(" \t") for v in length.split(",")}
                if len(values) != 1:
                    raise ProtocolError("the answer has conflicting Content-Lengths")
                (value,) = values
                if _DIGITS.fullmatch(value) is None:
                    raise ProtocolError("the answer has an invalid Content-Length")
            self._remaining = int(value)
            if self.max_body is not None and self._remaining > self.max_body:
                raise LimitError(f"the answer is larger than the {self.max_body:,}-byte limit")
            self.state = _BODY if self._remaining else _DONE
        else:
            # §6.3 item 8: the body is whatever comes until the server closes (also
            # for an HTTP/1.1 answer that did not say Connection: close).
            self.state = _UNTIL_CLOSE
            keep_alive = False
        self._keep_alive = keep_alive
        head: Head = _new_tuple(Head, (status, headers, keep_alive))
        return head

    def _read_chunked(self) -> Event:
        buffer = self._buffer
        while True:
            state = self.state
            if state is _CHUNK_DATA:
                if not buffer:
                    return NEED_DATA
                data = self._take_counted(_CHUNK_END)
                if self._keep_body:
                    return data
                continue
            end = buffer.find(b"\r\n")
            if state is _TRAILERS:
                limit = MAX_TRAILERS - self._trailer_size
                # + 1 (here and below): the line's CR may be here without its LF.
                if (end < 0 and len(buffer) > limit + 1) or end > limit:
                    raise LimitError(f"the trailer section is larger than {MAX_TRAILERS:,} bytes")
            elif (end < 0 and len(buffer) > MAX_CHUNK_LINE + 1) or end > MAX_CHUNK_LINE:
                raise LimitError(f"a chunk line is longer than {MAX_CHUNK_LINE:,} bytes")
            if end < 0:
                if b"\n" in buffer:
                    raise ProtocolError("a chunk line ends in a bare LF")
                return NEED_DATA
            line = bytes(buffer[:end])
            del buffer[: end + 2]
            if b"\n" in line:
                # A bare LF inside the line (in a chunk extension, say): a parser that
                # ends lines at LF would frame the chunks differently (RFC 9112 §7.1).
                raise ProtocolError("a chunk line ends in a bare LF")
            if state is _CHUNK_END:
                if line:
                    raise ProtocolError("a chunk is longer than its size line said")
                self.state = _CHUNK_SIZE
            elif state is _CHUNK_SIZE:
                # RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; the extensions are ignored.
                size = line.split(b";", 1)[0].strip(b" \t")
                if _HEX.fullmatch(size) is None:
                    raise ProtocolError("a chunk has an invalid size")
                self._remaining = int(size, 16)
                if self._remaining == 0:
                    self.state = _TRAILERS
                else:
                    if self.max_body is not None and (
                        self.body_size + self._remaining > self.max_body
                    ):
                        raise LimitError(
                            f"the answer is larger than the {self.max_body:,}-byte limit"
                        )
                    self.state = _CHUNK_DATA
            else:  # trailers: ignored, but bounded; the empty line ends the message
                self._trailer_size += len(line) + 2
                if not line:
                    self.state = _DONE
                    return END
                if _TRAILER.fullmatch(line) is None:
                    raise ProtocolError("the answer has a malformed trailer field")


def _refuse(head: str) -> NoReturn:
    """Raise the ProtocolError that says what is wrong with a head ``_HEAD`` refused."""
    lines = head.split("\r\n")[:-1]
    if _STATUS_LINE.fullmatch(lines[0]) is None:
        raise ProtocolError("the answer does not start with an HTTP/1.1 status line")
    for line in lines[1:]:
        if _FIELD_LINE.fullmatch(line) is None:
            if line[:1] in (" ", "\t"):
                raise ProtocolError("the answer folds a header line (obsolete, RFC 9112 §5.2)")
            break
    raise ProtocolError("the answer has a malformed header line")


def _fields(block: str) -> dict[str, str]:
    """Header fields, names lower-cased; repeated fields joined with ", " (RFC 9110 §5.3).

    ``block`` is a checked header section (``_HEAD``'s third group) as latin-1
    text, every line ``name:value`` ending in CRLF.
    """
    if not block:
        return {}
    # A split is cheaper than a capturing regex. Only SP and HTAB around a value
    # are whitespace (RFC 9112 §5.1).
    lines = block[:-2].split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip(" \t")
    if len(headers) < len(lines):  # a repeated field: its values joined, in order (§5.3)
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip(" \t")
            previous = headers.get(name)
            headers[name] = value if previous is None else f"{previous}, {value}"
    return headers
