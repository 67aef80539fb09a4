"""What both clients share: settings (resolved and checked), URLs and headers.

The key is joined to the URL only in :meth:`BaseClient._urls`, immediately
before sending; everything that may be shown gets the redacted twin.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._core import Call
from ._endpoints import is_loopback
from ._errors import ConfigurationError
from ._redact import REDACTED, Secret, install_log_filter, redact, secret_of
from ._retry import RetryPolicy
from ._transport._shared import DEFAULT_MAX_RESPONSE_SIZE, Settings
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "MAX_CONNECTIONS",
    "BaseClient",
    "NotGiven",
]

DEFAULT_BASE_URL = "https://ticket-pulse.com/tp-api"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""Connect within 5 s; then no more than 30 s without progress (read, write, pool)."""

install_log_filter()


class NotGiven:
    """Marks an argument of ``with_options`` that was not passed."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = NotGiven()


def _resolve_key(api_key: str | None) -> Secret:
    if api_key is None:
        api_key = os.environ.get("TICKETPULSE_API_KEY")
    if api_key is None or api_key == "":
        raise ConfigurationError(
            "no API key: pass api_key=... or set the TICKETPULSE_API_KEY environment variable"
        )
    if not isinstance(api_key, str):
        raise ConfigurationError(f"api_key must be a str, not {type(api_key).__name__}")
    if any(c.isspace() or not c.isprintable() for c in api_key):
        raise ConfigurationError("api_key contains whitespace or control characters")
    return Secret(api_key)


def _resolve_base_url(base_url: str | None) -> str:
    if base_url is None:
        base_url = os.environ.get("TICKETPULSE_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(base_url, str):
        raise ConfigurationError(f"base_url must be a str, not {type(base_url).__name__}")
    try:
        parts = urlsplit(base_url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigurationError(f"invalid base_url: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigurationError(
            f"base_url must be an absolute https URL, not {redact(base_url)!r}"
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            "base_url must use https: plain http would send the API key unencrypted "
            "(allowed only for loopback hosts such as 127.0.0.1, localhost and ::1)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError("base_url must not contain credentials, a query or a fragment")
    # httpx's normal form: an IDN host in punycode, the path percent-encoded.
    try:
        normal = httpx.URL(parts.geturl())
        normal.host.encode("idna")  # a DNS label over 63 characters, say
        return str(normal).rstrip("/")
    except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise ConfigurationError(f"invalid base_url: {redact(str(exc))}") from None


def _resolve_timeout(timeout: float | httpx.Timeout) -> httpx.Timeout:
    if isinstance(timeout, httpx.Timeout):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ConfigurationError(f"timeout must be a positive number of seconds, not {timeout!r}")
    return httpx.Timeout(float(timeout), connect=min(float(timeout), DEFAULT_TIMEOUT.connect or 5))


def _resolve_retries(max_retries: int) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an int >= 0, not {max_retries!r}")
    return max_retries


MAX_CONNECTIONS = 100
"""Connections a client may open (requests beyond wait for one)."""

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle keep-alive connection is kept (as httpx does)."""


def _resolve_count(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigurationError(f"{name} must be an int >= {low}, not {value!r}")
    return value


@functools.cache
def ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~50 ms; one verifying context serves every
    # client the SDK creates (SSLContext is safe to share).
    return httpx.create_ssl_context()


class BaseClient:
    """Settings and URL building shared by :class:`Client` and :class:`AsyncClient`."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        max_connections: int,
        max_response_size: int,
    ) -> None:
        self._key = _resolve_key(api_key)
        self._base_url = _resolve_base_url(base_url)
        self._timeout = _resolve_timeout(timeout)
        self._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        # A signed file URL may be plain http only if the API itself is (the sandbox).
        self._allow_http_files = self._base_url.startswith("http://")
        headers = {
            "User-Agent": f"ticketpulse-python/{__version__}",
            "Accept": "application/json",
            # SPEC §9: nothing is decoded that the SDK did not ask for.
            "Accept-Encoding": "identity",
        }
        self._settings = Settings(
            base_url=self._base_url,
            headers=headers,
            ssl_context=ssl_context(),
            max_connections=_resolve_count("max_connections", max_connections, 1),
            keepalive_expiry=KEEPALIVE_EXPIRY,
            max_response_size=_resolve_count("max_response_size", max_response_size, 1024),
        )
        self._owns_transport = True

    @property
    def base_url(self) -> str:
        """The API's base URL, e.g. ``https://ticket-pulse.com/tp-api``."""
        return self._base_url

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout applied to every request."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """How many times a failed call may be repeated (see the README's Retries)."""
        return self._policy.max_retries

    def _copy_with(
        self, timeout: float | httpx.Timeout | NotGiven, max_retries: int | NotGiven
    ) -> Any:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._owns_transport = False  # the pool stays the original's to close
        if not isinstance(timeout, NotGiven):
            clone._timeout = _resolve_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            clone._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        return clone

    def _urls(self, call: Call[Any]) -> tuple[str, str]:
        """The URL to send, with the key added last (never log or show it), and the
        URL as errors and logs show it, the key or a signed URL's secret redacted."""
        if call.url is not None:
            return call.url, redact(call.url)  # a signed URL: its secret hidden
        target = call.target
        head = f"{self._base_url}{target}{'&' if '?' in target else '?'}key="
        return head + self._key.quoted, head + REDACTED

    def _scrub_for(self, call: Call[Any]) -> Callable[[str], str]:
        """The scrub for one call's texts: a download's also hides its URL's secret bare."""
        if call.url is None:
            return self._scrub
        secret = secret_of(call.url)
        if secret is None:
            return self._scrub

        def scrub(text: str) -> str:
            return secret.scrub(self._scrub(text))

        return scrub

    def _scrub(self, text: str) -> str:
        """``text`` with the key (raw or percent-encoded) and any ``secret=`` hidden."""
        return self._key.scrub(redact(text))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"max_retries={self._policy.max_retries}, timeout={self._timeout!r})"
        )
