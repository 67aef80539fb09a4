"""Real processes: ``python -m ticketpulse``, the sandbox server, and the missing extra."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, Sandbox

from .conftest import PNG_MAGIC, PYTHON, USER, WRONG_KEY, subprocess_env

pytestmark = pytest.mark.sockets


def ticketpulse(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 -- our own interpreter and module
        [PYTHON, "-m", "ticketpulse", *args],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=60,
        check=False,
    )


def test_python_m_ticketpulse_with_the_embedded_sandbox(tmp_path: Path) -> None:
    result = ticketpulse(
        "--sandbox", "download-tickets", "12", "--user", "7", "--out", str(tmp_path), "--json"
    )
    assert result.returncode == 0, result.stderr
    downloaded = [o for o in json.loads(result.stdout) if o["status"] == "downloaded"]
    assert sorted(o["reference"] for o in downloaded) == ["42350", "TP-00123", "a3f9b"]
    assert (tmp_path / "a3f9b.png").read_bytes().startswith(PNG_MAGIC)
    assert DEMO_API_KEY not in result.stdout + result.stderr


def test_errors_over_loopback_are_one_line_without_the_key() -> None:
    with Sandbox.demo().serve() as base_url:
        wrong = ticketpulse("--base-url", base_url, "events", TICKETPULSE_API_KEY=WRONG_KEY)
        missing = ticketpulse(
            "tickets", "999", "--user", str(USER), "--base-url", base_url, "--api-key", DEMO_API_KEY
        )
    assert (wrong.returncode, missing.returncode) == (3, 4)
    for result in (wrong, missing):
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("ticketpulse: error: ")
        for key in (WRONG_KEY, DEMO_API_KEY):
            assert key not in result.stderr


@pytest.mark.usefixtures("ctrl_c")
def test_sandbox_command_serves_until_interrupted() -> None:
    with subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        [PYTHON, "-m", "ticketpulse", "sandbox", "--port", "0", "--user", str(USER), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
    ) as process:
        try:
            assert process.stdout is not None
            banner = json.loads(process.stdout.readline())
            assert banner["api_key"] == DEMO_API_KEY  # the public demo key, on purpose
            response = httpx.get(
                f"{banner['base_url']}/events/12/tickets",
                params={"key": banner["api_key"], "wp_user_id": USER},
                timeout=10,
            )
            assert [t["id"] for t in response.json()] == ["a3f9b", "42350", "e0705", "7eaba"]
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert "Stopped." in err


def test_without_the_cli_extra_one_line_and_exit_2() -> None:
    code = (
        "import sys; sys.modules['click'] = None; "
        "from ticketpulse._cli import main; main(['events'])"
    )
    result = subprocess.run(  # noqa: S603 -- our own interpreter
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'ticketpulse: the command line needs click and rich: pip install "ticketpulse[cli]"'
    ]


def test_importing_ticketpulse_needs_neither_click_nor_rich() -> None:
    # (httpx imports them for its own CLI when they are installed, so "not
    # imported" cannot be tested; "not needed" can.)
    code = (
        "import sys; sys.modules['click'] = sys.modules['rich'] = None; "
        "import ticketpulse, ticketpulse._cli, ticketpulse.testing, ticketpulse.__main__; "
        "print(ticketpulse.__name__)"
    )
    result = subprocess.run(  # noqa: S603 -- our own interpreter
        [PYTHON, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ticketpulse"
