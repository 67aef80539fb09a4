"""What every transport does, written once: the interface, body caps, downloads,
deadlines, failure classes and the fork rule (SPEC §9).

A transport module holds only the code its library forces on it: it sends a
:class:`~ticketpulse._core.Call` and returns a core ``Answer`` or ``Failure``,
reading the body through a :class:`BodyReader` (which caps it, refuses content
codings the SDK did not ask for and streams downloads to their file) within the
attempt's :func:`deadline`. It never raises for network trouble or a broken
answer.
"""

from __future__ import annotations

import contextvars
import os
import select
import socket
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import httpx

from .._core import Answer, Call, Failure, describe_failure
from .._errors import ConfigurationError
from .._files import FileSink

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "BODY_LIMIT",
    "DEADLINE",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "INVALID",
    "NOT_SENT",
    "TIMEOUTS",
    "AnswerTooLarge",
    "AttemptLimits",
    "AsyncTransport",
    "ChainingTransport",
    "BodyReader",
    "ConnectError",
    "ConnectTimeout",
    "InvalidURL",
    "PoolTimeout",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "Settings",
    "SyncTransport",
    "TransportError",
    "WriteTimeout",
    "attempt_deadline",
    "failure",
    "fork_generation",
    "lower_headers",
    "proxy_url",
    "readable_now",
    "refuse_content_coding",
    "remaining",
    "asyncio_loop",
]

DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
"""An answer kept in memory, or a file downloaded: the largest real ``/events``
answer is a few MB, a ticket PDF well under that."""


class Settings:
    """What a transport is built from (the client's settings, resolved)."""

    __slots__ = (
        "base_url",
        "headers",
        "keepalive_expiry",
        "max_connections",
        "max_response_size",
        "ssl_context",
    )

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        ssl_context: Any,
        max_connections: int,
        keepalive_expiry: float,
        max_response_size: int,
    ) -> None:
        self.base_url = base_url
        self.headers = dict(headers)
        self.ssl_context = ssl_context
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.max_response_size = max_response_size


class AsyncTransport(Protocol):
    """What ``AsyncClient`` needs from its I/O: send one call, close."""

    @property
    def is_closed(self) -> bool: ...

    async def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - per-operation timeouts, applied per request
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ChainingTransport(Protocol):
    """A transport that can also chain calls on a connection (the builtin on asyncio)."""

    async def send_chain(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,  # noqa: ASYNC109 - per-operation timeouts, applied per request
        scrub: Callable[[str], str],
        step: Callable[[Answer], tuple[Call[Any], str] | None],
    ) -> Answer | Failure | None: ...


class SyncTransport(Protocol):
    """What ``Client`` needs from its I/O: send one call, close."""

    @property
    def is_closed(self) -> bool: ...

    def send(
        self,
        call: Call[Any],
        url: str,
        timeout: httpx.Timeout,
        sink: FileSink | None,
        scrub: Callable[[str], str],
    ) -> Answer | Failure: ...

    def close(self) -> None: ...


# -- the SDK's own failure classes. Their names show in the SDK's errors
# ("ReadTimeout: ..."), like httpx's; they never leave the transports otherwise.


class TransportError(Exception):
    """Base of the failures the SDK's transports detect themselves."""


class ConnectError(TransportError):
    """Connecting failed: nothing was sent."""


class ConnectTimeout(TransportError):
    """Connecting took longer than the connect timeout: nothing was sent."""


class PoolTimeout(TransportError):
    """No connection came free in time: nothing was sent."""


class ReadTimeout(TransportError):
    """The server sent nothing for longer than the read timeout, or the whole
    answer took longer than the attempt's deadline."""


class WriteTimeout(TransportError):
    """The request could not be written within the write timeout."""


class ReadError(TransportError):
    """The connection broke while the request was sent or answered."""


class RemoteProtocolError(TransportError):
    """The server's answer broke HTTP/1.1, or was not the answer to this request."""


class AnswerTooLarge(RemoteProtocolError):
    """The answer went past the client's ``max_response_size``."""


class InvalidURL(TransportError):
    """A URL that cannot be put on the wire as it is (a local error)."""


