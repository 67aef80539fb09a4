"""Parsing a large GET /events answer (target 5): the SDK against pydantic v2.

The document: 200 events, each with 10 ticket types and 5 sub-events of 10
ticket types (about 1.6 MB), with the fields of the API doc: Unix
timestamps (some null), prices as strings on events and sub-events and as
JSON numbers on ticket types, ``event_params`` objects, nullable strings.

- SDK: bytes to ``list[ticketpulse.Event]`` through exactly the function the
  clients use to read a GET /events answer (``_endpoints.get_events().read``).
- pydantic: ``TypeAdapter(list[EventModel]).validate_json(bytes)`` on frozen
  models with the same fields and types: ``Decimal`` prices, aware UTC
  datetimes from Unix ints, the same optional fields, extra fields ignored.
  (Decimals are compared by value: the SDK keeps ``77.0`` as written,
  pydantic reads it as ``77``.)

Both results are checked equal, field by field, before timing. A round times
``repeats`` parses of each, alternating which goes first, in process CPU
time; the figure is the per-round ratio SDK / pydantic. ``json.loads`` and
``orjson.loads`` of the same bytes are timed alongside for context.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, TypeAdapter

from ._common import summary

__all__ = ["EventModel", "make_events_json", "run_parse"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class TicketTypeModel(_Frozen):
    id: int
    name: str | None = None
    stock: int | None = None
    price: Decimal | None = None
    status: int | None = None
    date: AwareDatetime | None = None
    enabled: bool | None = None


class SubEventModel(_Frozen):
    id: int
    name: str | None = None
    status: int | None = None
    stock: int | None = None
    price: Decimal | None = None
    featured: bool | None = None
    tickets: list[TicketTypeModel] = []
    manage_price_per_ticket: bool | None = None
    manage_stock_per_ticket: bool | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    event_params: dict[str, Any] = {}
    password: str | None = None
    thumbnail: str | None = None
    location: str | None = None
    deleted_at: AwareDatetime | None = None


class EventModel(_Frozen):
    id: int
    name: str | None = None
    city: str | None = None
    start_date: AwareDatetime | None = None
    end_date: AwareDatetime | None = None
    price: Decimal | None = None
    stock: int | None = None
    status: int | None = None
    tickets: list[TicketTypeModel] = []
    children: list[SubEventModel] = []


def make_events_json(
    events: int = 200, ticket_types: int = 10, sub_events: int = 5, seed: int = 7
) -> bytes:
    """A GET /events answer of the given shape, as the API would write it."""
    rng = random.Random(seed)
    next_id = iter(range(10, 10**9))
    base = 1_753_920_000

    def ticket_type() -> dict[str, Any]:
        return {
            "id": next(next_id),
            "name": rng.choice(["Regular", "VIP", "Early Bird", "Student", "Late"]),
            "stock": rng.randint(0, 1000),
            "price": round(rng.uniform(5, 150), 2),
            "status": 1,
            "date": None if rng.random() < 0.2 else base + rng.randint(0, 10**7),
            "enabled": rng.random() < 0.9,
        }

    def price() -> str:
        return f"{rng.uniform(5, 150):.2f}"

    data = []
    for index in range(events):
        start = base + rng.randint(0, 10**7)
        children = []
        for day in range(sub_events):
            sub_start = start + day * 86400
            children.append(
                {
                    "id": next(next_id),
                    "name": f"Day {day + 1}",
                    "status": 1,
                    "stock": rng.randint(0, 500),
                    "price": price(),
                    "featured": rng.random() < 0.2,
                    "tickets": [ticket_type() for _ in range(ticket_types)],
                    "manage_price_per_ticket": True,
                    "manage_stock_per_ticket": rng.random() < 0.5,
                    "start_date": sub_start,
                    "end_date": sub_start + 43200,
                    "event_params": {} if rng.random() < 0.7 else {"door": "B", "age": 18},
                    "password": None,
                    "thumbnail": f"event-{index}-{day}.jpg",
                    "location": rng.choice(["Vondelpark", "Ziggo Dome", "Paradiso", None]),
                    "deleted_at": None if rng.random() < 0.95 else start - 86400,
                }
            )
        data.append(
            {
                "id": next(next_id),
                "name": f"Summer Festival {2025 + index % 5} #{index}",
                "city": rng.choice(["Amsterdam", "Rotterdam", "Utrecht", "Den Haag"]),
                "start_date": start,
                "end_date": None if rng.random() < 0.1 else start + sub_events * 86400,
                "price": price(),
                "stock": rng.randint(0, 5000),
                "status": 1,
                "tickets": [ticket_type() for _ in range(ticket_types)],
                "children": children,
            }
        )
    return json.dumps(data, separators=(",", ":")).encode()  # compact, as PHP writes it


def _sdk_reader() -> tuple[str, Callable[[bytes], Any]]:
    """The function the SDK's clients read a GET /events body with."""
    from ticketpulse import _endpoints

    return "ticketpulse._endpoints.get_events().read", _endpoints.get_events().read


