"""Native OpenTelemetry spans (SPEC §10), checked with the SDK's in-memory exporter.

One client span per API call on every transport, retries counted, errors
recorded, and no key or secret in any attribute or event.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ticketpulse
from tests._clients import client_class
from ticketpulse.testing import Respond, Sandbox

otel = pytest.importorskip("opentelemetry.sdk.trace")
from opentelemetry import trace  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

pytestmark = pytest.mark.anyio

USER = 789
EXPORTER = InMemorySpanExporter()
_provider = otel.TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
trace.set_tracer_provider(_provider)  # once per process, as an application does


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = Sandbox.demo(users=[USER])
    with sandbox.serve(port=0) as base_url:
        yield sandbox, base_url


@pytest.fixture(autouse=True)
def spans() -> Iterator[InMemorySpanExporter]:
    EXPORTER.clear()
    yield EXPORTER
    EXPORTER.clear()


FLAVOURS = [
    "Client",
    "Client[builtin]",
    "AsyncClient",
    "AsyncClient[builtin]",
    "AsyncClient[aiohttp]",
]


class Api:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, name)(*args, **kwargs)
        if isinstance(self.client, ticketpulse.AsyncClient):
            result = await result
        return result

    async def close(self) -> None:
        if isinstance(self.client, ticketpulse.AsyncClient):
            await self.client.aclose()
        else:
            self.client.close()


def everything_said(span: Any) -> str:
    """Every attribute and event of a span, as one text."""
    parts = [span.name, repr(dict(span.attributes or {})), str(span.status.description)]
    for event in span.events:
        parts.append(event.name)
        parts.append(repr(dict(event.attributes or {})))
    return " ".join(parts)


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_one_client_span_per_call_with_the_http_attributes(
    served: tuple[Sandbox, str], flavour: str, spans: InMemorySpanExporter
) -> None:
    sandbox, base_url = served
    api = Api(client_class(flavour)(sandbox.api_key, base_url=base_url))
    try:
        await api.call("get_events")
        await api.call("get_ticket_url", "a3f9b", user_id=USER)
    finally:
        await api.close()
    finished = spans.get_finished_spans()
    assert [s.name for s in finished] == ["ticketpulse.get_events", "ticketpulse.get_ticket_url"]
    events, ticket = finished
    assert events.kind is trace.SpanKind.CLIENT
    assert events.attributes is not None
    assert events.attributes["http.request.method"] == "GET"
    assert events.attributes["url.full"] == f"{base_url}/events?key=***"
    assert events.attributes["server.address"] == "127.0.0.1"
    assert events.attributes["http.response.status_code"] == 200
    assert "http.request.resend_count" not in events.attributes
    assert ticket.status.status_code is trace.StatusCode.UNSET
    for span in finished:
        assert sandbox.api_key not in everything_said(span)


@pytest.mark.parametrize("flavour", FLAVOURS)
async def test_retries_are_counted_and_errors_recorded_without_secrets(
    served: tuple[Sandbox, str], flavour: str, spans: InMemorySpanExporter, tmp_path: Path
) -> None:
    sandbox, base_url = served
    sandbox.faults.inject(Respond(503, retry_after=0), times=1, path="/tp-api/events")
    # An error body that echoes the key, raw and url-encoded.
    echo = f"bad key {sandbox.api_key} key={sandbox.api_key}"
    sandbox.faults.inject(Respond(404, body=echo), times=1, path="/tp-api/events/")
    api = Api(client_class(flavour)(sandbox.api_key, base_url=base_url))
    try:
        await api.call("get_events")
        with pytest.raises(ticketpulse.NotFoundError):
            await api.call("get_event_tickets", 12, user_id=USER)
        url = await api.call("get_ticket_url", "a3f9b", user_id=USER)
        secret = url.url.split("secret=")[1].split("&")[0]
        await api.call("download", url, tmp_path)
    finally:
        await api.close()
        sandbox.faults.clear()
    retried, failed, _, download = spans.get_finished_spans()
    assert retried.attributes is not None
    assert retried.attributes["http.request.resend_count"] == 1
    assert retried.attributes["http.response.status_code"] == 200
    assert failed.status.status_code is trace.StatusCode.ERROR
    assert failed.attributes is not None
    assert failed.attributes["error.type"] == "NotFoundError"
    assert failed.attributes["http.response.status_code"] == 404
    [event] = failed.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert "404" in str(event.attributes["exception.message"])
    assert download.name == "ticketpulse.download"
    for span in spans.get_finished_spans():
        said = everything_said(span)
        assert sandbox.api_key not in said
        assert secret not in said


def test_without_opentelemetry_the_sdk_imports_none_of_it() -> None:
    import subprocess
    import sys

    code = (
        "import sys, ticketpulse\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_calls_are_traceable_only_where_the_package_imports() -> None:
    import subprocess
    import sys

    # Without the package (its import made to fail), nothing is ever traced, and
    # a chained bulk run does not ask per call; with it, tracing() decides.
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "from ticketpulse import _telemetry\n"
        "print(_telemetry.traceable(), _telemetry.tracing())\n"
    )
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["False", "False"]
    from ticketpulse import _telemetry

    assert _telemetry.traceable() is True
    assert _telemetry.tracing() is True  # this module set a provider at import
