"""``ticketpulse sandbox``: serve the demo sandbox over loopback until Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import threading
from types import FrameType

import click

from . import _exit
from ._exit import CliError
from ._options import Command, global_options, pass_settings
from ._output import Output
from ._settings import Settings, seed_demo_orders

__all__ = ["sandbox_command"]


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_until_interrupted() -> None:
    """Block until Ctrl-C (or SIGTERM, in the main thread)."""
    threading.Event().wait()


@click.command(
    "sandbox",
    cls=Command,
    short_help="Serve the demo sandbox on loopback until Ctrl-C.",
    epilog="""\b
Examples:
  ticketpulse sandbox --port 8000 --user 789
  # then, in another terminal, export the two variables it prints and:
  ticketpulse tickets 12 --user 789
  ticketpulse sandbox --port 0 --json     # {"base_url": ..., "api_key": ...}""",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port (0 picks a free one).",
)
@click.option(
    "--server",
    type=click.Choice(["builtin", "uvicorn"]),
    default="builtin",
    show_default=True,
    help='HTTP server: builtin, or uvicorn (pip install "ticketpulse[serve]").',
)
@click.option(
    "--user",
    "users",
    type=click.IntRange(min=1),
    multiple=True,
    metavar="USER",
    help="Give USER the demo orders TP-00123 and TP-00124 (repeatable).",
)
@global_options(on_group=False)
@pass_settings
def sandbox_command(
    settings: Settings, host: str, port: int, server: str, users: tuple[int, ...]
) -> None:
    """Serve the demo sandbox over HTTP until Ctrl-C.

    Prints the base URL and the demo key to use with --base-url and --api-key
    (or the TICKETPULSE_BASE_URL and TICKETPULSE_API_KEY variables). The demo
    key is public: it opens only this sandbox. The SDK speaks plain http only
    to loopback hosts (127.0.0.1, localhost, ::1).
    """
    from ticketpulse.testing import Sandbox

    sandbox = Sandbox.demo()
    for user_id in users:
        seed_demo_orders(sandbox, user_id)
    try:
        running = sandbox.start_server(
            host, port, server="uvicorn" if server == "uvicorn" else "builtin"
        )
    except (OSError, ImportError, RuntimeError) as exc:
        raise CliError(
            f"cannot serve the sandbox on {host}:{port}: {exc}", _exit.API_ERROR
        ) from None
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if main_thread else None
    out = Output(json_mode=settings.json)
    try:
        if out.json_mode:
            # One line, so that a script can read it and go on.
            click.echo(json.dumps({"base_url": running.base_url, "api_key": sandbox.api_key}))
        else:
            out.line(f"Ticket Pulse sandbox serving at {running.base_url}")
            out.line(f"API key: {sandbox.api_key}")
            out.line(f"  export TICKETPULSE_BASE_URL={running.base_url}")
            out.line(f"  export TICKETPULSE_API_KEY={sandbox.api_key}")
            out.note("Press Ctrl-C to stop.")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            _wait_until_interrupted()
    finally:
        running.stop()
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    out.note("Stopped.")
