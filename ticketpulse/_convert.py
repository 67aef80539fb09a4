"""The one cattrs converter: JSON data to models and back (SPEC §3).

Hooks are registered once at import and the structure functions for the
response types are built once, not per call.

Reading is lenient where the API is loose (numeric strings, either date
format, unknown fields and ticket statuses, ``[]`` for an empty PHP object) and
strict everywhere else: a value of the wrong type raises
:class:`UnexpectedResponseError` naming its JSON path.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.cols import is_sequence, list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from ._errors import UnexpectedResponseError
from ._models import (
    Attendee,
    BillingInformation,
    Event,
    NewOrder,
    OrderItemType,
    OrderLine,
    PersonalizationResult,
    Ticket,
    TicketStatus,
    UserEvent,
)
from ._validate import NUMBER as _NUMERIC

__all__ = ["converter", "structurer", "unstructure_body"]

T = TypeVar("T")


_INTEGER = re.compile(r"\s*[-+]?[0-9]{1,18}\s*")
_MAX_INT = 2**63


def _structure_int(value: Any, _: type) -> int:
    if type(value) is int:
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    # Bounded first: int(Decimal("1e1000000")) would build a million-digit number.
    if isinstance(value, (Decimal, float)) and abs(float(value)) < _MAX_INT and int(value) == value:
        return int(value)
    raise ValueError(f"expected an integer, got {_describe(value)}")


def _structure_str(value: Any, _: type) -> str:
    if type(value) is str:
        return value
    # References such as ticket ids may come as bare numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"expected a string, got {_describe(value)}")


_TRUE = frozenset({"1", "true"})
_FALSE = frozenset({"0", "false", ""})


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)  # PHP backends often send 0/1
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise ValueError(f"expected a boolean, got {_describe(value)}")


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str) and _NUMERIC.fullmatch(value):
        result = Decimal(value.strip())
    elif isinstance(value, float):
        result = Decimal(repr(value))  # shortest repr: 29.95 stays 29.95
    else:
        raise ValueError(f"expected a decimal number, got {_describe(value)}")
    if not result.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def _structure_datetime(value: Any, _: type) -> datetime:
    """Either documented date format: a Unix timestamp or an ISO-8601 string.

    Unix timestamps (int, float, Decimal or a numeric string) are UTC. ISO
    strings keep their offset; a naive one is taken as UTC.
    """
    if type(value) is int:  # the common case: a Unix timestamp
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp out of range: {value!r}") from None
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        return _from_timestamp(value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC.fullmatch(text):
            return _from_timestamp(Decimal(text))
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"expected a Unix timestamp or ISO-8601 date, got {value!r}") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise ValueError(f"expected a Unix timestamp or ISO-8601 date, got {_describe(value)}")


def _from_timestamp(value: int | Decimal | float) -> datetime:
    try:
        return datetime.fromtimestamp(float(value) if not isinstance(value, int) else value, UTC)
    except (OverflowError, OSError, ValueError, InvalidOperation):
        raise ValueError(f"timestamp out of range: {value!r}") from None


def _structure_ticket_status(value: Any, _: type) -> TicketStatus:
    return TicketStatus(_structure_int(value, int))


def _structure_item_type(value: Any, _: type) -> OrderItemType | str:
    text = _structure_str(value, str)
    try:
        return OrderItemType(text)
    except ValueError:
        return text


def _structure_params(value: Any, _: type) -> dict[str, Any]:
    if isinstance(value, dict):
        return cast("dict[str, Any]", value)
    if value == []:
        return {}  # PHP's json_encode writes an empty array for an empty map
    raise ValueError(f"expected an object, got {_describe(value)}")


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


_SCALARS: dict[type, Callable[[Any, type], Any]] = {
    int: _structure_int,
    str: _structure_str,
    bool: _structure_bool,
    Decimal: _structure_decimal,
    datetime: _structure_datetime,
}


def _optional(cls: type, hook: Callable[[Any, type], Any]) -> Callable[[Any, type], Any]:
    # One function per ``X | None`` type, with the common case inline: much
    # cheaper than cattrs' generic Optional dispatch (most fields are optional).
    def structure(value: Any, _: type) -> Any:
        if value is None:
            return None
        if type(value) is cls and cls is not Decimal:
            return value
        return hook(value, cls)

    return structure


def _make_converter(detailed: bool) -> cattrs.Converter:
    """A converter with the SDK's hooks; ``detailed`` records JSON paths of errors."""
    made = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    for cls, hook in _SCALARS.items():
        made.register_structure_hook(cls, hook)
        made.register_structure_hook(cls | None, _optional(cls, hook))
    made.register_structure_hook(TicketStatus, _structure_ticket_status)
    made.register_structure_hook(OrderItemType | str, _structure_item_type)
    made.register_structure_hook_func(lambda t: t == dict[str, Any], _structure_params)

    # cattrs would iterate a dict's keys as a list, or fail obscurely on a list
    # given for an object: check the JSON shape first.
    def object_factory(cls: type[Any]) -> Callable[[Any, type], Any]:
        base = make_dict_structure_fn(cls, made)

        def structure(value: Any, _: type) -> Any:
            if type(value) is not dict:
                raise ValueError(f"expected an object, got {_describe(value)}")
            return base(cast("dict[str, Any]", value), cls)

        return structure

    def list_factory(cls: Any) -> Callable[[Any, type], Any]:
        base = list_structure_factory(cls, made)

        def structure(value: Any, _: type) -> Any:
            if type(value) is list:
                return base(value, cls)
            if value == {}:
                return []  # PHP's json_encode may write an empty list as {}
            raise ValueError(f"expected a list, got {_describe(value)}")

        return structure

    made.register_structure_hook_factory(attrs.has, object_factory)
    made.register_structure_hook_factory(is_sequence, list_factory)
    return made


