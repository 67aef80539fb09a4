"""The public names of ``ticketpulse.testing``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import ticketpulse.testing

ROOT = Path(__file__).resolve().parents[2]

EXPORTED = [
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


def test_exported_names() -> None:
    assert ticketpulse.testing.__all__ == EXPORTED
    assert ticketpulse.testing.__all__ == sorted(EXPORTED, key=lambda n: (not n.isupper(), n))
    for name in EXPORTED:
        assert getattr(ticketpulse.testing, name) is not None
    assert set(EXPORTED) <= set(dir(ticketpulse.testing))
    assert ticketpulse.testing.DEMO_API_KEY == "tp_demo_0123456789abcdef"


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nope"):
        _ = ticketpulse.testing.Nope


def test_importing_the_package_is_cheap() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    code = (
        "import sys, ticketpulse.testing as t; "
        "assert 'ticketpulse.testing._sandbox' not in sys.modules; "
        "t.Sandbox; assert 'ticketpulse.testing._sandbox' in sys.modules; "
        "assert not {'segno', 'fpdf', 'uvicorn'} & set(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)  # noqa: S603


def test_fake_clock() -> None:
    from datetime import UTC, datetime

    from ticketpulse.testing import FakeClock, SystemClock

    clock = FakeClock(datetime(2025, 1, 1, tzinfo=UTC))
    clock.advance(10)
    assert clock.time() == datetime(2025, 1, 1, 0, 0, 10, tzinfo=UTC).timestamp()
    clock.set(5)
    assert clock.time() == 5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2025, 1, 1))
    assert "FakeClock" in repr(clock)
    assert SystemClock().time() > 1.7e9