NOT_SENT: tuple[type[BaseException], ...] = (ConnectError, ConnectTimeout, PoolTimeout)
INVALID: tuple[type[BaseException], ...] = (InvalidURL,)
TIMEOUTS: tuple[type[BaseException], ...] = (ConnectTimeout, PoolTimeout, ReadTimeout, WriteTimeout)


def failure(
    exc: BaseException,
    scrub: Callable[[str], str],
    *,
    not_sent: tuple[type[BaseException], ...] = (),
    invalid: tuple[type[BaseException], ...] = (),
    timeouts: tuple[type[BaseException], ...] = (),
) -> Failure:
    """``exc`` as a core Failure: the SDK's own classes plus a library's."""
    return describe_failure(
        exc,
        scrub,
        not_sent=NOT_SENT + not_sent,
        invalid=INVALID + invalid,
        timeouts=TIMEOUTS + timeouts,
    )


# -- deadlines

DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "ticketpulse_deadline", default=None
)
"""The current attempt's deadline (``time.monotonic()``), for code below the
transport that has no other way to learn it (the httpx family's network streams)."""

BODY_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "ticketpulse_body_limit", default=None
)
"""The current attempt's body cap, for the same streams: an answer stopped there
ends httpcore's reading with an error, which leaves none of its generators open."""


def attempt_deadline(timeout: httpx.Timeout) -> float | None:
    """Seconds one attempt may take in all, from connecting to the answer's last byte.

    Per-operation timeouts are re-armed by every byte, so a server trickling a
    byte a second would hold a call for ever without this. It is twice the
    read timeout plus the connect and pool timeouts (70 s by default); none
    when reads have no timeout.
    """
    read = timeout.read
    if read is None:
        return None
    return 2 * read + (timeout.connect or 0.0) + (timeout.pool or 0.0)


class AttemptLimits:
    """``with AttemptLimits(timeout, limit):`` sets :data:`DEADLINE` and
    :data:`BODY_LIMIT` for one attempt (a class, not a generator: it is on every
    request's path)."""

    __slots__ = ("_deadline", "_limit", "deadline")

    def __init__(self, timeout: httpx.Timeout, limit: int) -> None:
        total = attempt_deadline(timeout)
        self.deadline = None if total is None else time.monotonic() + total
        self._deadline = DEADLINE.set(self.deadline)
        self._limit = BODY_LIMIT.set(limit)

    def __enter__(self) -> AttemptLimits:
        return self

    def __exit__(self, *exc: object) -> None:
        DEADLINE.reset(self._deadline)
        BODY_LIMIT.reset(self._limit)


def remaining(deadline: float | None, timeout: float | None) -> float | None:
    """The per-operation ``timeout`` shortened to what is left before ``deadline``.

    Raises :class:`ReadTimeout` once the deadline has passed.
    """
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise ReadTimeout("the answer took longer than the attempt's deadline")
    return left if timeout is None or timeout > left else timeout


# -- bodies


def _passes(length: str, limit: int) -> bool:
    """Whether a Content-Length's first value is a number above ``limit``.

    Compared as digit strings, not with ``int()``, which refuses more than
    4,300 digits (a ``ValueError`` a server could provoke at will).
    """
    value = length.split(",")[0].strip(" \t").lstrip("0")
    if not (value.isascii() and value.isdigit()):
        return False  # no number (or zero): the framing decides what it means
    cap = str(limit)
    return len(value) > len(cap) or (len(value) == len(cap) and value > cap)


