"""Python SDK for the Ticket Pulse Partner API.

``Client`` (blocking) and ``AsyncClient`` (asyncio and trio) expose the same
methods; the models are frozen attrs classes; every error is a
:class:`TicketPulseError`. ``ticketpulse.testing`` holds an offline sandbox of
the whole API.
"""

from typing import TYPE_CHECKING, Any

from ._async_client import AsyncClient, AsyncTicketURLs
from ._base import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, NOT_GIVEN, NotGiven
from ._client import Client, TicketURLs
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    FileNotReadyError,
    InvalidRequestError,
    NotFoundError,
    NotPermittedError,
    OrderOutcomeUnknownError,
    RateLimitError,
    ServerError,
    TicketPulseError,
    UnexpectedResponseError,
)
from ._models import (
    Attendee,
    BillingInformation,
    Event,
    NewOrder,
    OrderItemType,
    OrderLine,
    PersonalizationResult,
    SignedURL,
    SubEvent,
    Ticket,
    TicketStatus,
    TicketType,
    TicketURLResult,
    UserEvent,
)
from ._version import __version__

if TYPE_CHECKING:
    from ._aiohttp import AiohttpClient
    from ._asyncio import AsyncioClient

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpClient",
    "AsyncClient",
    "AsyncTicketURLs",
    "AsyncioClient",
    "Attendee",
    "AuthenticationError",
    "BadRequestError",
    "BillingInformation",
    "Client",
    "ConfigurationError",
    "Event",
    "FileNotReadyError",
    "InvalidRequestError",
    "NewOrder",
    "NotFoundError",
    "NotGiven",
    "NotPermittedError",
    "OrderItemType",
    "OrderLine",
    "OrderOutcomeUnknownError",
    "PersonalizationResult",
    "RateLimitError",
    "ServerError",
    "SignedURL",
    "SubEvent",
    "Ticket",
    "TicketPulseError",
    "TicketStatus",
    "TicketType",
    "TicketURLResult",
    "TicketURLs",
    "UnexpectedResponseError",
    "UserEvent",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # Imported only when asked for: AsyncioClient's module is not needed by the
    # others, and AiohttpClient needs the optional aiohttp.
    if name == "AsyncioClient":
        from ._asyncio import AsyncioClient

        return AsyncioClient
    if name == "AiohttpClient":
        try:
            from ._aiohttp import AiohttpClient
        except ImportError as exc:
            raise ImportError(
                'AiohttpClient needs aiohttp: pip install "ticketpulse[aiohttp]"'
            ) from exc
        return AiohttpClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
