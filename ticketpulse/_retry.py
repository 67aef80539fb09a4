"""The retry policy (SPEC §5), written once for both clients.

:func:`attempts` is a generator that decides everything: it yields ``None``
when the client must send the request (and receives the :class:`Answer` or
:class:`Failure`), yields a float when the client must sleep that many seconds,
and returns the call's result or raises its error. The clients only do the I/O
and the sleeping (``anyio.sleep`` or ``time.sleep``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import attrs

from ._core import (
    Answer,
    Call,
    Failure,
    FailureKind,
    error_message,
    read_answer,
    retry_after_seconds,
    unreadable,
)
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    OrderOutcomeUnknownError,
    UnexpectedResponseError,
)
from ._redact import redact

__all__ = ["PENDING", "RETRY_STATUSES", "RetryPolicy", "Steps", "attempts", "result_at_once"]

T = TypeVar("T")

logger = logging.getLogger("ticketpulse")

# 429: rate limited, nothing was done. 502/503/504: a gateway or an overloaded
# server. 500 is not here: it usually means the same request will fail again.
RETRY_STATUSES = frozenset({429, 502, 503, 504})

Steps = Generator[float | None, Answer | Failure | None, T]


@attrs.frozen
class RetryPolicy:
    """How many times and how long to wait: exponential backoff with jitter.

    ``Retry-After`` (seconds or an HTTP date) is honoured up to
    ``max_retry_after`` seconds; a server asking for a longer wait gets no retry
    (its error is raised at once rather than ignoring its wish).
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def backoff(self, retry: int) -> float:
        """Delay before retry number ``retry`` (0-based): 0.5 s, 1 s, 2 s ... x 0.75-1."""
        delay = min(self.initial_delay * (2.0**retry), self.max_delay)
        return delay * (1.0 - 0.25 * random.random())

    def retry_after(self, value: str | None) -> float | None:
        """Seconds the server asked to wait, or None if it did not say (or said nonsense)."""
        return retry_after_seconds(value)

    def delay_for_status(self, answer: Answer, retry: int) -> float | None:
        """The wait before repeating a call that got ``answer``, or None: do not repeat."""
        if answer.status not in RETRY_STATUSES or retry >= self.max_retries:
            return None
        asked = self.retry_after(answer.headers.get("retry-after"))
        if asked is None:
            return self.backoff(retry)
        return asked if asked <= self.max_retry_after else None


def may_repeat(call: Call[Any], answer: Answer) -> bool:
    """Whether a retryable status may be retried for this call.

    An order call is only repeated on 429, which the API answers before acting.
    """
    return call.idempotent or answer.status == 429


class _Pending:
    __slots__ = ()


PENDING: Any = _Pending()
"""What :func:`result_at_once` returns when the retry loop must decide."""


def result_at_once(
    call: Call[T],
    outcome: Answer | Failure,
    *,
    method: str,
    url: str,
    scrub: Callable[[str], str] = redact,
) -> T:
    """The call's result when its first outcome settles it with no retry to weigh:
    an idempotent call's 2xx answer (most calls). Otherwise :data:`PENDING`:
    give the outcome to :func:`attempts` as ``first``. Saves the generator on
    the common path; the answer is read exactly as :func:`attempts` reads it.
    """
    if type(outcome) is Answer and 200 <= outcome.status < 300 and call.idempotent:
        if logger.isEnabledFor(logging.DEBUG):  # as debug() checks, one call fewer when off
            logger.debug("HTTP Request: %s %s %d", method, url, outcome.status)
        try:  # read_answer's 2xx branch, here: one call fewer per request
            return call.read(outcome.body)
        except UnexpectedResponseError as exc:
            raise unreadable(exc, method=method, url=url, scrub=scrub) from None
    return PENDING  # type: ignore[no-any-return]


def attempts(
    call: Call[T],
    policy: RetryPolicy,
    *,
    method: str,
    url: str,
    scrub: Callable[[str], str] = redact,
    first: Answer | Failure | None = None,
) -> Steps[T]:
    """Drive one call to its result; see the module docstring for the protocol.

    ``url`` is the redacted URL used in error messages; ``scrub`` removes
    secrets from any text the server sent. ``first`` is the outcome of an
    attempt already made, if any (the first step is then not a send).
    """
    retry = 0
    outcome = first
    while True:
        if outcome is None:
            outcome = yield None
        if isinstance(outcome, Failure):
            logger.debug("HTTP Request: %s %s failed: %s", method, url, outcome.description)
            may = outcome.kind is FailureKind.NOT_SENT or (
                outcome.kind is FailureKind.SENT and call.idempotent
            )
            if may and retry < policy.max_retries:
                delay = policy.backoff(retry)
                logger.info("Retrying %s %s in %.2f s: %s", method, url, delay, outcome.description)
                yield delay
                retry += 1
                outcome = None
                continue
            raise _connection_error(call, outcome, method=method, url=url, tries=retry + 1)
        assert outcome is not None
        logger.debug("HTTP Request: %s %s %d", method, url, outcome.status)
        wait = policy.delay_for_status(outcome, retry) if may_repeat(call, outcome) else None
        if wait is not None:
            logger.info("Retrying %s %s in %.2f s: status %d", method, url, wait, outcome.status)
            yield wait
            retry += 1
            outcome = None
            continue
        if not call.idempotent and outcome.status >= 500:
            raise OrderOutcomeUnknownError(
                f"the order request got {outcome.status} {error_message(outcome.body, scrub)!r}: "
                "it may or may not have been applied; check the order before trying again",
                method=method,
                url=url,
                status_code=outcome.status,
            )
        if call.idempotent:
            return read_answer(call, outcome, method=method, url=url, scrub=scrub)
        try:
            return read_answer(call, outcome, method=method, url=url, scrub=scrub)
        except UnexpectedResponseError as exc:
            # A 2xx that is not the documented answer: the order may or may not exist.
            raise OrderOutcomeUnknownError(
                f"the order request got {outcome.status} but {exc.message}; it may or may "
                "not have been applied: check the order before trying again",
                method=method,
                url=url,
                status_code=outcome.status,
            ) from None


def _connection_error(
    call: Call[T], failure: Failure, *, method: str, url: str, tries: int
) -> APIConnectionError:
    after = f" after {tries} attempts" if tries > 1 else ""
    if failure.kind is FailureKind.SENT and not call.idempotent:
        return OrderOutcomeUnknownError(
            f"the order request may have reached the server but its answer was lost"
            f" ({failure.description}); check the order before trying again",
            method=method,
            url=url,
        )
    if failure.timeout:
        return APITimeoutError(
            f"request timed out{after} ({failure.description})", method=method, url=url
        )
    if failure.kind is FailureKind.NOT_SENT:
        return APIConnectionError(
            f"could not connect to the API{after} ({failure.description})", method=method, url=url
        )
    if failure.kind is FailureKind.INVALID:
        return APIConnectionError(f"request failed ({failure.description})", method=method, url=url)
    return APIConnectionError(
        f"connection lost before the answer{after} ({failure.description})", method=method, url=url
    )
