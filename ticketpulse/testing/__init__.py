"""An offline, stateful Ticket Pulse Partner API for tests and demos.

``Sandbox.demo()`` is an in-memory implementation of the whole API doc --
accounts and keys, events with sub-events and ticket types, stock reserved by
orders, tickets and their personalisation, signed URLs served as a real QR
PNG and a real PDF, and every documented error. Reach it::

    sandbox = Sandbox.demo()
    client = sandbox.client()                 # in-process ticketpulse.Client
    with sandbox.serve() as base_url: ...     # real loopback sockets
    sandbox.faults.inject(Respond(503, retry_after=1), times=2)

or from a shell: ``python -m ticketpulse.testing`` (the demo world of
``ticketpulse sandbox``, with user 789's demo orders). Pytest fixtures
``ticketpulse_sandbox``, ``ticketpulse_client`` and
``ticketpulse_async_client`` come with the package.

Where the doc is silent the sandbox decides; every such answer is listed in
the docstring of ``ticketpulse.testing._state``. Fault kinds are described
in ``_faults``, and what differs under uvicorn in ``_asgi``.

Names are imported on first use. The pytest plugin is not in this package
but in the top-level module ``_ticketpulse_pytest_plugin``, so that pytest
runs do not import ``ticketpulse`` until a fixture is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import SandboxApp
    from ._clock import Clock, FakeClock, SystemClock
    from ._connections import ConnectionCounter
    from ._demo import DEMO_API_KEY
    from ._faults import (
        Drop,
        Fault,
        FaultInjector,
        FaultRule,
        NotJSON,
        Respond,
        Stall,
        StallBody,
        Truncate,
    )
    from ._files import SandboxDependencyError
    from ._http import Delivery, Exchange, HTTPRequest, HTTPResponse
    from ._log import RecordedRequest, RequestLog
    from ._records import (
        AccountRecord,
        EventRecord,
        MailRecord,
        OrderLineRecord,
        OrderRecord,
        TicketRecord,
        TicketTypeRecord,
    )
    from ._sandbox import Sandbox
    from ._serve import RunningServer
    from ._transport import AsyncSandboxTransport, SandboxTransport

__all__ = [
    "DEMO_API_KEY",
    "AccountRecord",
    "AsyncSandboxTransport",
    "Clock",
    "ConnectionCounter",
    "Delivery",
    "Drop",
    "EventRecord",
    "Exchange",
    "FakeClock",
    "Fault",
    "FaultInjector",
    "FaultRule",
    "HTTPRequest",
    "HTTPResponse",
    "MailRecord",
    "NotJSON",
    "OrderLineRecord",
    "OrderRecord",
    "RecordedRequest",
    "RequestLog",
    "Respond",
    "RunningServer",
    "Sandbox",
    "SandboxApp",
    "SandboxDependencyError",
    "SandboxTransport",
    "Stall",
    "StallBody",
    "SystemClock",
    "TicketRecord",
    "TicketTypeRecord",
    "Truncate",
]

_HOME = {
    "Clock": "_clock",
    "FakeClock": "_clock",
    "SystemClock": "_clock",
    "ConnectionCounter": "_connections",
    "DEMO_API_KEY": "_demo",
    "Drop": "_faults",
    "Fault": "_faults",
    "FaultInjector": "_faults",
    "FaultRule": "_faults",
    "NotJSON": "_faults",
    "Respond": "_faults",
    "Stall": "_faults",
    "StallBody": "_faults",
    "Truncate": "_faults",
    "SandboxDependencyError": "_files",
    "Delivery": "_http",
    "Exchange": "_http",
    "HTTPRequest": "_http",
    "HTTPResponse": "_http",
    "SandboxApp": "_app",
    "RecordedRequest": "_log",
    "RequestLog": "_log",
    "AccountRecord": "_records",
    "EventRecord": "_records",
    "MailRecord": "_records",
    "OrderLineRecord": "_records",
    "OrderRecord": "_records",
    "TicketRecord": "_records",
    "TicketTypeRecord": "_records",
    "Sandbox": "_sandbox",
    "RunningServer": "_serve",
    "AsyncSandboxTransport": "_transport",
    "SandboxTransport": "_transport",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
