"""``python -m ticketpulse.testing``: serve the demo sandbox until Ctrl-C.

Serves the demo world of the command line's ``ticketpulse sandbox`` over
loopback (the built-in server, or uvicorn with ``--server uvicorn``): the demo
events, and for each ``--user`` (789 unless given) the demo orders TP-00123
(personalised) and TP-00124 (awaiting personalisation). Standard output gets
exactly two lines, ready to paste into a shell::

    export TICKETPULSE_BASE_URL=http://127.0.0.1:8000/tp-api
    export TICKETPULSE_API_KEY=tp_demo_0123456789abcdef

and everything else goes to standard error. ``--delay-ms`` waits that long
before every answer, for latency-bound benchmarks.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._demo import DEMO_USER_ID
from ._sandbox import Sandbox

__all__ = ["main"]


def _user_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a user id (a positive integer)")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ticketpulse.testing",
        description="Serve the Ticket Pulse Partner API sandbox (demo data) until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000; 0 picks a free one)")
    parser.add_argument(
        "--server",
        choices=("builtin", "uvicorn"),
        default="builtin",
        help="builtin (h11, no extra needed) or uvicorn (pip install 'ticketpulse[serve]')",
    )
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=0.0,
        metavar="N",
        help="wait N milliseconds before every answer (0)",
    )
    parser.add_argument(
        "--user",
        dest="users",
        type=_user_id,
        action="append",
        metavar="USER",
        help=f"give USER the demo orders (repeatable; default {DEMO_USER_ID})",
    )
    return parser


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.delay_ms < 0:
        print("--delay-ms must be >= 0", file=sys.stderr)
        return 2
    users: list[int] = list(dict.fromkeys(args.users or [DEMO_USER_ID]))
    sandbox = Sandbox.demo(delay=args.delay_ms / 1000, users=users)
    try:
        server = sandbox.start_server(args.host, args.port, server=args.server)
    except (OSError, ImportError) as exc:
        print(f"cannot serve the sandbox: {exc}", file=sys.stderr)
        return 1
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    _note(f"Ticket Pulse sandbox ({args.server}) serving the demo data at {server.base_url}")
    for user_id in users:
        ready, waiting = (o.reference for o in sandbox.orders() if o.wp_user_id == user_id)
        _note(f"user {user_id}: order {ready} personalised, {waiting} awaiting personalisation")
    print(f"export TICKETPULSE_BASE_URL={server.base_url}", flush=True)
    print(f"export TICKETPULSE_API_KEY={sandbox.api_key}", flush=True)
    _note("Press Ctrl-C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    _note("Stopped.")
    return 0


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