def _sdk_reader_without_orjson() -> Callable[[bytes], Any]:
    """The same reader as a client builds it when orjson (an optional extra) is absent."""
    from ticketpulse import Event, _convert
    from ticketpulse._convert import read_events
    from ticketpulse._core import read_json

    real = _convert._orjson_loads
    _convert._orjson_loads = lambda: None  # type: ignore[assignment]
    try:
        read = _convert.fast_reader(list[Event], read_json(read_events))
        read(b"[]")  # the fast path is generated on first use: now, without orjson
    finally:
        _convert._orjson_loads = real
    return read


_FIELDS = {
    "event": ("id", "name", "city", "start_date", "end_date", "price", "stock", "status"),
    "ticket_type": ("id", "name", "stock", "price", "status", "date", "enabled"),
    "sub_event": (
        "id",
        "name",
        "status",
        "stock",
        "price",
        "featured",
        "manage_price_per_ticket",
        "manage_stock_per_ticket",
        "start_date",
        "end_date",
        "event_params",
        "password",
        "thumbnail",
        "location",
        "deleted_at",
    ),
}


def _same(kind: str, sdk: Any, model: Any, where: str) -> None:
    for name in _FIELDS[kind]:
        a, b = getattr(sdk, name), getattr(model, name)
        if a != b or type(a) is not type(b):
            raise AssertionError(f"{where}.{name}: SDK {a!r} != pydantic {b!r}")
        if isinstance(a, datetime) and (a.utcoffset() != b.utcoffset() or a.tzinfo is None):
            raise AssertionError(f"{where}.{name}: {a!r} vs {b!r}")


def check_equivalent(sdk_events: list[Any], models: list[EventModel]) -> None:
    """The SDK's and pydantic's results hold the same values, field by field."""
    assert len(sdk_events) == len(models)
    for i, (event, model) in enumerate(zip(sdk_events, models, strict=True)):
        _same("event", event, model, f"$[{i}]")
        for j, (a, b) in enumerate(zip(event.tickets, model.tickets, strict=True)):
            _same("ticket_type", a, b, f"$[{i}].tickets[{j}]")
        for k, (child, child_model) in enumerate(zip(event.children, model.children, strict=True)):
            _same("sub_event", child, child_model, f"$[{i}].children[{k}]")
            for j, (a, b) in enumerate(zip(child.tickets, child_model.tickets, strict=True)):
                _same("ticket_type", a, b, f"$[{i}].children[{k}].tickets[{j}]")


def _cpu(function: Callable[[bytes], Any], body: bytes) -> float:
    start = time.process_time()
    function(body)
    return time.process_time() - start


def run_parse(
    *, rounds: int = 9, repeats: int = 3, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    import orjson

    body = make_events_json()
    reader_name, sdk_read = _sdk_reader()
    sdk_stdlib_read = _sdk_reader_without_orjson()
    adapter = TypeAdapter(list[EventModel])
    check_equivalent(sdk_read(body), adapter.validate_json(body))
    check_equivalent(sdk_stdlib_read(body), adapter.validate_json(body))
    for _ in range(2):  # warm-up
        sdk_read(body)
        adapter.validate_json(body)
    sdk_ms: list[float] = []
    pydantic_ms: list[float] = []
    ratios: list[float] = []
    json_ms: list[float] = []
    orjson_ms: list[float] = []
    stdlib_ms: list[float] = []
    stdlib_ratios: list[float] = []
    for index in range(rounds):
        s = p = 0.0
        for turn in range(repeats):  # S P, P S, S P ...: drift hits both alike
            if (index + turn) % 2:
                p += _cpu(adapter.validate_json, body)
                s += _cpu(sdk_read, body)
            else:
                s += _cpu(sdk_read, body)
                p += _cpu(adapter.validate_json, body)
        s, p = s / repeats, p / repeats
        sdk_ms.append(s * 1000)
        pydantic_ms.append(p * 1000)
        ratios.append(s / p)
        stdlib = _cpu(sdk_stdlib_read, body)
        stdlib_ms.append(stdlib * 1000)
        stdlib_ratios.append(stdlib / p)
        json_ms.append(_cpu(json.loads, body) * 1000)
        orjson_ms.append(_cpu(orjson.loads, body) * 1000)
        progress(
            f"  parse round {index + 1}/{rounds}: sdk {s * 1000:.1f} ms, pydantic {p * 1000:.1f} ms"
        )
    return {
        "bytes": len(body),
        "shape": "200 events x (10 ticket types + 5 sub-events x 10 ticket types)",
        "sdk_reader": reader_name,
        "clock": "process CPU time (time.process_time)",
        "repeats_per_round": repeats,
        "sdk_ms": summary(sdk_ms),
        "pydantic_ms": summary(pydantic_ms),
        "ratio": summary(ratios),
        "sdk_without_orjson_ms": summary(stdlib_ms),
        "ratio_without_orjson": summary(stdlib_ratios),
        "json_loads_ms": summary(json_ms),
        "orjson_loads_ms": summary(orjson_ms),
        "rounds": {"sdk_ms": sdk_ms, "pydantic_ms": pydantic_ms, "ratio": ratios},
    }
