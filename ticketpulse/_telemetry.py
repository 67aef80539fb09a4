"""Native OpenTelemetry spans (SPEC §10): one client span per API call, on every transport.

Used only when ``opentelemetry-api`` is importable (extra ``ticketpulse[otel]``);
the SDK configures nothing (no provider, no exporter): without a configured
provider the API's no-op tracer is used. Without the package a call costs one
global lookup. Attributes follow the HTTP client semantic conventions; the URL
is the redacted one (``key=***``), and an error is recorded as its type and its
(scrubbed) message, never a traceback, so no key or secret reaches a span.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

from ._version import __version__

__all__ = ["CallSpan", "call_span"]

_UNSET: Any = object()
_tracer: Any = _UNSET


def _get_tracer() -> Any:
    global _tracer  # looked up once per process
    if _tracer is _UNSET:
        try:
            from opentelemetry import trace
        except ImportError:
            _tracer = None
        else:
            _tracer = trace.get_tracer("ticketpulse", __version__)
    return _tracer


class CallSpan:
    """What a client tells the span as the call goes: each attempt, each answer."""

    __slots__ = ("attempts", "span", "status")

    def __init__(self, span: Any) -> None:
        self.span = span
        self.attempts = 0
        self.status: int | None = None

    def sent(self) -> None:
        self.attempts += 1

    def answered(self, status: int) -> None:
        self.status = status


class _NoSpan(CallSpan):
    __slots__ = ()

    def sent(self) -> None:
        pass

    def answered(self, status: int) -> None:
        pass


_NO_SPAN = _NoSpan(None)


@contextlib.contextmanager
def call_span(operation: str, method: str, shown_url: str) -> Generator[CallSpan]:
    """A span around one API call; ``shown_url`` is the redacted URL."""
    tracer = _get_tracer()
    if tracer is None:
        yield _NO_SPAN
        return
    from opentelemetry.trace import SpanKind, Status, StatusCode

    parts = urlsplit(shown_url)
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "url.full": shown_url,
        "server.address": parts.hostname or "",
    }
    if parts.port is not None:
        attributes["server.port"] = parts.port
    with tracer.start_as_current_span(
        f"ticketpulse.{operation or method}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # a traceback could quote anything: type and message only
        set_status_on_exception=False,
    ) as span:
        state = CallSpan(span)
        try:
            yield state
        except BaseException as exc:
            _finish(span, state)
            span.set_attribute("error.type", type(exc).__qualname__)
            span.add_event(
                "exception",
                {"exception.type": type(exc).__qualname__, "exception.message": str(exc)},
            )
            span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
            raise
        _finish(span, state)


def _finish(span: Any, state: CallSpan) -> None:
    if state.status is not None:
        span.set_attribute("http.response.status_code", state.status)
    if state.attempts > 1:
        span.set_attribute("http.request.resend_count", state.attempts - 1)
