"""Python SDK for the Ticket Pulse Partner API.

``Client`` (blocking) and ``AsyncClient`` (asyncio and trio) expose the same
methods; the models are frozen attrs classes; every error is a
:class:`TicketPulseError`. ``ticketpulse.testing`` holds an offline sandbox of
the whole API.
"""

from ._async_client import AsyncClient, AsyncTicketURLs
from ._base import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_TIMEOUT,
    MAX_CONNECTIONS,
    NOT_GIVEN,
    NotGiven,
)
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
    UsageError,
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
    TicketURL,
    TicketURLError,
    TicketURLResult,
    UserEvent,
)
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_TIMEOUT",
    "MAX_CONNECTIONS",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncTicketURLs",
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
    "TicketURL",
    "TicketURLError",
    "TicketURLResult",
    "TicketURLs",
    "UnexpectedResponseError",
    "UsageError",
    "UserEvent",
    "__version__",
]
