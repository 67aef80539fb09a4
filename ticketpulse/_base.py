"""What both clients share: settings, URLs, headers and the mapping of httpx's
transport errors to the core's :class:`Failure`.

The key is joined to the URL only in :meth:`BaseClient._url`, immediately
before sending; everything that may be shown uses :meth:`BaseClient._shown_url`.
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx

from ._core import Call, Failure, FailureKind
from ._endpoints import is_loopback
from ._errors import ConfigurationError
from ._redact import REDACTED, install_log_filter, redact
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "BaseClient",
    "NotGiven",
    "classify",
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

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

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
    return parts.geturl().rstrip("/")


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


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~50 ms; one verifying context serves every
    # client the SDK creates (SSLContext is safe to share).
    return httpx.create_ssl_context()


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)

_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_LOCAL_ERRORS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)


def classify(exc: httpx.TransportError, scrub: Callable[[str], str] = redact) -> Failure:
    """How far a failed request got, from httpx's exception type.

    Connect errors and pool timeouts happen before any byte of the request is
    written, so even an order may be sent again. Anything later may have
    reached the server.
    """
    description = f"{type(exc).__name__}: {scrub(str(exc))}" if str(exc) else type(exc).__name__
    timeout = isinstance(exc, httpx.TimeoutException)
    if isinstance(exc, _CONNECT_ERRORS):
        return Failure(FailureKind.NOT_SENT, description, timeout)
    if isinstance(exc, _LOCAL_ERRORS):
        return Failure(FailureKind.INVALID, description, timeout)
    return Failure(FailureKind.SENT, description, timeout)


class BaseClient(Generic[HttpT]):
    """Settings and URL building shared by :class:`Client` and :class:`AsyncClient`."""

    _http: HttpT

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        http_client: HttpT | None,
        http_type: type[HttpT],
    ) -> None:
        self._key = _resolve_key(api_key)
        self._base_url = _resolve_base_url(base_url)
        self._timeout = _resolve_timeout(timeout)
        self._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        if http_client is None:
            self._http = http_type(
                verify=_ssl_context(),
                timeout=self._timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )
            self._owns_http = True
        elif isinstance(http_client, http_type):
            self._http = http_client
            self._owns_http = False  # never close what the user gave us
        else:
            raise ConfigurationError(
                f"http_client must be an {http_type.__module__}.{http_type.__qualname__}, "
                f"not {type(http_client).__name__}"
            )
        self._headers = {
            "User-Agent": f"ticketpulse-python/{__version__}",
            "Accept": "application/json",
        }

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
        clone._owns_http = False  # the pool stays the original's to close
        if not isinstance(timeout, NotGiven):
            clone._timeout = _resolve_timeout(timeout)
        if not isinstance(max_retries, NotGiven):
            clone._policy = RetryPolicy(max_retries=_resolve_retries(max_retries))
        return clone

    def _url(self, call: Call[Any]) -> str:
        """The URL to send, with the key added last. Never log or show it."""
        if call.url is not None:
            return call.url
        query = urlencode((*call.params, ("key", self._key.value)), quote_via=quote)
        return f"{self._base_url}{call.path}?{query}"

    def _shown_url(self, call: Call[Any]) -> str:
        """The URL as errors and logs show it: the key (or signed secret) redacted."""
        if call.url is not None:
            return redact(call.url)
        query = urlencode(call.params, quote_via=quote)
        joiner = "&" if query else ""
        return f"{self._base_url}{call.path}?{query}{joiner}key={REDACTED}"

    def _scrub(self, text: str) -> str:
        """``text`` with the key and any signed-URL secret replaced by ``***``."""
        return redact(text).replace(self._key.value, REDACTED)

    def _request_headers(self, call: Call[Any]) -> dict[str, str]:
        if call.body is None:
            return self._headers
        return {**self._headers, "Content-Type": "application/json"}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self._base_url!r}, "
            f"max_retries={self._policy.max_retries}, timeout={self._timeout!r})"
        )
