"""Counting the loopback server's connections, to check a client's pooling."""

from __future__ import annotations

import threading
import time

__all__ = ["ConnectionCounter"]


class ConnectionCounter:
    """Live counts of the TCP connections the sandbox's loopback servers accepted.

    ``open`` is how many are open now, ``accepted`` how many were accepted in
    all, ``peak`` the most that were open at once. Thread-safe; in-process
    transports open no connections and leave the counts alone.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = 0
        self._accepted = 0
        self._peak = 0

    def opened(self) -> None:
        with self._changed:
            self._open += 1
            self._accepted += 1
            self._peak = max(self._peak, self._open)
            self._changed.notify_all()

    def closed(self) -> None:
        with self._changed:
            self._open -= 1
            self._changed.notify_all()

    @property
    def open(self) -> int:
        """Connections open now."""
        with self._changed:
            return self._open

    @property
    def accepted(self) -> int:
        """Connections accepted since the start (or the last :meth:`reset`)."""
        with self._changed:
            return self._accepted

    @property
    def peak(self) -> int:
        """The most connections open at the same time since the start (or :meth:`reset`)."""
        with self._changed:
            return self._peak

    def reset(self) -> None:
        """Start counting ``accepted`` and ``peak`` afresh (``open`` stays true)."""
        with self._changed:
            self._accepted = 0
            self._peak = self._open

    def wait_until(self, *, open: int = 0, timeout: float = 5.0) -> bool:
        """Block until exactly ``open`` connections are open; False on timeout.

        The server notices a client's close asynchronously: wait for it
        rather than sleeping a guessed time.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._open != open:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def __repr__(self) -> str:
        return f"<ConnectionCounter open={self.open} accepted={self.accepted} peak={self.peak}>"
