"""The log of the requests the sandbox received, with secrets redacted."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload
from urllib.parse import parse_qsl, urlencode

__all__ = ["REDACTED", "RecordedRequest", "RequestLog", "redact_query"]

REDACTED = "***"
# The API key, and the signature of file URLs: both grant access, neither is logged.
_SECRET_PARAMS = frozenset({"key", "secret"})


def redact_query(query: str) -> tuple[str, dict[str, str]]:
    """The query string and its parameters (last value wins) with secrets replaced."""
    pairs = [
        (name, REDACTED if name in _SECRET_PARAMS else value)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return urlencode(pairs, safe="*"), dict(pairs)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the sandbox saw it.

    ``query`` maps each parameter to its (last) value, with ``key`` and
    ``secret`` shown as ``"***"``; ``json`` is the parsed JSON body (None
    when there was no body or it was not JSON); ``status`` is what was
    answered (None when the connection was dropped without an answer);
    ``fault`` names the injected fault that shaped the answer, if any;
    ``time`` is the sandbox clock's time.
    """

    method: str
    path: str
    query_string: str
    query: Mapping[str, str]
    json: Any
    body: bytes = field(repr=False)
    status: int | None = None
    fault: str | None = None
    time: float = 0.0


class RequestLog(Sequence[RecordedRequest]):
    """A thread-safe, append-only list of :class:`RecordedRequest`, oldest first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._items.append(request)

    def clear(self) -> None:
        """Forget every request recorded so far."""
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the log as it is now."""
        with self._lock:
            return list(self._items)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...
    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...
    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"<RequestLog of {len(self)} requests>"
