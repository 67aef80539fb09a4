"""Where a request goes and its bytes, for the builtin transport's two drivers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .._core import Call
from ._http11 import request_bytes
from ._shared import InvalidURL

__all__ = ["Origin", "RequestHead"]


class Origin:
    """scheme://host:port of a URL: the key of a pool's idle connections.

    Raises :class:`InvalidURL` for a URL that is not absolute http(s) or whose
    host cannot go on the wire (non-ASCII after IDNA, a label over 63
    characters, a control character).
    """

    __slots__ = ("host", "host_header", "key", "port", "tls")

    def __init__(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidURL(f"not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidURL(f"cannot send to {parts.scheme or 'a relative'} URL")
        self.tls = parts.scheme == "https"
        try:
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidURL("the URL's host is not a valid host name") from None
        self.host = host
        default = 443 if self.tls else 80
        self.port = port or default
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if self.port == default else f"{shown}:{self.port}"
        self.key = (parts.scheme, host, self.port)


class RequestHead:
    """Builds each request's bytes; the API's origin and common headers prepared once."""

    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        self._origin = Origin(base_url)
        parts = urlsplit(base_url)
        self._origin_length = len(f"{parts.scheme}://{parts.netloc}")
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        try:  # the API's host and base path are checked once here, not in every request
            request_bytes("GET", parts.path or "/", self._origin.host_header, self._headers)
        except ValueError as exc:
            raise InvalidURL(str(exc)) from None

    def build(self, call: Call[Any], url: str) -> tuple[Origin, bytes]:
        """The origin to connect to and the request's bytes. Raises InvalidURL.

        An API call's ``url`` is the client's: the base URL (checked here once),
        the call's target (``_endpoints`` percent-encodes every value in it) and
        the key (percent-encoded), so its characters are not checked again.
        """
        api = call.url is None
        if api:
            origin = self._origin
            # What follows the base URL's origin.
            target = url[self._origin_length :]
        else:  # a signed file URL, on its own host
            origin = Origin(url)
            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            return origin, request_bytes(
                call.method, target, origin.host_header, self._headers, call.body, checked=api
            )
        except ValueError as exc:
            raise InvalidURL(str(exc)) from None
