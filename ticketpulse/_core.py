"""The transport-agnostic core: request descriptors and the reading of answers.

Nothing here performs I/O or imports an HTTP library. An endpoint is described
once by a :class:`Call`; a client only sends it and hands the plain answer
(status, headers, body bytes) back to :func:`read_answer`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Generic, NamedTuple, TypeVar, cast

from . import _json
from ._errors import RateLimitError, UnexpectedResponseError, status_error
from ._redact import redact

__all__ = [
    "NO_OVERRIDE",
    "Answer",
    "Call",
    "Failure",
    "FailureKind",
    "describe_failure",
    "new_record",
    "read_answer",
    "read_json",
    "unreadable",
]

T = TypeVar("T")

# Named tuples, not attrs classes: one is built per request and per answer, and
# a tuple is the cheapest immutable record to build (and to import).
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})

new_record: Any = cast("Any", tuple).__new__
"""``new_record(Cls, values)`` is ``Cls(*values)`` for a named tuple ``Cls``, all
fields given in order, without the named constructor's Python-level call (about
a microsecond less): for the records made on every request."""


class _NoOverride(enum.Enum):
    NO_OVERRIDE = enum.auto()


NO_OVERRIDE = _NoOverride.NO_OVERRIDE
"""Returned by a call's ``on_status`` when it has no special meaning for an answer."""


class Call(NamedTuple, Generic[T]):
    """Everything needed to make one API call, except the key and the I/O.

    ``target`` is the path relative to the base URL with its query, both
    percent-encoded (``/users/get-ticket?wp_user_id=7&ticket_id=a3f9b``): the
    client adds ``key`` last. ``url`` is set instead for absolute,
    unauthenticated URLs (signed file URLs), ``target`` then being its path.
    ``idempotent`` says whether a request that may have reached the server can
    be sent again. ``on_status`` gives a documented non-2xx answer a result
    (``[]`` for "External user has no orders").
    """

    method: str
    target: str
    read: Callable[[bytes], T]
    body: bytes | None = None
    idempotent: bool = True
    on_status: Callable[[int, str], T | _NoOverride] | None = None
    url: str | None = None
    operation: str = ""
    """The client method's name, e.g. ``"get_ticket_url"`` (the span's name)."""


class Answer(NamedTuple):
    """A plain HTTP answer: status, the headers the core needs, and the body."""

    status: int
    body: bytes
    headers: Mapping[str, str] = _NO_HEADERS


class FailureKind(enum.Enum):
    """How far a failed attempt got, which decides whether it may be repeated."""

    NOT_SENT = "not sent"
    """Connecting failed or no pooled connection came free: nothing left."""
    SENT = "sent"
    """The request may have reached the server; its answer was lost."""
    INVALID = "invalid"
    """The request could not be formed (a local error); repeating cannot help."""


class Failure(NamedTuple):
    """A transport failure, described without the HTTP library's types."""

    kind: FailureKind
    description: str
    timeout: bool = False


def describe_failure(
    exc: BaseException,
    scrub: Callable[[str], str],
    *,
    not_sent: tuple[type[BaseException], ...],
    invalid: tuple[type[BaseException], ...],
    timeouts: tuple[type[BaseException], ...],
) -> Failure:
    """A transport exception as a :class:`Failure`, given the HTTP library's classes.

    ``not_sent``: failures before any byte of the request was written (connect
    errors, waiting for a pooled connection), so even an order may be sent
    again. ``invalid``: the request could not be formed. Anything else may have
    reached the server.
    """
    text = str(exc)
    description = f"{type(exc).__name__}: {scrub(text)}" if text else type(exc).__name__
    timeout = isinstance(exc, timeouts)
    if isinstance(exc, not_sent):
        return Failure(FailureKind.NOT_SENT, description, timeout)
    if isinstance(exc, invalid):
        return Failure(FailureKind.INVALID, description, timeout)
    return Failure(FailureKind.SENT, description, timeout)


def read_json(parse: Callable[[Any], T]) -> Callable[[bytes], T]:
    """Wrap a structure function: body bytes -> JSON -> model."""

    def read(body: bytes) -> T:
        try:
            data = _json.loads(body)
        except ValueError as exc:
            raise UnexpectedResponseError(f"unexpected response: not valid JSON ({exc})") from None
        return parse(data)

    return read


_MAX_MESSAGE = 300


def error_message(body: bytes, scrub: Callable[[str], str] = redact) -> str:
    """The server's plain-text error body as one short line, secrets scrubbed."""
    text = body.decode("utf-8", errors="replace").strip()
    if len(text) > _MAX_MESSAGE or "\n" in text or "\r" in text:
        text = " ".join(text.split())  # an HTML error page from a gateway, say
        if len(text) > _MAX_MESSAGE:
            text = text[: _MAX_MESSAGE - 3] + "..."
    return scrub(text)


def read_answer(
    call: Call[T], answer: Answer, *, method: str, url: str, scrub: Callable[[str], str] = redact
) -> T:
    """Turn a final answer into the call's result, or raise its SPEC §4 error.

    ``url`` is the redacted URL used in error messages; ``scrub`` cleans the
    server's message (a gateway may echo the request URL, key included).
    """
    if 200 <= answer.status < 300:
        try:
            return call.read(answer.body)
        except UnexpectedResponseError as exc:
            raise unreadable(exc, method=method, url=url, scrub=scrub) from None
    message = error_message(answer.body, scrub)
    if call.on_status is not None:
        result = call.on_status(answer.status, message)
        if result is not NO_OVERRIDE:
            return result
    error = status_error(answer.status, message, method=method, url=url)
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after_seconds(answer.headers.get("retry-after"))
    raise error


def unreadable(
    exc: UnexpectedResponseError, *, method: str, url: str, scrub: Callable[[str], str]
) -> UnexpectedResponseError:
    """``exc``, raised by a call's reader, made fit to raise: scrubbed, with the call's
    method and redacted URL, and without the exceptions it came from."""
    # The message may quote the offending value, which a confused server could
    # have filled with the request's URL and key.
    exc.message = scrub(exc.message)
    exc.args = (exc.message,)
    exc.method, exc.url = method, url
    # The exceptions it was raised from hold the raw body (a JSONDecodeError's
    # ``doc``, a UnicodeDecodeError's ``object``): not kept, even suppressed.
    exc.__cause__ = exc.__context__ = None
    exc.__suppress_context__ = True
    return exc


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` value (RFC 9110 §10.2.3: seconds or an HTTP date) in
    seconds from now, or None if absent or nonsense."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime  # rare: keep import cheap

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds or seconds == float("inf"):  # NaN, or a wait for ever
        return None
    return max(0.0, seconds)
