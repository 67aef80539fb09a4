"""Plain values for one HTTP exchange, shared by every way the sandbox serves."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "Exchange", "HTTPRequest", "HTTPResponse"]

_TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class HTTPRequest:
    """A request in plain values.

    ``path`` is as sent (percent-encoded, without the query); ``query`` is the
    raw query string without ``?``; ``scheme`` and ``server`` (host[:port],
    used when there is no Host header) give the origin of signed URLs.
    """

    method: str
    path: str
    query: str = ""
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    scheme: str = "http"
    server: str = "localhost"

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.header('host') or self.server}"


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    """An answer in plain values; ``headers`` include content-type and content-length."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @classmethod
    def build(
        cls, status: int, content_type: str, body: bytes, *extra: tuple[str, str]
    ) -> HTTPResponse:
        headers = (("content-type", content_type), ("content-length", str(len(body))), *extra)
        return cls(status, headers, body)

    @classmethod
    def text(cls, status: int, text: str, *extra: tuple[str, str]) -> HTTPResponse:
        return cls.build(status, _TEXT, text.encode("utf-8"), *extra)

    @classmethod
    def json(cls, value: Any) -> HTTPResponse:
        return cls.build(200, "application/json", json.dumps(value).encode("utf-8"))


class Delivery(enum.Enum):
    """How to send the answer of an :class:`Exchange`."""

    NORMAL = "normal"
    DROP = "drop"  # close the connection, send nothing
    STALL_BODY = "stall_body"  # headers and half the body, wait, the rest
    TRUNCATE = "truncate"  # headers with the full length, half the body, close


@dataclass(frozen=True, slots=True)
class Exchange:
    """What to do with one request: wait ``delay`` seconds, then deliver ``response``."""

    response: HTTPResponse | None
    delay: float = 0.0
    delivery: Delivery = Delivery.NORMAL
    body_stall: float = 0.0

    @property
    def split(self) -> int:
        """Where a stalled or truncated body is cut: about half of it."""
        assert self.response is not None
        return len(self.response.body) // 2
