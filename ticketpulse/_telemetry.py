"""Native OpenTelemetry spans (SPEC §10): one client span per API call, on every transport.

Used only when ``opentelemetry-api`` is importable (extra ``ticketpulse[otel]``)
and the application has set a tracer provider; the SDK configures nothing (no
provider, no exporter). Otherwise a call costs a lookup or two. Attributes
follow the HTTP client semantic conventions; the URL is the redacted one
(``key=***``), and an error is recorded as its type and its (scrubbed)
message, never a traceback, so no key or secret reaches a span.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any
from urllib.parse import urlsplit

from ._version import __version__

__all__ = ["CallSpan", "call_span"]

_UNSET: Any = object()
_trace: Any = _UNSET  # the opentelemetry.trace module, or None without the package
_tracers: dict[int, tuple[Any, Any]] = {}  # id(provider) -> (provider, tracer)


def _get_tracer() -> Any:
    """The SDK's tracer from the application's provider, or None: no package, or no
    provider set (the API's default does nothing, so no span is worth building)."""
    global _trace
    if _trace is _UNSET:
        try:
            from opentelemetry import trace
        except ImportError:
            _trace = None
        else:
            _trace = trace
    if _trace is None:
        return None
    provider = _trace.get_tracer_provider()
    if isinstance(provider, (_trace.ProxyTracerProvider, _trace.NoOpTracerProvider)):
        return None
    cached = _tracers.get(id(provider))
    if cached is None or cached[0] is not provider:
        cached = _tracers[id(provider)] = (
            provider,
            provider.get_tracer("ticketpulse", __version__),
        )
    return cached[1]


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


class _Untraced:
    """The context manager of a call that is not traced: as cheap as one can be."""

    __slots__ = ()

    def __enter__(self) -> CallSpan:
        return _NO_SPAN

    def __exit__(self, *exc: object) -> None:
        return None


_UNTRACED = _Untraced()


def call_span(
    operation: str, method: str, shown_url: str
) -> contextlib.AbstractContextManager[CallSpan]:
    """A span around one API call; ``shown_url`` is the redacted URL."""
    tracer = _get_tracer()
    if tracer is None:
        return _UNTRACED
    return _traced(tracer, operation, method, shown_url)


@contextlib.contextmanager
def _traced(tracer: Any, operation: str, method: str, shown_url: str) -> Generator[CallSpan]:
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
