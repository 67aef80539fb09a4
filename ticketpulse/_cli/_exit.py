"""Exit codes, and the one line printed for each kind of failure.

Scripts branch on the exit code, people read the line; neither ever shows the
API key (the SDK's messages carry ``key=***``, and :func:`scrub` removes the
key from anything else as a last guard).
"""

from __future__ import annotations

from collections.abc import Iterable

import ticketpulse

__all__ = [
    "API_ERROR",
    "AUTH",
    "EXIT_CODES_HELP",
    "FILE_NOT_READY",
    "INTERRUPTED",
    "NETWORK",
    "NOT_FOUND",
    "OK",
    "SKIPPED",
    "USAGE",
    "CliError",
    "describe",
    "scrub",
]

OK = 0
API_ERROR = 1
USAGE = 2
AUTH = 3
NOT_FOUND = 4
NETWORK = 5
FILE_NOT_READY = 6
SKIPPED = 7
INTERRUPTED = 130

# Shown in the top-level --help (``\b`` keeps click from re-wrapping it).
EXIT_CODES_HELP = """\b
Exit codes:
  0    success
  1    API or unexpected error (400, 429, 5xx, a malformed answer, a file not written)
  2    usage: a bad option or argument, an invalid CSV file or a row for a
       ticket the user does not have (nothing was sent)
  3    authentication or configuration: no API key, an invalid key or
       base URL, 403 refused by the API
  4    not found or not permitted (404, 401)
  5    network: the API could not be reached, or timed out
  6    file not ready: a QR code exists once its ticket is personalised,
       an order PDF once all the order's tickets are
  7    personalize skipped some rows: their tickets were no longer awaiting
       personalisation (the other rows were personalised)
  130  interrupted (Ctrl-C)"""


class CliError(Exception):
    """A failure the command line detected itself: ``message`` and ``exit_code``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


_HINTS: list[tuple[type[ticketpulse.TicketPulseError], int, str]] = [
    # Most specific first: FileNotReadyError is a NotPermittedError.
    (
        ticketpulse.FileNotReadyError,
        FILE_NOT_READY,
        "not generated yet: personalise the tickets first (ticketpulse personalize)",
    ),
    (ticketpulse.NotPermittedError, NOT_FOUND, ""),
    (ticketpulse.NotFoundError, NOT_FOUND, ""),
    (
        ticketpulse.AuthenticationError,
        AUTH,
        "check --api-key / TICKETPULSE_API_KEY; repeated failures may suspend the key",
    ),
    (ticketpulse.ConfigurationError, AUTH, ""),
    (ticketpulse.InvalidRequestError, USAGE, "nothing was sent"),
    (ticketpulse.APIConnectionError, NETWORK, ""),
]


def describe(error: ticketpulse.TicketPulseError) -> tuple[int, str]:
    """The exit code and the one-line message for an SDK error."""
    for cls, code, hint in _HINTS:
        if isinstance(error, cls):
            return code, _one_line(f"{error} — {hint}" if hint else str(error))
    return API_ERROR, _one_line(str(error))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())