# The one set of hooks, in two converters: a fast one for every answer, and one
# that records where a problem is, run only to explain a failure.
converter = _make_converter(detailed=True)


@functools.cache
def _fast() -> cattrs.Converter:
    return _make_converter(detailed=False)


# Outgoing: datetimes in UTC with "Z"; Decimal kept for the exact JSON writer;
# None fields left out of the body.
def _unstructure_datetime(value: datetime) -> str:
    # Naive means UTC here, as when reading (the clients refuse naive input).
    utc = value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z"


converter.register_unstructure_hook(datetime, _unstructure_datetime)
converter.register_unstructure_hook(Decimal, lambda value: value)


def _without_none(cls: type[Any]) -> Callable[[Any], dict[str, Any]]:
    base = make_dict_unstructure_fn(cls, converter)

    def unstructure(obj: Any) -> dict[str, Any]:
        return {k: v for k, v in base(obj).items() if v is not None}

    return unstructure


# Leaves first: a class's function captures the hooks of its fields when built.
for _cls in (Attendee, BillingInformation, OrderLine, NewOrder):
    converter.register_unstructure_hook(_cls, _without_none(_cls))


def structurer(cls: Any) -> Callable[[Any], Any]:
    """Return a function reading JSON data into ``cls``, raising UnexpectedResponseError.

    Built once per response type, on first use; the path of the first problem
    is in the message.
    """
    hooks: list[Callable[[Any, Any], Any]] = []

    def structure(data: Any) -> Any:
        if not hooks:  # generated on first use: keeps `import ticketpulse` quick
            hooks.append(_fast().get_structure_hook(cls))
            hooks.append(converter.get_structure_hook(cls))
        fast, detailed = hooks
        try:
            return fast(data, cls)
        except Exception:  # noqa: BLE001, S110 - any failure is the response's: explained below
            pass
        try:
            detailed(data, cls)
        except Exception as exc:  # noqa: BLE001
            raise UnexpectedResponseError(_explain(exc)) from None
        raise UnexpectedResponseError("unexpected response: invalid value @ $")

    return structure


def _explain(exc: BaseException) -> str:
    if isinstance(exc, (cattrs.BaseValidationError, cattrs.ForbiddenExtraKeysError)):
        messages = cattrs.transform_error(exc, path="$", format_exception=_format)
        shown = "; ".join(messages[:3])
        more = f" (and {len(messages) - 3} more)" if len(messages) > 3 else ""
        return f"unexpected response: {shown}{more}"
    return f"unexpected response: {_format(exc, None)} @ $"


def _format(exc: BaseException, _type: Any) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, (ValueError, TypeError)) and str(exc):
        text = str(exc)
        # cattrs' own messages for a mapping or list of the wrong kind
        if "argument after ** must be a mapping" in text or "must be a mapping" in text:
            return "expected an object"
        return text
    return f"invalid value ({type(exc).__name__})"


def unstructure_body(value: Any) -> Any:
    """Turn a model into plain JSON-ready data (None fields dropped)."""
    return converter.unstructure(value)


# Built once: the structure functions for every response type.
read_events: Callable[[Any], list[Event]] = structurer(list[Event])
read_user_events: Callable[[Any], list[UserEvent]] = structurer(list[UserEvent])
read_tickets: Callable[[Any], list[Ticket]] = structurer(list[Ticket])
read_personalization: Callable[[Any], PersonalizationResult] = structurer(PersonalizationResult)
