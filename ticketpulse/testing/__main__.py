"""``python -m ticketpulse.testing``: serve the demo sandbox until Ctrl-C.

Prints the API base URL and the demo key, then serves the demo data over
loopback (the built-in server, or uvicorn with ``--server uvicorn``).
``--delay-ms`` waits that long before every answer, for latency-bound
benchmarks.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._sandbox import Sandbox

__all__ = ["main"]


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
    return parser


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.delay_ms < 0:
        print("--delay-ms must be >= 0", file=sys.stderr)
        return 2
    sandbox = Sandbox.demo(delay=args.delay_ms / 1000)
    try:
        server = sandbox.start_server(args.host, args.port, server=args.server)
    except (OSError, ImportError) as exc:
        print(f"cannot serve the sandbox: {exc}", file=sys.stderr)
        return 1
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Ticket Pulse sandbox ({args.server}) serving at {server.base_url}", flush=True)
    print(f"API key: {sandbox.api_key}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
