"""What both clients share: settings, URLs, headers and the mapping of httpx's
transport errors to the core's :class:`Failure`.

The key is joined to the URL only in :meth:`BaseClient._url`, immediately
before sending; everything that may be shown uses :meth:`BaseClient._shown_url`.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ._core import Call
from ._endpoints import is_loopback
from ._errors import ConfigurationError
from ._executors import proxies_configured
from ._redact import REDACTED, install_log_filter, redact
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "BaseClient",
    "MAX_CONNECTIONS",
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


class _Secret:
    """Holds the key so that no repr, ``vars()`` dump or pickle can show it."""

    __slots__ = ("quoted", "value")

    def __init__(self, value: str) -> None:
        self.value = value
        self.quoted = quote(value, safe="")  # as it goes into the query string

    def __repr__(self) -> str:
        return f"'{REDACTED}'"

    def __reduce__(self) -> Any:
        raise TypeError("the API key cannot be pickled")


def _resolve_key(api_key: str | None) -> _Secret:
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
    return _Secret(api_key)


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
"""Connections the SDK's own pool may open (requests beyond wait for one)."""

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle keep-alive connection is kept (as httpx does)."""


@functools.cache
def ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~50 ms; one verifying context serves every
    # client the SDK creates (SSLContext is safe to share).
    return httpx.create_ssl_context()


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _quote(value: str) -> str:
    """Percent-encode a query value: everything but RFC 3986's unreserved characters."""
    return value if _UNRESERVED(value) else quote(value, safe="")


class BaseClient:
    """Settings and URL building shared by :class:`Client` and :class:`AsyncClient`.

    A subclass makes its executor in :meth:`_make_executor`: the user's httpx
    client if given, an httpx client of its own when proxy variables apply,
    else the SDK's own connection pool.
    """

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        http_client: object,
    ) -> None:
        self._key = _resolve_key(api_key)
        self._base_url = _resolve_base_url(base_url)
        self._timeout = _resolve_timeout(timeout)
        self._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        self._headers = {
            "User-Agent": f"ticketpulse-python/{__version__}",
            "Accept": "application/json",
        }
        self._owns_executor = True
        self._make_executor(http_client)

    def _make_executor(self, http_client: object) -> None:
        raise NotImplementedError

    @staticmethod
    def _check_http_client(http_client: object, http_type: type[Any]) -> None:
        if not isinstance(http_client, http_type):
            raise ConfigurationError(
                f"http_client must be an {http_type.__module__}.{http_type.__qualname__}, "
                f"not {type(http_client).__name__}"
            )

    def _httpx_settings(self) -> dict[str, Any]:
        """Settings for an httpx client of the SDK's own (used when proxies apply)."""
        return {
            "verify": ssl_context(),
            "timeout": self._timeout,
            "follow_redirects": False,
            "limits": httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
        }

    def _pool_settings(self) -> dict[str, Any]:
        """Settings for the SDK's own connection pool."""
        return {
            "ssl_context": ssl_context(),
            "max_connections": MAX_CONNECTIONS,
            "keepalive_expiry": KEEPALIVE_EXPIRY,
        }

    def _wants_httpx(self) -> bool:
        return proxies_configured(self._base_url)

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
        clone._owns_executor = False  # the pool stays the original's to close
        if not isinstance(timeout, NotGiven):
            clone._timeout = _resolve_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            clone._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        return clone

    def _urls(self, call: Call[Any]) -> tuple[str, str]:
        """The URL to send, with the key added last (never log or show it), and the
        URL as errors and logs show it, the key or a signed URL's secret redacted."""
        if call.url is not None:
            return call.url, redact(call.url)
        if call.params:
            query = "&".join(f"{name}={_quote(value)}" for name, value in call.params)
            head = f"{self._base_url}{call.path}?{query}&key="
        else:
            head = f"{self._base_url}{call.path}?key="
        return head + self._key.quoted, head + REDACTED

    def _scrub(self, text: str) -> str:
        """``text`` with the key and any signed-URL secret replaced by ``***``."""
        return redact(text).replace(self._key.value, REDACTED)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"max_retries={self._policy.max_retries}, timeout={self._timeout!r})"
        )
