"""``python -m ticketpulse.testing`` serves the demo sandbox until interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY

pytestmark = pytest.mark.sockets

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.mark.usefixtures("ctrl_c")
@pytest.mark.parametrize("server", ["builtin", "uvicorn"])
def test_cli_serves_the_demo_until_interrupted(server: str) -> None:
    command = [sys.executable, "-m", "ticketpulse.testing", "--port", "0", "--server", server]
    with subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [*command, "--delay-ms", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    ) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            assert f"({server}) serving at http://127.0.0.1:" in banner
            base_url = banner.rsplit(" ", 1)[1].strip()
            assert process.stdout.readline().strip() == f"API key: {DEMO_API_KEY}"
            response = httpx.get(f"{base_url}/events", params={"key": DEMO_API_KEY}, timeout=10)
            assert response.status_code == 200
            assert response.json()[0]["name"] == "Summer Festival 2025"
            assert response.elapsed.total_seconds() >= 0.02
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert "Stopped." in out


def test_cli_refuses_bad_arguments() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ticketpulse.testing", "--delay-ms", "-5", "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--delay-ms" in result.stderr
