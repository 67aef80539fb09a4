"""Native OpenTelemetry spans (SPEC §10): one client span per API call, on every transport.

Used only when ``opentelemetry-api`` is importable (extra ``ticketpulse[otel]``)
and the application has set a tracer provider; the SDK configures nothing (no
provider, no exporter). Otherwise a call costs one lookup. Attributes
follow the HTTP client semantic conventions; the URL is the redacted one
(``key=***``), and an error is recorded as its type and its (scrubbed)
message, never a traceback, so no key or secret reaches a span.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._version import __version__

__all__ = ["CallSpan", "call_span", "traceable", "tracing"]

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
    """One API call's span, begun: told of each attempt and its answer, then ended
    once, with the exception the call raised or None."""

    __slots__ = ("_scope", "attempts", "span", "status")

    def __init__(self, tracer: Any, operation: str, method: str, shown_url: str) -> None:
        from opentelemetry.trace import SpanKind

        parts = urlsplit(shown_url)
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.full": shown_url,
            "server.address": parts.hostname or "",
        }
        if parts.port is not None:
            attributes["server.port"] = parts.port
        self._scope = tracer.start_as_current_span(
            f"ticketpulse.{operation or method}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,  # a traceback could quote anything: type and message only
            set_status_on_exception=False,
        )
        self.span = self._scope.__enter__()
        self.attempts = 0
        self.status: int | None = None

    def sent(self) -> None:
        """An attempt is being sent."""
        self.attempts += 1

    def answered(self, status: int) -> None:
        """The attempt was answered with ``status``."""
        self.status = status

    def end(self, exc: BaseException | None) -> None:
        """The call is over: it returned (``None``) or raised ``exc``."""
        span = self.span
        if self.status is not None:
            span.set_attribute("http.response.status_code", self.status)
        if self.attempts > 1:
            span.set_attribute("http.request.resend_count", self.attempts - 1)
        if exc is None:
            self._scope.__exit__(None, None, None)
            return
        from opentelemetry.trace import Status, StatusCode

        name = type(exc).__qualname__
        span.set_attribute("error.type", name)
        span.add_event("exception", {"exception.type": name, "exception.message": str(exc)})
        span.set_status(Status(StatusCode.ERROR, name))
        self._scope.__exit__(type(exc), exc, exc.__traceback__)


def tracing() -> bool:
    """Whether calls are traced now: the package is there and a provider is set."""
    return _trace is not None and _get_tracer() is not None


def traceable() -> bool:
    """Whether calls can be traced in this process at all (the package is
    importable): when False, :func:`tracing` is False for good."""
    if _trace is _UNSET:
        _get_tracer()  # imports the package, or finds it missing
    return _trace is not None


def call_span(operation: str, method: str, shown_url: str) -> CallSpan | None:
    """The span of one API call, begun; ``shown_url`` is the redacted URL.

    None when nothing traces (no package, or no provider set): the common case,
    where a call then costs a lookup and no span object.
    """
    if _trace is None:  # no package: known without a call
        return None
    tracer = _get_tracer()
    return None if tracer is None else CallSpan(tracer, operation, method, shown_url)