class BodyReader:
    """One answer's body: kept in memory under ``limit``, or written to ``sink``.

    ``start`` takes the status and headers: a 2xx answer to a download goes
    to the file, anything else to memory. An answer announcing or reaching
    more than ``limit`` bytes raises :class:`AnswerTooLarge`; a content coding
    the SDK did not ask for (it sends ``Accept-Encoding: identity``) raises
    :class:`RemoteProtocolError` rather than being decoded (a 0.5 MB gzip
    answer can inflate to gigabytes).
    """

    __slots__ = ("_chunks", "_size", "limit", "sink", "streaming")

    def __init__(self, sink: FileSink | None, limit: int) -> None:
        self.sink = sink
        self.limit = limit
        self.streaming = False
        self._chunks: list[bytes] = []
        self._size = 0

    def start(self, status: int, headers: Mapping[str, str]) -> None:
        """Check the head (``headers`` with lower-case names) and open the file if any."""
        refuse_content_coding(headers)
        length = headers.get("content-length")
        # Looked at only if it could pass the limit: n characters hold at most n
        # digits (the 18: no big power of ten for a hostile value of thousands).
        if (
            length is not None
            and (len(length) > 18 or 10 ** len(length) > self.limit)
            and _passes(length, self.limit)
        ):
            raise AnswerTooLarge(f"the answer is larger than the {self.limit:,}-byte limit")
        if self.sink is not None and 200 <= status < 300:
            self.streaming = True
            self.sink.open(headers.get("content-type"))

    def feed(self, chunk: bytes) -> None:
        """A piece of the body."""
        self._size += len(chunk)
        if self._size > self.limit:
            raise AnswerTooLarge(f"the answer is larger than the {self.limit:,}-byte limit")
        if self.streaming:
            assert self.sink is not None
            self.sink.write(chunk)
        elif chunk:
            self._chunks.append(chunk)

    def finish(self) -> bytes:
        """The body in memory (``b""`` when it went to the file); closes the file."""
        if self.streaming:
            assert self.sink is not None
            self.sink.close()
            return b""
        chunks = self._chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def abort(self) -> None:
        """The answer failed: drop what was written."""
        if self.streaming and self.sink is not None:
            self.sink.discard()


def refuse_content_coding(headers: Mapping[str, str]) -> None:
    """Raise :class:`RemoteProtocolError` for a content coding the SDK did not ask
    for (``headers`` with lower-case names): it sends ``Accept-Encoding: identity``
    and decodes nothing (a 0.5 MB gzip answer can inflate to gigabytes)."""
    coding = headers.get("content-encoding")
    if coding is not None and coding.strip().lower() not in ("", "identity"):
        raise RemoteProtocolError(
            f"the answer has a Content-Encoding the SDK did not ask for: {coding[:40]!r}"
        )


def lower_headers(raw: Mapping[str, str]) -> dict[str, str]:
    """Headers with lower-case names, as :class:`BodyReader` and the core read them."""
    return {k.lower(): v for k, v in raw.items()}


# -- connections: the fork rule and idle checks

_generation = 0


def _forked() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_forked)


def fork_generation() -> int:
    """A number that changes in a child after ``fork()``.

    A pool remembers it; when it differs, the pool belongs to the parent: its
    connections are forgotten (never closed: that could end the parent's TLS
    sessions) and the child opens its own (SPEC §9).
    """
    return _generation


def proxy_url(url: str) -> str | None:
    """The HTTP(S)_PROXY / ALL_PROXY that applies to ``url``, honouring NO_PROXY."""
    import urllib.request  # not at import time: only a client's construction needs it

    proxies = urllib.request.getproxies()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


def readable_now(sock: socket.socket | None) -> bool:
    """Whether an idle connection's socket has bytes or an end waiting (no wait).

    An idle keep-alive connection has nothing to say: readable means the
    server closed it or sent bytes nobody asked for. Either way it must not
    carry a request. A socket that cannot be polled counts as readable.
    """
    if sock is None:
        return True
    try:
        fd = sock.fileno()
        if fd < 0:
            return True
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True


def asyncio_loop(what: str) -> asyncio.AbstractEventLoop:
    """The running asyncio loop; ConfigurationError when ``what`` is used outside
    asyncio (under trio, say)."""
    # Not imported here: ``import ticketpulse`` does without asyncio (about 30 ms),
    # and a running loop means it is loaded.
    module = sys.modules.get("asyncio")
    try:
        if module is None:
            raise RuntimeError
        loop: asyncio.AbstractEventLoop = module.get_running_loop()
    except RuntimeError:
        raise ConfigurationError(
            f"{what} runs on asyncio only: use the default transport='httpx' under trio"
        ) from None
    return loop
