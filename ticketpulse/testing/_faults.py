"""Fault injection: make the next requests fail the way real networks and servers do.

A fault is a small frozen value saying what goes wrong; a rule says which
requests it hits and how many times::

    sandbox.faults.inject(Respond(503, retry_after=2), times=2, method="GET")
    sandbox.faults.inject(Drop(after_acting=True), path="/tp-api/orders/create")

"Acting" is the server doing what the request asks (placing the order,
personalising tickets). A fault that fires *before* acting leaves the state
unchanged; one that fires *after* acting changes the state and loses or spoils
the answer -- the case a non-idempotent client must not blindly retry.

========================  =========  ===============================================
fault                     acts?      what the client sees
========================  =========  ===============================================
``Respond(status, ...)``  no [1]_    that status, body and optional Retry-After
``NotJSON(...)``          no [1]_    status 200 with a body that is not JSON
``Drop()``                no [1]_    the connection closed without an answer
``Stall(seconds)``        yes        nothing for ``seconds``, then the answer
``StallBody(seconds)``    yes        headers and half the body, a pause, the rest
``Truncate()``            yes        a Content-Length larger than the body sent,
                                     then the connection closed
========================  =========  ===============================================

.. [1] unless ``after_acting=True``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import TypeAlias

from ._http import HTTPResponse
from ._log import RecordedRequest

__all__ = [
    "Drop",
    "Fault",
    "FaultInjector",
    "FaultRule",
    "NotJSON",
    "Respond",
    "Stall",
    "StallBody",
    "Truncate",
]

_HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
    b"<body><h1>We'll be right back</h1></body></html>"
)


def _as_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


@dataclass(frozen=True, slots=True)
class Respond:
    """Answer ``status`` with ``body`` instead of what the API would answer.

    ``retry_after`` adds a Retry-After header: seconds (int or float), an
    aware ``datetime`` (sent as an HTTP-date) or a string sent as is. An
    empty body becomes the status's reason phrase. With
    ``after_acting=True`` the server acts first (say, a gateway timing out
    after the order was placed).
    """

    status: int
    body: str | bytes = b""
    _: KW_ONLY
    retry_after: int | float | str | datetime | None = None
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    after_acting: bool = False

    @classmethod
    def bad_gateway_html(cls, *, after_acting: bool = False) -> Respond:
        """A 502 with the HTML page a reverse proxy (nginx) sends."""
        return cls(
            502, _HTML_502, content_type="text/html; charset=utf-8", after_acting=after_acting
        )

    def answer(self) -> HTTPResponse:
        """The answer sent instead of the API's."""
        body = _as_bytes(self.body)
        if self.status in (204, 304):
            body = b""  # HTTP forbids a body on these
        elif not body:
            try:
                body = HTTPStatus(self.status).phrase.encode("ascii")
            except ValueError:
                body = b"Error"
        headers = [(name.lower(), value) for name, value in self.headers.items()]
        if self.retry_after is not None:
            headers.insert(0, ("retry-after", _retry_after(self.retry_after)))
        return HTTPResponse.build(self.status, self.content_type, body, *headers)


def _retry_after(value: int | float | str | datetime) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return format_datetime(moment.astimezone(UTC), usegmt=True)
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else format(value, "g")


@dataclass(frozen=True, slots=True)
class NotJSON:
    """Answer ``status`` (200) with a body that is not JSON, like a captive portal page."""

    body: str | bytes = _HTML_PAGE
    _: KW_ONLY
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    after_acting: bool = False

    def answer(self) -> HTTPResponse:
        """The answer sent instead of the API's."""
        return HTTPResponse.build(self.status, self.content_type, _as_bytes(self.body))


@dataclass(frozen=True, slots=True)
class Drop:
    """Close the connection without answering.

    In-process this raises ``httpx.RemoteProtocolError("Server disconnected
    without sending a response.")``, as httpx does over a socket.
    """

    _: KW_ONLY
    after_acting: bool = False


@dataclass(frozen=True, slots=True)
class Stall:
    """Act, then wait ``seconds`` before sending the status line.

    A client whose read timeout is shorter gets ``httpx.ReadTimeout`` (the
    server has acted all the same).
    """

    seconds: float


@dataclass(frozen=True, slots=True)
class StallBody:
    """Act, send the headers and half the body, wait ``seconds``, send the rest."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Truncate:
    """Act, declare the full Content-Length, send half the body, close the connection."""


Fault: TypeAlias = Respond | NotJSON | Drop | Stall | StallBody | Truncate
"""Any of the fault kinds."""

_ROUTE_ROOTS = ("/tp-api/", "/files/")


class FaultRule:
    """One injected fault, the requests it hits, and how often it has fired."""

    def __init__(
        self,
        fault: Fault,
        *,
        times: int | None,
        method: str | None,
        path: str | None,
        when: Callable[[RecordedRequest], bool] | None,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every matching request)")
        if path is not None and not (path + "/").startswith(_ROUTE_ROOTS):
            raise ValueError(f"path must start with /tp-api/ or /files/, not {path!r}")
        self.fault = fault
        self.times = times
        self.method = None if method is None else method.upper()
        self.path = path
        self.when = when
        self.fired = 0

    @property
    def remaining(self) -> int | None:
        """How many more times it will fire (None: for ever)."""
        return None if self.times is None else self.times - self.fired

    def matches(self, request: RecordedRequest) -> bool:
        if self.remaining == 0:
            return False
        if self.method is not None and request.method != self.method:
            return False
        if self.path is not None and not request.path.startswith(self.path):
            return False
        return self.when is None or self.when(request)

    def __repr__(self) -> str:
        return (
            f"<FaultRule {self.fault!r} method={self.method!r} path={self.path!r}"
            f" fired={self.fired} remaining={self.remaining!r}>"
        )


class FaultInjector:
    """The sandbox's fault rules; the first rule that matches a request fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._fired: dict[str, int] = {}

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | None = None,
        when: Callable[[RecordedRequest], bool] | None = None,
    ) -> FaultRule:
        """Make the next ``times`` matching requests meet ``fault``.

        ``method`` matches exactly (any case); ``path`` is a prefix of the
        request path, which starts with ``/tp-api/`` or ``/files/`` (so
        ``"/tp-api/events"`` also matches ``/tp-api/events/12/tickets``);
        ``when`` is any predicate on the :class:`RecordedRequest`. Rules fire
        in the order they were added. Returns the rule, whose ``fired`` counts
        its hits.
        """
        rule = FaultRule(fault, times=times, method=method, path=path, when=when)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule (the counts of faults fired stay)."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """The rules, including spent ones."""
        with self._lock:
            return list(self._rules)

    @property
    def pending(self) -> int:
        """How many rules may still fire."""
        with self._lock:
            return sum(1 for rule in self._rules if rule.remaining != 0)

    @property
    def fired(self) -> int:
        """How many faults have fired in all."""
        with self._lock:
            return sum(self._fired.values())

    @property
    def fired_by_kind(self) -> dict[str, int]:
        """How many faults of each kind (``"Drop"``, ``"Respond"``...) have fired."""
        with self._lock:
            return dict(self._fired)

    def take(self, request: RecordedRequest) -> Fault | None:
        """The fault for this request, if a rule matches (counting it as fired)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(request):
                    rule.fired += 1
                    kind = type(rule.fault).__name__
                    self._fired[kind] = self._fired.get(kind, 0) + 1
                    return rule.fault
        return None
