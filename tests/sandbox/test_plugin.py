"""The pytest plugin's fixtures, used directly and from a user's test run."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import ticketpulse
from ticketpulse.testing import DEMO_API_KEY, Sandbox

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "ticketpulse.testing._pytest_plugin"


def test_sandbox_fixture_is_a_fresh_demo(ticketpulse_sandbox: Sandbox) -> None:
    assert ticketpulse_sandbox.api_key == DEMO_API_KEY
    assert ticketpulse_sandbox.order_count() == 0
    assert [e.name for e in ticketpulse_sandbox.events()][:1] == ["Summer Festival 2025"]


def test_client_fixture_talks_to_the_sandbox(
    ticketpulse_client: ticketpulse.Client, ticketpulse_sandbox: Sandbox
) -> None:
    events = ticketpulse_client.get_events()
    assert [e.id for e in events] == [12, 15, 16]
    assert ticketpulse_sandbox.requests[-1].path == "/tp-api/events"


@pytest.mark.anyio
async def test_async_client_fixture_talks_to_the_sandbox(
    ticketpulse_async_client: ticketpulse.AsyncClient, ticketpulse_sandbox: Sandbox
) -> None:
    events = await ticketpulse_async_client.get_events()
    assert events[0].name == "Summer Festival 2025"
    assert len(ticketpulse_sandbox.requests) == 1


def _plugin_is_installed() -> bool:
    return any(entry.value == PLUGIN for entry in importlib.metadata.entry_points(group="pytest11"))


def test_a_users_test_run_gets_the_fixtures_without_importing_the_sandbox_early(
    tmp_path: Path,
) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import sys

            def pytest_configure(config):
                # The plugin is loaded by now; the sandbox itself must not be.
                heavy = {"ticketpulse.testing._sandbox", "segno", "fpdf", "uvicorn"}
                loaded = heavy & set(sys.modules)
                assert not loaded, loaded
            """
        )
    )
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_sync(ticketpulse_client, ticketpulse_sandbox):
                assert len(ticketpulse_client.get_events()) == 3
                assert ticketpulse_sandbox.requests[0].query == {"key": "***"}

            @pytest.mark.anyio
            async def test_async(ticketpulse_async_client):
                assert len(await ticketpulse_async_client.get_events()) == 3
            """
        )
    )
    load = [] if _plugin_is_installed() else ["-p", PLUGIN]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(  # noqa: S603 -- our own interpreter
        [sys.executable, "-m", "pytest", *load, "-q", "-W", "error", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout
