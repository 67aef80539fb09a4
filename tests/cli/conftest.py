"""Running the ``ticketpulse`` command line against the sandbox, in-process and on loopback.

``cli_run`` invokes the click group with ``CliRunner`` and ``Settings(sandbox=...)``
as the context object, so the command talks to the test's sandbox in-process
and the test can look at its state and request log afterwards. Every run
checks that no API key reached stdout or stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ticketpulse._cli._app import cli
from ticketpulse._cli._settings import Settings
from ticketpulse.testing import DEMO_API_KEY, OrderRecord, Sandbox

USER = 789
WRONG_KEY = "tp_live_WR0NGs3cretKEY42"
KEYS = (DEMO_API_KEY, WRONG_KEY)
ROOT = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"

# The environment of every run: no key or base URL leaking in from the
# developer's shell, plain output unless a test asks for a terminal.
BASE_ENV: dict[str, str | None] = {
    "TICKETPULSE_API_KEY": None,
    "TICKETPULSE_BASE_URL": None,
    "TTY_COMPATIBLE": "0",
    "FORCE_COLOR": None,
    "NO_COLOR": "1",
    "COLUMNS": "200",
}
TERMINAL = {"TTY_COMPATIBLE": "1"}


def assert_no_key(result: Result, *, allowed: Sequence[str] = ()) -> None:
    """No API key in stdout or stderr (``allowed``: keys a command may print on purpose)."""
    for key in KEYS:
        if key in allowed:
            continue
        assert key not in result.stdout, f"{key} on stdout"
        assert key not in result.stderr, f"{key} on stderr"


def assert_one_error_line(result: Result, code: int, *, after_notes: bool = False) -> str:
    """The run failed with ``code`` and one error line on stderr, no traceback.

    ``after_notes``: the command may have written notes (a summary) before it.
    """
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    if not after_notes:
        assert len(lines) == 1, result.stderr
    assert [line for line in lines if line.startswith("ticketpulse: error: ")] == lines[-1:]
    return lines[-1]


Run = Callable[..., Result]


def invoke(
    args: Sequence[str],
    *,
    sandbox: Sandbox | None = None,
    env: Mapping[str, str | None] | None = None,
    input: str | bytes | None = None,
    may_print: Sequence[str] = (),
) -> Result:
    """Run the CLI (against ``sandbox`` in-process if given); no key may be printed.

    ``may_print``: keys the command prints on purpose (the sandbox's public demo key).
    """
    runner = CliRunner()
    result = runner.invoke(
        cli,
        list(args),
        obj=Settings(sandbox=sandbox),
        env={**BASE_ENV, **(env or {})},
        input=input,
        catch_exceptions=False,
        prog_name="ticketpulse",
    )
    assert_no_key(result, allowed=may_print)
    return result


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.demo() as sandbox:
        yield sandbox


@pytest.fixture
def run(sandbox: Sandbox) -> Run:
    """Run the CLI against ``sandbox`` in-process: ``run("events", "--json")``."""

    def run_in_process(*args: str, **kwargs: Any) -> Result:
        return invoke(args, sandbox=sandbox, **kwargs)

    return run_in_process


@pytest.fixture
def order(sandbox: Sandbox) -> OrderRecord:
    """One order of two General Admission tickets (event 12) for USER, not personalised."""
    return sandbox.add_order(wp_user_id=USER, items={45: 2})


def personalise_all(sandbox: Sandbox, order: OrderRecord) -> None:
    for reference in order.ticket_refs:
        sandbox.personalize_ticket(
            reference,
            first_name="Jane",
            last_name="Doe",
            email="jane@example.com",
            phone="+31612345678",
        )


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a ``python -m ticketpulse`` child: this checkout first, no key."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TICKETPULSE_API_KEY", "TICKETPULSE_BASE_URL", "FORCE_COLOR")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["TTY_COMPATIBLE"] = "0"
    env.update(extra)
    return env


PYTHON = sys.executable
