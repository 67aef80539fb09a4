"""What both clients' bulk methods share: checks, the lazy source of ids, results.

``get_ticket_urls`` validates every id before sending anything (its answer is
a list, so the ids are held anyway); ``iter_ticket_urls`` pulls ids lazily, so
memory stays bounded by the concurrency however many ids there are, and an
invalid id becomes that ticket's error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from . import _endpoints
from ._core import Call
from ._errors import InvalidRequestError, TicketPulseError
from ._models import SignedURL, TicketURL, TicketURLError, TicketURLResult

__all__ = ["DEFAULT_CONCURRENCY", "MAX_CONCURRENCY", "Source", "all_calls", "check_concurrency"]

DEFAULT_CONCURRENCY = 32
MAX_CONCURRENCY = 1024


def check_concurrency(concurrency: int) -> int:
    """A concurrency between 1 and MAX_CONCURRENCY (InvalidRequestError otherwise)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise InvalidRequestError(f"concurrency must be an int, not {type(concurrency).__name__}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidRequestError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
    return concurrency


def _check_ids(ticket_ids: Iterable[str]) -> Iterable[str]:
    if isinstance(ticket_ids, (str, bytes)) or not isinstance(ticket_ids, Iterable):
        raise InvalidRequestError(
            f"ticket_ids must be an iterable of ticket references, not {type(ticket_ids).__name__}"
        )
    return ticket_ids


def all_calls(ticket_ids: Iterable[str], user_id: int) -> list[Call[SignedURL]]:
    """Every id checked before anything is sent: one call per id, in input order."""
    call_for = _endpoints.ticket_url_calls(user_id)
    calls: list[Call[SignedURL]] = []
    for index, ticket_id in enumerate(_check_ids(ticket_ids)):
        try:
            calls.append(call_for(ticket_id))
        except InvalidRequestError as exc:
            raise InvalidRequestError(f"ticket_ids[{index}]: {exc}") from None
    return calls


class Source:
    """The ids of ``iter_ticket_urls``, pulled one at a time by concurrent workers.

    Thread-safe (the blocking client's workers are threads). ``take()`` returns
    the next ``(ticket_id, call)``, where ``call`` is an ``InvalidRequestError``
    for an invalid id, or ``None`` once the ids run out or ``stop()`` was
    called. An exception raised by the caller's iterable itself is re-raised
    by ``take()``, once, to the worker that met it.
    """

    def __init__(self, ticket_ids: Iterable[str], user_id: int) -> None:
        self._call_for = _endpoints.ticket_url_calls(user_id)
        self._ids: Iterator[Any] = iter(_check_ids(ticket_ids))
        self._lock = threading.Lock()
        self._done = False

    def take(self) -> tuple[str, Call[SignedURL] | InvalidRequestError] | None:
        with self._lock:
            if self._done:
                return None
            try:
                ticket_id = next(self._ids)
            except StopIteration:
                self._done = True
                return None
            except BaseException:
                self._done = True
                raise
        try:
            return ticket_id, self._call_for(ticket_id)
        except InvalidRequestError as exc:
            return ticket_id, exc

    def stop(self) -> None:
        with self._lock:
            self._done = True


def result_of(ticket_id: str, outcome: SignedURL | TicketPulseError) -> TicketURLResult:
    """Wrap one ticket's outcome."""
    if isinstance(outcome, SignedURL):
        return TicketURL(ticket_id, outcome)
    return TicketURLError(ticket_id, outcome)
