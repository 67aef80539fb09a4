"""Exit codes, one-line errors, the key never shown, --sandbox, and --help."""

from __future__ import annotations

import json
import re

import pytest

import ticketpulse
from ticketpulse._cli._app import cli
from ticketpulse.testing import DEMO_API_KEY, Sandbox

from .conftest import USER, WRONG_KEY, Run, assert_one_error_line, invoke


def test_a_wrong_key_exits_3_and_is_never_shown(run: Run, sandbox: Sandbox) -> None:
    result = run("--api-key", WRONG_KEY, "events")
    line = assert_one_error_line(result, 3)
    assert "403" in line
    assert "key=***" in line
    assert len(sandbox.requests) == 1  # a 403 is never retried


def test_no_key_exits_3() -> None:
    line = assert_one_error_line(invoke(["events"]), 3)
    assert "TICKETPULSE_API_KEY" in line


def test_the_key_comes_from_the_environment(run: Run, sandbox: Sandbox) -> None:
    result = run("events", env={"TICKETPULSE_API_KEY": WRONG_KEY})
    assert_one_error_line(result, 3)


def test_an_unknown_event_exits_4(run: Run) -> None:
    line = assert_one_error_line(run("tickets", "999", "--user", str(USER)), 4)
    assert "404 Event not found" in line


def test_bad_arguments_are_click_usage_errors(run: Run, sandbox: Sandbox) -> None:
    result = run("tickets", "12", "--user", "0")
    assert result.exit_code == 2
    assert "--user" in result.stderr
    assert run("tickets", "twelve", "--user", "1").exit_code == 2
    assert run("events", "--timeout", "0").exit_code == 2
    assert run("nope").exit_code == 2
    assert len(sandbox.requests) == 0


def test_an_invalid_reference_is_refused_before_sending(run: Run, sandbox: Sandbox) -> None:
    result = run("ticket-url", "a\x01b", "--user", str(USER))
    assert "nothing was sent" in assert_one_error_line(result, 2)
    assert len(sandbox.requests) == 0


def test_other_api_errors_exit_1(run: Run, sandbox: Sandbox) -> None:
    from ticketpulse.testing import Respond

    sandbox.faults.inject(Respond(503, body="busy"), times=5)
    line = assert_one_error_line(run("events", "--max-retries", "0"), 1)
    assert "503 busy" in line
    assert len(sandbox.requests) == 1  # --max-retries 0: a 503 is not retried


def test_a_network_failure_exits_5(run: Run, sandbox: Sandbox) -> None:
    from ticketpulse.testing import Drop

    sandbox.faults.inject(Drop(), times=5)
    line = assert_one_error_line(run("events", "--max-retries", "0"), 5)
    assert "key=***" in line


def test_an_unexpected_error_is_one_line_without_the_key(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ticketpulse.Client) -> None:
        raise RuntimeError(f"something broke near {DEMO_API_KEY}")

    monkeypatch.setattr(ticketpulse.Client, "get_events", broken)
    line = assert_one_error_line(run("events"), 1)
    assert line == "ticketpulse: error: unexpected error: RuntimeError: something broke near ***"


def test_ctrl_c_exits_130(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: ticketpulse.Client) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ticketpulse.Client, "get_events", interrupted)
    assert assert_one_error_line(run("events"), 130) == "ticketpulse: error: interrupted"


def test_sandbox_flag_seeds_the_documented_demo_orders(run: Run, sandbox: Sandbox) -> None:
    result = run("tickets", "12", "--user", str(USER), "--sandbox", "--json")
    assert result.exit_code == 0, result.stderr
    tickets = [(t["id"], t["order_id"], t["status"]) for t in json.loads(result.stdout)]
    assert tickets == [
        ("a3f9b", "TP-00123", 2),
        ("42350", "TP-00123", 2),
        ("e0705", "TP-00124", 1),
        ("7eaba", "TP-00124", 1),
    ]
    assert run("tickets", "12", "--user", str(USER), "--sandbox").exit_code == 0
    assert sandbox.order_count() == 2  # seeded once per user
    assert [r.path for r in sandbox.requests] == ["/tp-api/events/12/tickets"] * 2


def test_sandbox_flag_alone_runs_on_a_fresh_demo_sandbox() -> None:
    result = invoke(["--sandbox", "order-pdf", "TP-00123", "--user", "42", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["url"].startswith("https://sandbox.ticket-pulse.test/files/")
    # The second order waits for personalisation.
    assert invoke(["--sandbox", "order-pdf", "TP-00124", "--user", "42"]).exit_code == 6


def test_sandbox_flag_ignores_the_environment_but_not_an_explicit_key() -> None:
    env = {"TICKETPULSE_API_KEY": WRONG_KEY, "TICKETPULSE_BASE_URL": "https://example.com/tp-api"}
    assert invoke(["--sandbox", "events"], env=env).exit_code == 0
    assert_one_error_line(invoke(["--sandbox", "--api-key", WRONG_KEY, "events"]), 3)
    result = invoke(["--sandbox", "--base-url", "https://example.com/tp-api", "events"])
    assert "cannot be used together" in assert_one_error_line(result, 2)


def test_every_command_has_help_with_examples() -> None:
    top = invoke(["--help"])
    assert top.exit_code == 0
    codes = re.findall(r"^ +(\d+) +\S", top.stdout.split("Exit codes:")[1], re.MULTILINE)
    assert codes == ["0", "1", "2", "3", "4", "5", "6", "7", "130"]
    assert "--sandbox" in top.stdout
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        result = invoke([name, "--help"])
        assert result.exit_code == 0
        assert "Examples:" in result.stdout, name
        assert "Global options" in result.stdout, name


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert ticketpulse.__version__ in result.stdout
