"""The ``ticketpulse`` click group: its help, its global options, and error handling.

Every failure ends as one line on stderr and an exit code from ``_exit`` (no
traceback, never the key). The commands live in ``_commands`` (the API) and
``_serve`` (the sandbox server).
"""

from __future__ import annotations

from typing import Any

import click

import ticketpulse

from . import _exit
from ._commands import COMMANDS
from ._exit import CliError
from ._options import Command, global_options
from ._serve import sandbox_command
from ._settings import DEMO_ORDERS_HELP, Settings

__all__ = ["cli"]


class _Group(click.Group):
    """Turns every failure into one line on stderr and an exit code."""

    command_class = Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order of a typical session, not sorted

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # click's main() ends quietly when the reader of a pipe left
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", _exit.INTERRUPTED)
        except CliError as exc:
            _fail(ctx, exc.message, exc.exit_code)
        except ticketpulse.TicketPulseError as exc:
            code, message = _exit.describe(exc)
            _fail(ctx, message, code)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            _fail(ctx, f"{exc.strerror or exc}{where}", _exit.API_ERROR)
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            _fail(ctx, f"unexpected error: {type(exc).__name__}: {exc}", _exit.API_ERROR)


def _fail(ctx: click.Context, message: str, code: int) -> None:
    settings = ctx.find_object(Settings)
    secrets = settings.secrets() if settings is not None else []
    click.echo(f"ticketpulse: error: {_exit.scrub(message, secrets)}", err=True)
    ctx.exit(code)


_HELP = f"""Ticket Pulse Partner API from the command line.

Look at events, find a buyer's tickets, personalise them from a spreadsheet,
and fetch or download their QR codes and order PDFs.

\b
Examples:
  export TICKETPULSE_API_KEY=...   # seller dashboard: Settings > Website integrations
  ticketpulse events
  ticketpulse tickets 12 --user 789
  ticketpulse personalize 12 --user 789 --csv attendees.csv
  ticketpulse download-tickets 12 --user 789 --out tickets/
  ticketpulse tickets 12 --user 789 --sandbox     # offline, on demo data
  ticketpulse events --json | jq '.[].name'

Output is a table on a terminal, tab-separated lines under a header line in
a pipe, and JSON with --json: the API's fields, dates in ISO 8601 UTC, prices
as exact decimal strings ("29.95"), ticket statuses as the API's numbers
(1 created, 2 active, 3 scanned in, 4 scanned out, 5 cancelled). Notes and
errors go to stderr. The API key is never printed.

{DEMO_ORDERS_HELP}

{_exit.EXIT_CODES_HELP}
"""


@click.group(
    cls=_Group,
    help=_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(ticketpulse.__version__, prog_name="ticketpulse")
@global_options(on_group=True)
def cli() -> None:
    pass


for _command in [*COMMANDS, sandbox_command]:
    cli.add_command(_command)
