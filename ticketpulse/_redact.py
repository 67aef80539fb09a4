"""Hiding secrets in anything that may be printed or logged.

The API key travels as the ``key`` query parameter and signed file URLs carry a
``secret``; both would otherwise show up in httpx's request log lines, in
exception messages and in reprs.
"""

from __future__ import annotations

import logging
import re

__all__ = ["REDACTED", "install_log_filter", "redact"]

REDACTED = "***"

# The value of a secret query parameter, raw or percent-encoded, up to the next
# separator. Matches `key=` and `secret=` after `?`, `&` or the encoded forms.
_SECRET_PARAM = re.compile(r"((?:[?&;]|%26|%3F)(?:key|secret)(?:=|%3D))[^&#\s\"'<>;]*", re.I)


_HINT = re.compile("key|secret", re.I).search


def redact(text: str) -> str:
    """Return ``text`` with the values of ``key`` and ``secret`` parameters hidden."""
    if not _HINT(text):
        return text  # the common case, and cheap
    return _SECRET_PARAM.sub(r"\g<1>" + REDACTED, text)


class _RedactingFilter(logging.Filter):
    """Redacts URLs in records of the HTTP libraries' loggers.

    httpx logs every request URL at INFO ("HTTP Request: GET https://...?key=...").
    A filter on the logger itself runs for every record created there, before
    any handler, whatever the user's logging configuration.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(_redact_arg(a) for a in record.args)
            else:
                record.args = {k: _redact_arg(v) for k, v in record.args.items()}
        return True


def _redact_arg(value: object) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # keeps %d formatting working
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    cleaned = redact(text)
    return value if cleaned == text else cleaned


_FILTER = _RedactingFilter("ticketpulse.redact")


def install_log_filter() -> None:
    """Attach the redacting filter to the loggers that may print request URLs."""
    for name in ("httpx", "httpcore", "hpack", "aiohttp.client", "aiohttp.access", "ticketpulse"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
