"""``python -m ticketpulse.testing`` serves the demo sandbox until interrupted."""

from __future__ import annotations

import json
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


def _exports(process: subprocess.Popen[str]) -> dict[str, str]:
    """The two ``export NAME=value`` lines the server prints first, as a dict."""
    assert process.stdout is not None
    exports: dict[str, str] = {}
    for _ in range(2):
        line = process.stdout.readline()
        assert line.startswith("export "), line
        name, _, value = line.removeprefix("export ").rstrip("\n").partition("=")
        exports[name] = value
    return exports


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
            exports = _exports(process)
            assert list(exports) == ["TICKETPULSE_BASE_URL", "TICKETPULSE_API_KEY"]
            base_url = exports["TICKETPULSE_BASE_URL"]
            assert base_url.startswith("http://127.0.0.1:")
            assert base_url.endswith("/tp-api")
            assert exports["TICKETPULSE_API_KEY"] == DEMO_API_KEY
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
    assert out == ""  # standard output holds the two export lines and nothing else
    assert f"({server}) serving the demo data at {base_url}" in err
    assert "user 789: order TP-00123 personalised, TP-00124 awaiting personalisation" in err
    assert "Stopped." in err


def _user_tickets(base_url: str, user_id: int) -> list[tuple[str, str, int]]:
    response = httpx.get(
        f"{base_url}/events/12/tickets",
        params={"key": DEMO_API_KEY, "wp_user_id": user_id},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [(t["id"], t["order_id"], t["status"]) for t in response.json()]


@pytest.mark.parametrize(
    ("options", "users"),
    [([], [789]), (["--user", "42", "--user", "7", "--user", "42"], [42, 7])],
)
def test_cli_serves_the_world_of_the_command_lines_sandbox(
    options: list[str], users: list[int]
) -> None:
    """The demo orders of ``ticketpulse sandbox --user USER``, for 789 by default."""
    command = [sys.executable, "-m", "ticketpulse.testing", "--port", "0", *options]
    with subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as process:
        try:
            base_url = _exports(process)["TICKETPULSE_BASE_URL"]
            seen = {user_id: _user_tickets(base_url, user_id) for user_id in users}
            other = httpx.get(
                f"{base_url}/users/790/events", params={"key": DEMO_API_KEY}, timeout=10
            )
            process.terminate()
            _, err = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err
    assert seen[users[0]] == [
        ("a3f9b", "TP-00123", 2),
        ("42350", "TP-00123", 2),
        ("e0705", "TP-00124", 1),
        ("7eaba", "TP-00124", 1),
    ]
    if len(users) > 1:  # each further user gets two orders of their own
        assert [(order, status) for _, order, status in seen[users[1]]] == [
            ("TP-00125", 2),
            ("TP-00125", 2),
            ("TP-00126", 1),
            ("TP-00126", 1),
        ]
    assert other.status_code == 404  # any other user has no orders
    assert "External user has no orders" in other.text
    for user_id in users:
        assert err.count(f"user {user_id}: order ") == 1


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


@pytest.mark.parametrize("user", ["0", "-1", "abc"])
def test_cli_refuses_a_bad_user(user: str) -> None:
    result = subprocess.run(  # noqa: S603 -- our own interpreter and module
        [sys.executable, "-m", "ticketpulse.testing", "--user", user, "--port", "0"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "--user" in result.stderr
    assert result.stdout == ""


def _world(command: list[str]) -> list[object]:
    """What a server started by ``command`` answers about the demo world."""
    with subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.startswith("{"):  # ticketpulse sandbox --json
                base_url = json.loads(line)["base_url"]
            else:
                base_url = _exports_from(line, process)["TICKETPULSE_BASE_URL"]
            answers: list[object] = []
            for path, params in [
                ("/events", {}),
                ("/users/789/events", {}),
                ("/events/12/tickets", {"wp_user_id": 789}),
                ("/orders/get-ticket", {"wp_user_id": 789, "order_id": "TP-00123"}),
                ("/orders/get-ticket", {"wp_user_id": 789, "order_id": "TP-00124"}),
            ]:
                response = httpx.get(
                    f"{base_url}{path}", params={"key": DEMO_API_KEY, **params}, timeout=10
                )
                body: object = response.text
                if response.is_success:
                    body = response.json()
                if isinstance(body, str):  # a signed URL: its port and secret differ
                    body = body.removeprefix(base_url.removesuffix("/tp-api")).split("?")[0]
                answers.append((path, response.status_code, body))
            process.terminate()
            process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return answers


def _exports_from(first: str, process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    exports: dict[str, str] = {}
    for line in (first, process.stdout.readline()):
        name, _, value = line.removeprefix("export ").rstrip("\n").partition("=")
        exports[name] = value
    return exports


def test_cli_serves_what_the_command_lines_sandbox_serves() -> None:
    pytest.importorskip("click")
    pytest.importorskip("rich")
    ours = _world([sys.executable, "-m", "ticketpulse.testing", "--port", "0"])
    cli = [sys.executable, "-m", "ticketpulse", "sandbox", "--port", "0", "--json"]
    theirs = _world([*cli, "--user", "789"])
    assert ours == theirs
    assert ours[-2:] == [
        ("/orders/get-ticket", 200, "/files/tickets/order_123_tickets"),
        ("/orders/get-ticket", 401, "File not found"),
    ]
