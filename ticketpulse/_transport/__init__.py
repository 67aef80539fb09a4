"""Everything that moves bytes: one module per transport over one shared layer.

``"httpx"`` (``_httpx``: httpcore's connections, each behind a guard, the
default), ``"builtin"`` (the SDK's own HTTP/1.1, ``_http11``, driven by
``_asyncio`` and ``_blocking``) and ``"aiohttp"`` (``_aiohttp``). What every
transport must do is in ``_shared``. Modules are imported when a client first
needs them, so ``import ticketpulse`` pays for none of them.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from .._endpoints import is_loopback
from .._errors import ConfigurationError
from ._shared import AsyncTransport, Settings, SyncTransport, proxy_url

__all__ = ["TRANSPORTS", "TransportName", "async_transport", "sync_transport"]

TransportName = Literal["httpx", "builtin", "aiohttp"]
TRANSPORTS: tuple[str, ...] = ("httpx", "builtin", "aiohttp")


def check_name(transport: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(transport, str) or transport not in allowed:
        choices = ", ".join(repr(name) for name in allowed)
        raise ConfigurationError(f"transport must be one of {choices}, not {transport!r}")
    return transport


def _http_client_type(http_client: object) -> str:
    return type(http_client).__module__.split(".")[0]


def _implied(transport: str, implied: str) -> None:
    # transport= keeps its default ("httpx") or names what http_client implies.
    if transport not in ("httpx", implied):
        raise ConfigurationError(
            f"http_client implies transport={implied!r}: drop transport={transport!r} "
            "or the http_client"
        )


def _direct(settings: Settings) -> None:
    """The builtin transport connects directly: refuse it when a proxy is set for
    the API (a loopback API, the sandbox say, is reached directly all the same)."""
    host = urlsplit(settings.base_url).hostname
    if not is_loopback(host) and proxy_url(settings.base_url) is not None:
        # The proxy's URL is not shown: it may hold a user name and password.
        raise ConfigurationError(
            f"transport='builtin' connects directly, but a proxy is set for {host} "
            "(HTTPS_PROXY, HTTP_PROXY or ALL_PROXY): use transport='httpx', which "
            "goes through it, or add the host to NO_PROXY"
        )


def async_transport(transport: str, http_client: Any, settings: Settings) -> AsyncTransport:
    """The transport an ``AsyncClient`` sends through. Raises ConfigurationError."""
    if http_client is not None:
        import httpx

        if isinstance(http_client, httpx.AsyncClient):
            _implied(transport, "httpx")
            from ._httpx import AsyncHttpxClientTransport

            return AsyncHttpxClientTransport(http_client, settings)
        if _http_client_type(http_client) == "aiohttp":
            import aiohttp

            if isinstance(http_client, aiohttp.ClientSession):
                from ._aiohttp import AiohttpTransport

                _implied(transport, "aiohttp")
                return AiohttpTransport(http_client, settings)
        raise ConfigurationError(
            "http_client must be an httpx.AsyncClient or an aiohttp.ClientSession, "
            f"not {type(http_client).__name__}"
        )
    name = check_name(transport, TRANSPORTS)
    if name == "httpx":
        from ._httpx import AsyncHttpcoreTransport

        return AsyncHttpcoreTransport(settings)
    if name == "builtin":
        from ._asyncio import AsyncioTransport

        _direct(settings)
        return AsyncioTransport(settings)
    try:
        from ._aiohttp import AiohttpTransport
    except ImportError as exc:
        raise ConfigurationError(
            'transport="aiohttp" needs aiohttp: pip install "ticketpulse[aiohttp]"'
        ) from exc
    return AiohttpTransport(None, settings)


def sync_transport(transport: str, http_client: Any, settings: Settings) -> SyncTransport:
    """The transport a blocking ``Client`` sends through. Raises ConfigurationError."""
    if http_client is not None:
        import httpx

        if not isinstance(http_client, httpx.Client):
            raise ConfigurationError(
                f"http_client must be an httpx.Client, not {type(http_client).__name__}"
            )
        from ._httpx import HttpxClientTransport

        _implied(transport, "httpx")
        return HttpxClientTransport(http_client, settings)
    name = check_name(transport, ("httpx", "builtin"))
    if name == "httpx":
        from ._httpx import HttpcoreTransport

        return HttpcoreTransport(settings)
    from ._blocking import BlockingTransport

    _direct(settings)
    return BlockingTransport(settings)
