"""Clocks: the sandbox reads time through one, so tests can move it by hand."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock"]


class Clock(Protocol):
    """Anything with a ``time()`` method returning seconds since the Unix epoch."""

    def time(self) -> float:
        """Return the current time as seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real wall clock (``time.time()``)."""

    def time(self) -> float:
        """Return the current time as seconds since the Unix epoch."""
        return time.time()

    def __repr__(self) -> str:
        return "SystemClock()"


def _seconds(when: float | datetime) -> float:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime (for example with tzinfo=UTC)")
        return when.timestamp()
    return float(when)


class FakeClock:
    """A clock that only moves when told to.

    ``FakeClock()`` starts at the real current time; ``FakeClock(start)`` at
    ``start`` (Unix seconds or an aware ``datetime``). ``advance(3601)`` makes
    every signed URL issued an hour ago expire, without sleeping.
    """

    def __init__(self, start: float | datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else _seconds(start)

    def time(self) -> float:
        """Return the fake current time as seconds since the Unix epoch."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (negative values are refused)."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards: advance() takes seconds >= 0")
        with self._lock:
            self._now += seconds

    def set(self, when: float | datetime) -> None:
        """Jump to ``when`` (Unix seconds or an aware ``datetime``), in either direction."""
        value = _seconds(when)
        with self._lock:
            self._now = value

    def __repr__(self) -> str:
        return f"FakeClock({self.time()!r})"
