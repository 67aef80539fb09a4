"""The exception tree (SPEC §4).

Every exception the SDK raises on purpose is a :class:`TicketPulseError`. Status
errors carry the plain-text body the API sent, the method and the URL with the
key redacted, so they can be logged as they are.
"""

from __future__ import annotations

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "FileNotReadyError",
    "InvalidRequestError",
    "NotFoundError",
    "NotPermittedError",
    "OrderOutcomeUnknownError",
    "RateLimitError",
    "ServerError",
    "TicketPulseError",
    "UnexpectedResponseError",
    "UsageError",
    "status_error",
]


class TicketPulseError(Exception):
    """Base class of every error raised by ``ticketpulse``."""


class ConfigurationError(TicketPulseError, ValueError):
    """A missing or invalid setting: no API key, a non-https base URL, ..."""


class InvalidRequestError(TicketPulseError, ValueError):
    """An argument is invalid. Raised before anything is sent."""


class UsageError(TicketPulseError, RuntimeError):
    """The client cannot serve this call as used: it is closed, or it belongs to
    another event loop. The message says what to do instead."""


class _CallError(TicketPulseError):
    """An error about one call: ``message``, ``method`` and ``url`` (key redacted)."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        return f"{self.message}{where}"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.__dict__))


class APIConnectionError(_CallError):
    """The API could not be reached, or the connection failed during the call.

    ``method`` and ``url`` (key redacted) say which call failed.
    """


class APITimeoutError(APIConnectionError):
    """The call timed out (connecting, waiting for the answer, or reading it)."""


class OrderOutcomeUnknownError(APIConnectionError):
    """An order call failed after the request may have reached the server.

    The order may or may not have been created (or updated). It is never retried
    automatically: check the order's state (for example with
    ``get_user_events`` / ``get_event_tickets``) before trying again.
    ``status_code`` is set when the server answered with a 5xx status.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", status_code: int | None = None
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code


class UnexpectedResponseError(_CallError):
    """A successful (2xx) answer that is not what the API documentation promises.

    The message names the JSON path of the first problem, e.g.
    ``$[3].tickets[0].price``.
    """


class APIStatusError(_CallError):
    """The API answered with a non-2xx status.

    Attributes: ``status_code``; ``message``, the plain-text body the API sent
    (e.g. ``"Event not found"``); ``method``; ``url`` with the key redacted.
    """

    def __init__(self, message: str, *, status_code: int, method: str, url: str) -> None:
        super().__init__(message, method=method, url=url)
        self.status_code = status_code

    def __str__(self) -> str:
        shown = self.message if self.message else "(empty body)"
        return f"{self.status_code} {shown} ({self.method} {self.url})"


class BadRequestError(APIStatusError):
    """400: a parameter is missing or invalid (e.g. "Wordpress user not specified")."""


class NotPermittedError(APIStatusError):
    """401: the resource was not found or the caller may not access it."""


class FileNotReadyError(NotPermittedError):
    """401 "File not found": the QR image or order PDF has not been generated yet.

    A ticket's QR code exists once the ticket is personalised (active); an
    order's PDF once all its tickets are personalised.
    """


class AuthenticationError(APIStatusError):
    """403: the key is missing, wrong or suspended, or the account may not access this.

    Never retried: the API warns that repeated authentication failures may
    suspend the key.
    """


class NotFoundError(APIStatusError):
    """404: the resource does not exist (or, for orders, the request was refused)."""


class RateLimitError(APIStatusError):
    """429: too many requests. Retried automatically, honouring Retry-After.

    ``retry_after``: the seconds the server asked to wait (its ``Retry-After``,
    in seconds or as an HTTP date), or ``None`` when it did not say.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str,
        url: str,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, method=method, url=url)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the API or a gateway in front of it failed."""


def _rebuild(cls: type[Exception], state: dict[str, object]) -> Exception:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: NotPermittedError,
    403: AuthenticationError,
    404: NotFoundError,
    429: RateLimitError,
}

# The exact body the API sends when a QR image or a PDF does not exist yet.
FILE_NOT_FOUND = "File not found"


def status_error(status_code: int, message: str, *, method: str, url: str) -> APIStatusError:
    """Build the exception for a non-2xx answer (``url`` must already be redacted)."""
    cls: type[APIStatusError]
    if status_code == 401 and message == FILE_NOT_FOUND:
        cls = FileNotReadyError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status_code, APIStatusError)
    return cls(message, status_code=status_code, method=method, url=url)
