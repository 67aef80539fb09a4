"""The one cattrs converter: JSON data to models and back (SPEC §3).

Hooks are registered once at import and the structure functions for the
response types are built once, not per call. The clients read answers through
:func:`fast_reader`: generated code (and orjson, when installed) for the common
shapes, with exactly the same results; this converter for everything else.

Reading is lenient where the API is loose (numeric strings, either date
format, unknown fields and ticket statuses, ``[]`` for an empty PHP object) and
strict everywhere else: a value of the wrong type raises
:class:`UnexpectedResponseError` naming its JSON path.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, cast

import attrs
import cattrs
from cattrs.cols import is_sequence, list_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from . import _json
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

__all__ = [
    "MISS",
    "compile_reader",
    "converter",
    "fast_reader",
    "floats_are_exact",
    "structurer",
    "to_exact",
    "unstructure_body",
]

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


# Built on first use (cattrs caches what a factory returns), which keeps
# `import ticketpulse` quick; a class's function asks for its fields' hooks when
# it is built, so the nested models come through this factory too.
_WITHOUT_NONE = frozenset({Attendee, BillingInformation, OrderLine, NewOrder})
converter.register_unstructure_hook_factory(
    lambda cls: isinstance(cls, type) and cls in _WITHOUT_NONE, _without_none
)


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


def fast_reader(cls: Any, exact: Callable[[bytes], T]) -> Callable[[bytes], T]:
    """Return a reader of body bytes into ``cls`` that gives exactly what ``exact`` gives.

    ``exact`` reads the body the reference way (``_core.read_json`` of
    :func:`structurer`). The fast path (:func:`compile_reader`, built on first
    use) returns the same model for the common shapes of an answer, sooner;
    for anything else, errors included, ``exact`` reads the body again.
    """
    state: list[Callable[[bytes], Any]] = []

    def read(body: bytes) -> T:
        if not state:  # generated on first use: keeps `import ticketpulse` quick
            state.append(compile_reader(cls, _fast()))
        fast = state[0]
        result = fast(body)
        return exact(body) if result is MISS else cast("T", result)

    return read


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


# --- Fast reading -----------------------------------------------------------
#
# For each response type, on the first answer read (never at `import
# ticketpulse`), fast_reader builds a reader that decodes the body and
# structures it with generated Python code: one function per model, the common
# shape of each field checked inline, the converter's own hook called for any
# other (so lenient reading is the same code in both paths). Whatever that code
# does not expect -- a missing field, an error of any kind -- makes it give up
# (MISS) and the body is read again the exact way, which gives the result or
# the error with its JSON path. The fast path only has to agree with the exact
# one on what it accepts.
#
# orjson, when installed, decodes about twice as fast as json but reads JSON
# numbers as floats. It is used only for bodies whose every number a float
# reproduces exactly: floats_are_exact scans the bytes for any number whose
# shortest float repr would differ from what the server wrote (29.950, 1e2, 16
# or more digits, integers beyond 64 bits...); such a body is decoded by _json.
# The scan may flag harmless text (a string containing "3e4", say): that only
# costs speed.

MISS: Any = object()
"""What a fast reader returns when the body needs the exact path."""

_ABSENT = object()

# Digits to "0" and "E" to "e", so that two plain substring searches find an
# exponent after a digit and a run of 19 digits (orjson turns an integer
# beyond 64 bits into a float).
_DIGITS = bytes.maketrans(b"123456789E", b"000000000e")
_LONG_INTEGER = b"0" * 19


@functools.cache
def _inexact_fraction() -> re.Pattern[bytes]:
    # A fraction whose float repr is not the written text: "0.0000x" (repr
    # turns to exponent notation), a trailing zero after a second fractional
    # digit ("29.950", "77.00"; "77.0" is its own repr), or more digits than a
    # float holds (15 always round-trip: at most 10 before the point with at
    # most 4 after, or at most 7 before with at most 8 after). Anchored on "."
    # (a literal the regex engine finds quickly). Compiled on first use.
    return re.compile(
        rb"\.(?:0000|[0-9]{9}|(?<=[0-9]{11}\.)|(?<=[0-9]{8}\.)[0-9]{5}"
        rb"|[0-9]*[0-9]0(?=[\s,\]}]|\Z))"
    )


def floats_are_exact(body: bytes) -> bool:
    """True when orjson's floats for ``body`` give exactly the Decimals ``_json`` would.

    That is, every JSON number with a fraction or an exponent is written as the
    shortest repr of its float, and no integer is too large for 64 bits.
    False for anything doubtful.
    """
    mapped = body.translate(_DIGITS)
    if b"0e" in mapped or _LONG_INTEGER in mapped:
        return False
    return _inexact_fraction().search(body) is None


def to_exact(value: Any) -> Any:
    """``value`` with floats, at any depth, turned into the Decimal of their repr.

    For free-form objects (``event_params``) decoded by orjson: after
    :func:`floats_are_exact`, that Decimal is the one ``_json`` gives.
    Containers without floats are returned as they are.
    """
    kind = value.__class__  # compared, not narrowed on: the casts below type the data
    if kind is float:
        result = Decimal(float.__repr__(value))
        if not result.is_finite():
            raise ValueError("not a finite number")
        return result
    if kind is dict:
        items = cast("dict[str, Any]", value)
        converted = {key: to_exact(item) for key, item in items.items()}
        same = all(converted[key] is item for key, item in items.items())
        return items if same else converted
    if kind is list:
        elements = cast("list[Any]", value)
        converted_list = [to_exact(item) for item in elements]
        same = all(a is b for a, b in zip(converted_list, elements, strict=True))
        return elements if same else converted_list
    return value


def _orjson_loads() -> Callable[[bytes], Any] | None:
    try:
        import orjson  # optional; imported once answers are read
    except ImportError:
        return None
    return orjson.loads


def compile_reader(cls: Any, converter: cattrs.Converter) -> Callable[[bytes], Any]:
    """Build the fast reader of ``cls`` from body bytes: the model, or :data:`MISS`.

    ``converter`` is the non-detailed converter whose hooks handle every
    uncommon value, so that the two paths share their lenient rules.
    """
    structure = _Generator(converter).compile(cls)
    orjson_loads = _orjson_loads()

    def read(body: bytes) -> Any:
        try:
            return structure(decode(body))
        except Exception:  # noqa: BLE001 - anything unexpected: the exact path decides
            return MISS

    def decode(body: bytes) -> Any:
        if orjson_loads is not None and type(body) is bytes and floats_are_exact(body):
            try:
                return orjson_loads(body)
            except ValueError:
                pass  # a BOM or a lone surrogate, say, which _json reads; or not JSON
        return _json.loads(body)

    return read


_SIMPLE = (int, str, bool)


def _slots_set_by_init(cls: type[Any]) -> bool:
    """Whether ``cls.__init__`` only stores its arguments in slots.

    True for a slotted attrs class whose generated ``__init__`` has nothing
    else to do: no converters, validators, pre/post-init hooks or hash cache.
    Its instances can then be filled slot by slot (``object.__new__`` and each
    slot's ``__set__``, what the generated ``__init__`` does through
    ``object.__setattr__``), which is about a third cheaper than the call.
    """
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    if code is None or not code.co_filename.startswith("<attrs generated"):
        return False  # a hand-written __init__ may do anything
    if hasattr(cls, "__attrs_pre_init__") or hasattr(cls, "__attrs_post_init__"):
        return False
    slots = cls.__dict__.get("__slots__", ())
    if "_attrs_cached_hash" in slots:
        return False
    return all(
        field.init
        and field.converter is None
        and field.validator is None
        and field.alias == field.name
        and isinstance(getattr(cls, field.name, None), types.MemberDescriptorType)
        for field in attrs.fields(cls)
    )


class _Generator:
    """Writes, and execs once, the structure functions of a response type."""

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._namespace: dict[str, Any] = {
            "_ABSENT": _ABSENT,
            "_Decimal": Decimal,
            "_from_timestamp": datetime.fromtimestamp,
            "_UTC": UTC,
            "_to_exact": to_exact,
            "_new": object.__new__,
        }
        self._functions: dict[Any, str] = {}
        self._source: list[str] = []

    def compile(self, cls: Any) -> Callable[[Any], Any]:
        """The structure function of ``cls``: plain JSON data in, model out.

        It may empty the lists it is given (so decoded data is freed early):
        the data must not be used again.
        """
        args = typing.get_args(cls)
        if typing.get_origin(cls) is list and len(args) == 1 and self._generated(args[0]):
            # The usual answer, a list of models: each element's decoded tree is
            # dropped once read, so the garbage collector, which counts live
            # containers, runs far less often (and peak memory is lower).
            self._source.append(
                "def _read(o):\n"
                "    if type(o) is not list:\n"
                f"        return {self._hook(cls)}(o, {self._name('type', cls)})\n"
                "    out = []\n"
                "    for i in range(len(o)):\n"
                "        x = o[i]\n"
                "        o[i] = None\n"
                f"        out.append({self._function(args[0])}(x))\n"
                "    return out\n"
            )
        else:
            self._source.append(f"def _read(o):\n    return {self._expression(cls, 'o')}\n")
        code = compile("\n".join(self._source), f"<ticketpulse fast reader of {cls!r}>", "exec")
        exec(code, self._namespace)  # noqa: S102 - our own source, from the models' fields
        return cast("Callable[[Any], Any]", self._namespace["_read"])

    def _name(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{len(self._namespace)}"
        self._namespace[name] = value
        return name

    def _hook(self, hint: Any) -> str:
        """A call of the converter's own hook for ``hint``: the general case."""
        return f"{self._name('hook', self._converter.get_structure_hook(hint))}"

    def _expression(self, hint: Any, v: str) -> str:
        """Python code structuring the value in variable ``v`` as ``hint``."""
        hook = self._hook(hint)
        general = f"{hook}({v}, {self._name('type', hint)})"
        if hint in _SIMPLE:
            return f"({v} if type({v}) is {hint.__name__} else {general})"
        args = typing.get_args(hint)
        origin = typing.get_origin(hint)
        optional = len(args) == 2 and type(None) in args
        base = next((a for a in args if a is not type(None)), None) if optional else None
        if optional and base in _SIMPLE:
            return f"({v} if {v} is None or type({v}) is {base.__name__} else {general})"
        if optional and base is Decimal:
            # orjson's floats (finite: v - v is 0) read through their repr, as the hook does.
            return (
                f"(None if {v} is None else _Decimal(f'{{{v}!r}}')"
                f" if type({v}) is float and {v} - {v} == 0.0 else {general})"
            )
        if optional and base is datetime:
            return (
                f"(None if {v} is None else _from_timestamp({v}, _UTC)"
                f" if type({v}) is int else {general})"
            )
        if origin is list and len(args) == 1 and self._generated(args[0]):
            item = self._function(args[0])
            return f"([{item}(x) for x in {v}] if type({v}) is list else {general})"
        if self._generated(hint):
            return f"{self._function(hint)}({v})"
        if origin is dict and args == (str, Any):
            typed = self._name("type", hint)
            return f"({v} if type({v}) is dict and not {v} else {hook}(_to_exact({v}), {typed}))"
        return general

    @staticmethod
    def _generated(hint: Any) -> bool:
        """Whether ``hint`` is a model this generator writes a function for.

        Models with private or non-init fields are left to cattrs (its naming
        rules for them are not repeated here).
        """
        if not (isinstance(hint, type) and attrs.has(hint)):
            return False
        return all(f.init and not f.name.startswith("_") for f in attrs.fields(hint))

    def _function(self, cls: type[Any]) -> str:
        if cls in self._functions:
            return self._functions[cls]
        name = f"_structure_{cls.__name__}_{len(self._functions)}"
        self._functions[cls] = name  # before the fields: a model may contain itself
        hints = typing.get_type_hints(cls)
        model = self._name("model", cls)
        direct = _slots_set_by_init(cls)
        lines = [
            f"def {name}(o):",
            "    if type(o) is not dict:",
            f"        return {self._hook(cls)}(o, {model})",
            "    get = o.get",
        ]
        if direct:
            lines.append(f"    r = _new({model})")
        arguments: list[str] = []
        for index, field in enumerate(attrs.fields(cls)):
            hint = hints[field.name]
            key = repr(field.name)
            default = field.default
            if default is attrs.NOTHING:
                lines.append(f"    v = o[{key}]")
                value = self._expression(hint, "v")
            elif default is None and type(None) in typing.get_args(hint):
                # Absent and null both give None here, as through the hook.
                lines.append(f"    v = get({key})")
                value = self._expression(hint, "v")
            else:
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    factory = cast("Any", default)
                    if factory.takes_self:
                        return self._fallback(cls, name)
                    made = f"{self._name('factory', factory.factory)}()"
                else:
                    made = self._name("default", default)
                lines.append(f"    v = get({key}, _ABSENT)")
                value = f"{made} if v is _ABSENT else {self._expression(hint, 'v')}"
            if direct:
                setter = self._name("set", getattr(cls, field.name).__set__)
                lines.append(f"    {setter}(r, {value})")
            else:
                lines.append(f"    a{index} = {value}")
                kw_only = field.kw_only
                arguments.append(f"{field.alias}=a{index}" if kw_only else f"a{index}")
        if direct:
            lines.append("    return r")
        else:
            arguments.sort(key=lambda argument: "=" in argument)  # positional first
            lines.append(f"    return {model}({', '.join(arguments)})")
        self._source.append("\n".join(lines) + "\n")
        return name

    def _fallback(self, cls: type[Any], name: str) -> str:
        """Leave ``cls`` to the converter's hook, under the name already handed out."""
        hook = self._hook(cls)
        model = self._name("model", cls)
        self._source.append(f"def {name}(o):\n    return {hook}(o, {model})\n")
        return name


# Built once: the structure functions for every response type.
read_events: Callable[[Any], list[Event]] = structurer(list[Event])
read_user_events: Callable[[Any], list[UserEvent]] = structurer(list[UserEvent])
read_tickets: Callable[[Any], list[Ticket]] = structurer(list[Ticket])
read_personalization: Callable[[Any], PersonalizationResult] = structurer(PersonalizationResult)
