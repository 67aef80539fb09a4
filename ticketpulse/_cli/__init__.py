"""The ``ticketpulse`` command line (``pip install "ticketpulse[cli]"``).

Only :func:`main` lives here, and it imports click and rich when it runs, so
``import ticketpulse`` never needs the ``cli`` extra. The commands are in
``_app``; tests drive ``_app.cli`` with click's ``CliRunner``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

MISSING_EXTRA = 'ticketpulse: the command line needs click and rich: pip install "ticketpulse[cli]"'


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``ticketpulse`` console script); exits with its status."""
    try:
        for name in ("click", "rich"):
            importlib.import_module(name)
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(2) from None
    from ._app import cli

    cli.main(args=list(argv) if argv is not None else None, prog_name="ticketpulse")
