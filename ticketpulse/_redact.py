"""Hiding secrets in anything that may be printed or logged.

The API key travels as the ``key`` query parameter and signed file URLs carry a
``secret``; both would otherwise show up in httpx's request log lines, in
exception messages and in reprs.
"""

from __future__ import annotations

import logging
import re
import weakref
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = ["REDACTED", "Secret", "install_log_filter", "redact", "secret_of"]

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


class Secret:
    """Holds a key or a signed URL's secret so that no repr, ``vars()`` dump or
    pickle can show it; every live one is also hidden from every log record."""

    __slots__ = ("__weakref__", "_forms", "quoted", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        self.quoted = quote(value, safe="")  # as it goes into the query string
        # What a server may echo: the value raw, percent-encoded (either case), or
        # form-encoded. Longest first, so no form is left half-replaced.
        forms = {value, self.quoted, self.quoted.lower(), quote_plus(value)}
        self._forms = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)
        _LIVE.add(self)

    def scrub(self, text: str) -> str:
        """``text`` with every form of this secret replaced by ``***``."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"'{REDACTED}'"

    def __reduce__(self) -> Any:
        raise TypeError("a secret cannot be pickled")


_LIVE: weakref.WeakSet[Secret] = weakref.WeakSet()


def secret_of(url: str) -> Secret | None:
    """The ``secret`` query value of a signed URL, held as a :class:`Secret`."""
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    for name, value in parse_qsl(query):
        if name.lower() == "secret" and len(value) >= 4:
            return Secret(value)
    return None


def scrub_live(text: str) -> str:
    """``text`` with ``key=``/``secret=`` values and every live secret hidden."""
    text = redact(text)
    for secret in list(_LIVE):
        text = secret.scrub(text)
    return text


class _RedactingFilter(logging.Filter):
    """Redacts URLs in records of the HTTP libraries' loggers.

    httpx logs every request URL at INFO ("HTTP Request: GET https://...?key=...").
    A filter on the logger itself runs for every record created there, before
    any handler, whatever the user's logging configuration.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_live(record.msg)
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
    cleaned = scrub_live(text)
    return value if cleaned == text else cleaned


_FILTER = _RedactingFilter("ticketpulse.redact")


# A logger's filters do not apply to records its children create (they reach the
# parent's handlers, not its filters), so every logger that creates records is
# named: httpcore logs raw answer heads (a redirect's Location) at DEBUG.
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "hpack.hpack",
    "hpack.table",
    "h2",
    "h2.connection",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.access",
    "aiohttp.internal",
    "aiohttp.server",
    "ticketpulse",
)


def install_log_filter() -> None:
    """Attach the redacting filter to the loggers that may print URLs or heads."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
