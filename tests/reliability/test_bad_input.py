"""Bad input, with hypothesis (issue 5, suite 2).

- Arguments: arbitrary invalid values for every parameter of every public
  method of every client give ``InvalidRequestError`` (``TypeError`` tolerated
  for a wrong type; ``ConfigurationError`` for settings) and send nothing: the
  sandbox's request log stays empty.
- Answers: arbitrary, mutated and broken JSON (and non-JSON bytes) as the 200
  answer of every endpoint gives a model of the right shape or
  ``UnexpectedResponseError``, never any other exception.
- Crafted strings (``&key=``, ``?``, ``#``, ``/../``, ``%26``, CR/LF, unicode)
  never change the request's path, query or headers.

Every test runs a quick budget of examples in the default run and a large one
under ``nox -s reliability``; the examples run are counted and printed in the
terminal summary ("bad inputs tried").
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import parse_qsl

import anyio.from_thread
import attrs
import httpx
import pytest
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ticketpulse
from tests._clients import client_class
from ticketpulse import (
    Attendee,
    BillingInformation,
    ConfigurationError,
    Event,
    InvalidRequestError,
    NewOrder,
    OrderLine,
    PersonalizationResult,
    SignedURL,
    Ticket,
    TicketURLResult,
    UnexpectedResponseError,
    UserEvent,
)
from ticketpulse._models import to_decimal
from ticketpulse.testing import RunningServer, Sandbox

from .conftest import USER, Figures, with_marks

KEY = Sandbox.DEMO_API_KEY
QUICK, FULL = "quick", "full"
BUDGETS = {QUICK: 1, FULL: 6}  # multiplied by each test's base number of examples

budgets = pytest.mark.parametrize(
    "budget",
    [pytest.param(QUICK, id=QUICK), pytest.param(FULL, id=FULL, marks=pytest.mark.reliability)],
)


def run_examples(
    figures: Figures, name: str, budget: str, base: int, strategy: Any, check: Callable[..., None]
) -> None:
    """Run ``check`` on ``base * BUDGETS[budget]`` examples of ``strategy``, counting them."""

    @settings(
        max_examples=base * BUDGETS[budget],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def examples(value: Any) -> None:
        figures.example(name)
        check(value)

    examples()


# --------------------------------------------------------------------------- values

CONTROL = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]) + "\u2028\u2029"
SURROGATES = "\ud800-\udfff"


class Opaque:
    """A value of no particular type."""

    def __repr__(self) -> str:
        return "Opaque()"


# Strings with a lone surrogate (no UTF-8 form, cannot be sent at all), and
# ints beyond 2**63 and beyond 4300 digits (which Python will not even write in
# decimal) are among the values.
unencodable = st.tuples(
    st.text(max_size=5), st.characters(categories=["Cs"]), st.text(max_size=5)
).map("".join)
text_values = st.one_of(st.text(max_size=30), unencodable)
MAX_ID = 2**63 - 1


class Huge:
    """An int too long for Python to write in decimal (4300 digits), built at call time.

    (Hypothesis must be able to print every example; it cannot print this int.)
    """

    def __init__(self, sign: int = 1) -> None:
        self.sign = sign

    def __repr__(self) -> str:
        return "-10**5000" if self.sign < 0 else "10**5000"

    def value(self) -> int:
        return self.sign * 10**5000


ints = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([MAX_ID + 1, 2**64, -(2**64)]),
)
scalars = st.one_of(
    ints,
    st.booleans(),
    st.floats(),
    text_values,
    st.binary(max_size=20),
    st.none(),
    st.decimals(allow_nan=True),
    st.just(Fraction(1, 3)),
    st.just(1 + 2j),
    st.just(datetime(2025, 1, 1)),
    st.builds(Opaque),
    st.just(object()),
    st.just(type),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(text_values, inner, max_size=3),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=6,
)


def not_(valid: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: not valid(value)


def is_positive_int(value: Any) -> bool:
    """An id the API can take: a positive int that fits its 64-bit columns."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def is_good_text(value: Any) -> bool:
    if not isinstance(value, str) or value.strip() == "":
        return False
    return not re.search(f"[{CONTROL}{SURROGATES}]", value)


def with_control(text: st.SearchStrategy[str] = text_values) -> st.SearchStrategy[str]:
    """A string with at least one control character somewhere."""
    return st.tuples(text, st.sampled_from(CONTROL), text).map("".join)


bad_ids = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=MAX_ID + 1),
    st.sampled_from([Huge(), Huge(-1), 2**64]),
    st.sampled_from([True, False, 1.0, "1", "12", b"1", Decimal(12), None, [1], {"id": 1}]),
    anything.filter(not_(is_positive_int)),
)
bad_texts = st.one_of(
    st.sampled_from(["", " ", "   ", "\t", "\n", "a\r\nX-Injected: 1", "\x00", "a\u2028b"]),
    with_control(),
    anything.filter(lambda v: not isinstance(v, str)),
)
bad_optional_texts = st.one_of(
    with_control(), anything.filter(lambda v: v is not None and not isinstance(v, str))
)
bad_references = st.one_of(
    bad_texts, st.text(st.characters(codec="ascii", min_codepoint=0x21), min_size=201)
)
bad_concurrency = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=1025),
    anything.filter(lambda v: isinstance(v, bool) or not isinstance(v, int)),
)


def is_amount(value: Any) -> bool:
    try:
        to_decimal(value)
    except InvalidRequestError:
        return False
    return True


bad_amounts = st.one_of(
    st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), float("inf")]),
    st.sampled_from(["", "abc", "1,5", "1_000", "0x10", "nan", "Infinity", "١٢"]),
    anything.filter(not_(is_amount)),
)
bad_datetimes = st.one_of(
    st.datetimes(timezones=st.none()),  # naive: ambiguous
    anything.filter(lambda v: v is not None and not isinstance(v, datetime)),
)


@dataclass(frozen=True)
class Build:
    """A model built only at call time: its constructor may refuse the values too."""

    cls: Any
    kwargs: dict[str, Any] = field(default_factory=dict)

    def make(self) -> Any:
        return self.cls(**{k: resolve(v) for k, v in self.kwargs.items()})


class Here:
    """Stands for the test's download directory (a valid destination)."""

    def __repr__(self) -> str:
        return "HERE"


HERE = Here()


def resolve(value: Any, here: Path | None = None) -> Any:
    if isinstance(value, Build):
        return value.make()
    if isinstance(value, Here):
        assert here is not None
        return here
    if isinstance(value, Huge):
        return value.value()
    if isinstance(value, list):
        return [resolve(v, here) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve(v, here) for v in value)
    return value


def good_line(**changes: Any) -> Build:
    fields = {
        "name": "General Admission",
        "quantity": 1,
        "product_id": 101,
        "unit_price": Decimal("29.95"),
        "tp_event_ticket_id": 45,
    }
    return Build(OrderLine, {**fields, **changes})


def good_attendee(**changes: Any) -> Build:
    fields = {"ticket_id": "a3f9b", "first_name": "Jane", "last_name": "Doe"}
    fields |= {"email": "jane@example.com", "tel": "+31612345678"}
    return Build(Attendee, {**fields, **changes})


@st.composite
def one_bad(draw: st.DrawFn, good: dict[str, Any], bad: dict[str, st.SearchStrategy[Any]]) -> dict:
    """``good`` with one field (or several) replaced by a bad value."""
    chosen = draw(st.lists(st.sampled_from(sorted(bad)), min_size=1, max_size=2, unique=True))
    return {**good, **{name: draw(bad[name]) for name in chosen}}


ORDER_TEXT_FIELDS = [
    "wp_order_id",
    "payment_method_title",
    "payment_method",
    "ip_address",
    "currency",
    "locale",
    "my_tickets_url",
]
BILLING_FIELDS = [f.name for f in attrs.fields(BillingInformation)]

bad_lines = st.one_of(
    st.builds(
        lambda kw: good_line(**kw),
        one_bad(
            {},
            {
                "name": bad_texts,
                "quantity": bad_ids,
                "product_id": bad_ids,
                "unit_price": bad_amounts,
                "order_item_type": bad_texts,
                "tp_event_ticket_id": bad_ids.filter(lambda v: v is not None),
            },
        ),
    ),
    anything.filter(lambda v: not isinstance(v, OrderLine)),
)
bad_billing = st.one_of(
    anything.filter(lambda v: v is not None and not isinstance(v, BillingInformation)),
    st.builds(
        lambda kw: Build(BillingInformation, kw),
        one_bad({}, dict.fromkeys(BILLING_FIELDS, bad_optional_texts)),
    ),
)
bad_order_fields: dict[str, st.SearchStrategy[Any]] = {
    **dict.fromkeys(ORDER_TEXT_FIELDS, bad_optional_texts),
    "wp_user_id": bad_ids.filter(lambda v: v is not None),
    "order_total": bad_amounts.filter(lambda v: v is not None),
    "date_created": bad_datetimes,
    "date_paid": bad_datetimes,
    "billing_information": bad_billing,
    "order_lines": st.one_of(
        st.lists(bad_lines, min_size=1, max_size=2).flatmap(
            lambda bad: st.permutations([good_line(), *bad])
        ),
        anything.filter(lambda v: not isinstance(v, list)),
        st.tuples(st.just(good_line())).map(tuple),  # a tuple is not the list it must be
    ),
}


def bad_orders(*, lines_required: bool) -> st.SearchStrategy[Any]:
    good = {"wp_user_id": USER, "order_lines": [good_line()]}
    options = [
        st.builds(lambda kw: Build(NewOrder, kw), one_bad(good, bad_order_fields)),
        anything.filter(lambda v: not isinstance(v, NewOrder) and v is not None),
        # The order as a dict, the way the API documents it: still not a NewOrder.
        st.just({"wp_user_id": USER, "order_lines": [{"name": "GA", "quantity": 1}]}),
    ]
    if lines_required:
        options.append(st.just(Build(NewOrder, {"wp_user_id": USER})))  # no lines
    return st.one_of(options)


bad_attendee_lists = st.one_of(
    st.lists(
        st.one_of(
            st.builds(
                lambda kw: good_attendee(**kw),
                one_bad({}, dict.fromkeys(["ticket_id", "first_name", "last_name"], bad_texts)),
            ),
            st.builds(
                lambda kw: good_attendee(**kw),
                one_bad({}, dict.fromkeys(["email", "tel"], bad_texts)),
            ),
            anything.filter(lambda v: not isinstance(v, Attendee)),
        ),
        min_size=1,
        max_size=3,
    ).flatmap(lambda bad: st.permutations([good_attendee(), *bad])),
    st.sampled_from([[], (), "a3f9b", b"a3f9b", None, 5, good_attendee()]),
    anything,  # holds no Attendee, whatever it is
)
bad_id_lists = st.one_of(
    st.lists(bad_references, min_size=1, max_size=3).flatmap(
        lambda bad: st.permutations(["a3f9b", *bad])
    ),
    st.sampled_from(["a3f9b", b"a3f9b", None, 7, 1.5]),
    anything.filter(lambda v: not isinstance(v, (list, tuple, frozenset, dict))),
)
# Any host reaches the in-process sandbox; over loopback, port 9 refuses at once.
VALID_SIGNED = "https://127.0.0.1:9/files/tickets/ticket_a3f9b.png?secret=s"
bad_signed_urls = st.one_of(
    anything.filter(lambda v: not isinstance(v, str)),
    st.sampled_from(
        [
            "",
            "a3f9b",
            "/files/tickets/ticket_a3f9b.png",
            "ftp://ticket-pulse.com/f.png",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://ticket-pulse.com/files/x.png?secret=s",  # plain http, not loopback
            "http://10.0.0.1/files/x.png",
            "https:///files/x.png",
            "https://user:pw@ticket-pulse.com/files/x.png",
            VALID_SIGNED.replace("/files", "/fi\r\nles"),
        ]
    ),
    with_control(st.just(VALID_SIGNED)),
    st.builds(
        lambda url: Build(SignedURL, {"url": url, "expires_at": datetime.now(UTC)}), anything
    ),
)


@dataclass
class BadCall:
    """A public method and arguments of which at least one is invalid."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def resolved(self, here: Path) -> tuple[tuple[Any, ...], dict[str, Any]]:
        args = tuple(resolve(a, here) for a in self.args)
        return args, {k: resolve(v, here) for k, v in self.kwargs.items()}


def calls(method: str, positional: list[str], good: dict[str, Any], bad: dict[str, Any]) -> Any:
    """Calls of ``method`` with one or two of its parameters invalid, the others valid."""
    return st.builds(
        lambda values: BadCall(
            method,
            tuple(values[n] for n in good if n in positional),
            {n: values[n] for n in good if n not in positional},
        ),
        one_bad(good, bad),
    )


BAD_CALLS = st.one_of(
    calls("get_user_events", ["user_id"], {"user_id": USER}, {"user_id": bad_ids}),
    calls(
        "get_event_tickets",
        ["event_id"],
        {"event_id": 12, "user_id": USER},
        {"event_id": bad_ids, "user_id": bad_ids},
    ),
    calls(
        "personalize_tickets",
        ["event_id"],
        {"event_id": 12, "user_id": USER, "tickets": [good_attendee()]},
        {"event_id": bad_ids, "user_id": bad_ids, "tickets": bad_attendee_lists},
    ),
    calls(
        "get_ticket_url",
        ["ticket_id"],
        {"ticket_id": "a3f9b", "user_id": USER},
        {"ticket_id": bad_references, "user_id": bad_ids},
    ),
    calls(
        "get_order_pdf_url",
        ["order_id"],
        {"order_id": "TP-00123", "user_id": USER},
        {"order_id": bad_references, "user_id": bad_ids},
    ),
    calls("create_order", ["order"], {"order": None}, {"order": bad_orders(lines_required=True)}),
    calls(
        "mark_order_processing",
        ["tp_order_id"],
        {"tp_order_id": 123, "order": None},
        {"tp_order_id": bad_ids, "order": bad_orders(lines_required=False)},
    ),
    calls(
        "get_ticket_urls",
        ["ticket_ids"],
        {"ticket_ids": ["a3f9b"], "user_id": USER, "concurrency": 4},
        {"ticket_ids": bad_id_lists, "user_id": bad_ids, "concurrency": bad_concurrency},
    ),
    calls(
        "download",
        ["signed_url", "destination"],
        {"signed_url": VALID_SIGNED, "destination": HERE},
        {
            "signed_url": bad_signed_urls,
            "destination": st.one_of(
                anything.filter(lambda v: not isinstance(v, (str, os.PathLike))),
                st.sampled_from(["/no/such/directory/qr.png", "missing-dir/qr.png"]),
            ),
        },
    ),
)
ITER_CALLS = calls(
    "iter_ticket_urls",
    ["ticket_ids"],
    {"ticket_ids": ["a3f9b"], "user_id": USER, "concurrency": 4},
    {
        "ticket_ids": st.sampled_from(["a3f9b", b"a3f9b", None, 7, 1.5]),
        "user_id": bad_ids,
        "concurrency": bad_concurrency,
    },
)


# --------------------------------------------------------------------------- clients


async def _drain(client: ticketpulse.AsyncClient, ids: Any, **kwargs: Any) -> list[Any]:
    async with client.iter_ticket_urls(ids, **kwargs) as results:
        return [result async for result in results]


@dataclass
class Env:
    """A client of one flavour on a demo sandbox, callable from hypothesis' sync code.

    Async clients run in a blocking portal's event loop (asyncio or trio), the
    one they are bound to for the whole module.
    """

    name: str
    sandbox: Sandbox
    client: Any
    downloads: Path
    portal: Any = None

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        bound = getattr(self.client, method)
        if self.portal is None:
            if method == "iter_ticket_urls":
                with bound(*args, **kwargs) as results:
                    return list(results)
            return bound(*args, **kwargs)
        if method == "iter_ticket_urls":
            return self.portal.call(functools.partial(_drain, self.client, *args, **kwargs))
        return self.portal.call(functools.partial(bound, *args, **kwargs))


ENVS = [
    "Client",
    "AsyncClient-asyncio",
    "AsyncClient-trio",
    "AsyncClient[aiohttp]-asyncio",
    "AsyncClient[builtin]-asyncio",
]


@pytest.fixture(scope="module", params=with_marks(ENVS))
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """In-process sandbox for Client and AsyncClient; loopback for the asyncio-only clients.

    ``max_retries=0``: a request that slipped through is seen at once, not retried.
    """
    name = str(request.param)
    sandbox = Sandbox.demo()
    downloads = tmp_path_factory.mktemp("downloads")
    if name == "Client":
        client = sandbox.client(max_retries=0)
        yield Env(name, sandbox, client, downloads)
        client.close()
        sandbox.close()
        return
    with anyio.from_thread.start_blocking_portal(name.split("-")[1]) as portal:
        if name.startswith(("Aiohttp", "Asyncio")):
            server: RunningServer = sandbox.start_server()
            aio = client_class(name.split("-")[0])(
                sandbox.api_key, base_url=server.base_url, max_retries=0
            )
            try:
                yield Env(name, sandbox, aio, downloads, portal)
            finally:
                portal.call(aio.aclose)
                server.stop()
            return
        client = sandbox.async_client(max_retries=0)
        yield Env(name, sandbox, client, downloads, portal)
        portal.call(client.aclose)
        portal.call(sandbox.aclose)


def refused(env: Env, bad: BadCall) -> type[BaseException]:
    """Call; it must raise InvalidRequestError (or TypeError) and send nothing."""
    env.sandbox.requests.clear()
    try:
        args, kwargs = bad.resolved(env.downloads)  # a model's constructor may refuse first
        env.call(bad.method, *args, **kwargs)
    except (InvalidRequestError, TypeError) as exc:
        kind = type(exc)
    else:
        pytest.fail(f"{bad} was accepted")
    assert len(env.sandbox.requests) == 0, f"{bad} sent {list(env.sandbox.requests)}"
    return kind


@budgets
def test_invalid_arguments_are_refused_before_anything_is_sent(
    env: Env, figures: Figures, budget: str
) -> None:
    def check(bad: BadCall) -> None:
        kind = refused(env, bad)
        figures.refusal(kind.__name__)

    run_examples(figures, f"arguments[{env.name}]", budget, 150, BAD_CALLS, check)


@budgets
def test_invalid_bulk_iteration_arguments_fail_at_once_and_send_nothing(
    env: Env, figures: Figures, budget: str
) -> None:
    def check(bad: BadCall) -> None:
        refused(env, bad)

    run_examples(figures, f"iter_ticket_urls[{env.name}]", budget, 30, ITER_CALLS, check)


@budgets
def test_invalid_ids_in_a_bulk_iteration_are_each_tickets_error_and_sent_never(
    env: Env, figures: Figures, budget: str
) -> None:
    def check(ids: list[Any]) -> None:
        env.sandbox.requests.clear()
        results: list[TicketURLResult] = env.call(
            "iter_ticket_urls", ids, user_id=USER, concurrency=2
        )
        assert len(env.sandbox.requests) == 0
        assert len(results) == len(ids)
        assert all(isinstance(r.error, InvalidRequestError) for r in results)
        assert sorted(map(repr, (r.ticket_id for r in results))) == sorted(map(repr, ids))

    strategy = st.lists(bad_references, min_size=1, max_size=5)
    run_examples(figures, f"iter_ticket_urls ids[{env.name}]", budget, 30, strategy, check)


bad_settings = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "timeout": st.one_of(
                st.floats(max_value=0),
                st.just(float("nan")),
                st.integers(max_value=0),
                anything.filter(lambda v: isinstance(v, bool) or not isinstance(v, (int, float))),
            ),
            "max_retries": st.one_of(
                st.integers(max_value=-1),
                anything.filter(lambda v: isinstance(v, bool) or not isinstance(v, int)),
            ),
        },
    ).filter(bool),
)


@budgets
def test_invalid_settings_are_configuration_errors(env: Env, figures: Figures, budget: str) -> None:
    cls = type(env.client)

    def check(changes: dict[str, Any]) -> None:
        with pytest.raises((ConfigurationError, TypeError)):
            env.client.with_options(**changes)
        with pytest.raises((ConfigurationError, TypeError)):
            cls(KEY, base_url="http://127.0.0.1:9/tp-api", **changes)

    run_examples(figures, f"settings[{env.name}]", budget, 25, bad_settings, check)


bad_keys = st.one_of(
    st.just(""),
    with_control(st.text(min_size=1, max_size=10)),
    st.tuples(text_values, st.sampled_from(" \t\n\u3000"), text_values).map("".join),
    anything.filter(lambda v: v is not None and not isinstance(v, str)),
)
bad_base_urls = st.one_of(
    anything.filter(lambda v: v is not None and not isinstance(v, str)),
    st.builds(
        "{}://{}{}".format,
        st.sampled_from(["ftp", "file", "ws", "gopher", ""]),
        st.sampled_from(["ticket-pulse.com", "127.0.0.1"]),
        st.sampled_from(["", "/tp-api"]),
    ),
    st.sampled_from(
        [
            "http://ticket-pulse.com/tp-api",
            "http://10.0.0.1/tp-api",
            "http://127.0.0.1.example.com/tp-api",
            "https://user:pw@ticket-pulse.com/tp-api",
            "https://ticket-pulse.com/tp-api?key=x",
            "https://ticket-pulse.com/tp-api#frag",
            "https://:99999",
            "https://ticket-pulse.com:99999/tp-api",
            "http://[::1",
            "ticket-pulse.com/tp-api",
            "",
        ]
    ),
)


@budgets
def test_invalid_constructor_arguments_are_configuration_errors(
    env: Env, figures: Figures, budget: str
) -> None:
    cls = type(env.client)
    other = "session" if env.name.startswith("Aiohttp") else "http_client"
    strategy = one_bad(
        {"api_key": KEY, "base_url": "http://127.0.0.1:9/tp-api"},
        {
            "api_key": bad_keys,
            "base_url": bad_base_urls,
            other: anything.filter(lambda v: v is not None),
        },
    )

    def check(kwargs: dict[str, Any]) -> None:
        with pytest.raises((ConfigurationError, TypeError)):
            cls(**kwargs)

    run_examples(figures, f"constructor[{env.name}]", budget, 40, strategy, check)


# --------------------------------------------------------------------------- answers


def check_shape(value: Any, hint: Any, where: str = "$") -> None:
    """``value`` is of the annotated type, all the way down (the converter's promise)."""
    origin = get_origin(hint)
    if hint is Any:
        return
    if origin in (Union, UnionType):
        options = get_args(hint)
        errors = []
        for option in options:
            try:
                check_shape(value, option, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError("; ".join(errors))
    if hint is type(None):
        assert value is None, f"{where}: {value!r} is not None"
        return
    if origin is list:
        assert isinstance(value, list), f"{where}: {value!r} is not a list"
        for index, item in enumerate(value):
            check_shape(item, get_args(hint)[0], f"{where}[{index}]")
        return
    if origin is dict:
        assert isinstance(value, dict), f"{where}: {value!r} is not a dict"
        return
    if attrs.has(hint):
        assert type(value) is hint, f"{where}: {value!r} is not a {hint.__name__}"
        hints = get_type_hints(hint)
        for attribute in attrs.fields(hint):
            check_shape(getattr(value, attribute.name), hints[attribute.name], where)
        return
    if hint is int:
        assert isinstance(value, int), f"{where}: {value!r}"
        assert not isinstance(value, bool), f"{where}: {value!r}"
        return
    if hint is Decimal:
        assert isinstance(value, Decimal), f"{where}: {value!r}"
        assert value.is_finite(), f"{where}: {value!r}"
        return
    if hint is datetime:
        assert isinstance(value, datetime), f"{where}: {value!r}"
        assert value.tzinfo is not None, f"{where}: {value!r} is naive"
        return
    assert isinstance(value, hint), f"{where}: {value!r} is not a {hint}"


ANSWERS: dict[str, tuple[str, Callable[[Any], Any], Any]] = {
    # endpoint: (path, how to call it, what it returns)
    "get_events": ("/events", lambda c: c("get_events"), list[Event]),
    "get_user_events": ("/users/789/events", lambda c: c("get_user_events", USER), list[UserEvent]),
    "get_event_tickets": (
        "/events/12/tickets",
        lambda c: c("get_event_tickets", 12, user_id=USER),
        list[Ticket],
    ),
    "personalize_tickets": (
        "/events/12/tickets/personalize",
        lambda c: c(
            "personalize_tickets",
            12,
            user_id=USER,
            tickets=[Attendee("a3f9b", "Jane", "Doe", "jane@example.com", "+31612345678")],
        ),
        PersonalizationResult,
    ),
    "get_ticket_url": (
        "/users/get-ticket",
        lambda c: c("get_ticket_url", "a3f9b", user_id=USER),
        SignedURL,
    ),
    "get_order_pdf_url": (
        "/orders/get-ticket",
        lambda c: c("get_order_pdf_url", "TP-00123", user_id=USER),
        SignedURL,
    ),
    "get_ticket_urls": (
        "/users/get-ticket",
        lambda c: c("get_ticket_urls", ["a3f9b", "42350"], user_id=USER, concurrency=2),
        list[SignedURL],
    ),
    "create_order": (
        "/orders/create",
        lambda c: c(
            "create_order", NewOrder(order_lines=[OrderLine("GA", 1, 101, Decimal("29.95"))])
        ),
        type(None),
    ),
    "mark_order_processing": (
        "/orders/create",
        lambda c: c("mark_order_processing", 123),
        type(None),
    ),
}


def real_answers() -> dict[str, Any]:
    """What the demo sandbox answers, as JSON: the seeds that get mutated."""
    sandbox = Sandbox.demo()
    order = sandbox.add_order(wp_user_id=USER, items={45: 2, 46: 1})
    sandbox.personalize_ticket(
        order.ticket_refs[0], first_name="Jane", last_name="Doe", email="j@e.com", phone="+31"
    )
    with httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url) as http:

        def get(path: str, **params: Any) -> Any:
            return http.get(path, params={**params, "key": KEY}).json()

        person = {"ticket_id": order.ticket_refs[1], "first_name": "J", "last_name": "D"}
        person |= {"email": "j@d.nl", "tel": "1"}
        return {
            "get_events": get("/events"),
            "get_user_events": get(f"/users/{USER}/events"),
            "get_event_tickets": get("/events/12/tickets", wp_user_id=USER),
            "personalize_tickets": http.post(
                "/events/12/tickets/personalize",
                params={"wp_user_id": USER, "key": KEY},
                json={"tickets": [person]},
            ).json(),
            "get_ticket_url": get(
                "/users/get-ticket", wp_user_id=USER, ticket_id=order.ticket_refs[0]
            ),
            "get_order_pdf_url": "https://ticket-pulse.com/files/tickets/order_123_tickets?secret=s",
            "get_ticket_urls": get(
                "/users/get-ticket", wp_user_id=USER, ticket_id=order.ticket_refs[0]
            ),
            "create_order": "Order created",
            "mark_order_processing": "Order created",
        }


REAL = real_answers()

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(
        ["", "29.95", "1e400", "-1", "0", "NaN", "2025-07-31T18:00:00+00:00", "a3f9b", "true"]
    ),
    st.sampled_from([10**400, -(10**400), 2**63, 1e308, -1e308, 5e-324]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with a few nodes replaced, removed, added or wrapped."""
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        value = _mutate_once(draw, value)
    return value


def _mutate_once(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, (dict, list)) and value and draw(st.integers(0, 3)) > 0:
        keys = list(value) if isinstance(value, dict) else list(range(len(value)))
        key = draw(st.sampled_from(keys))
        copy: Any = dict(value) if isinstance(value, dict) else list(value)
        action = draw(st.sampled_from(["descend", "descend", "delete", "replace", "add"]))
        if action == "descend":
            copy[key] = _mutate_once(draw, copy[key])
        elif action == "delete":
            del copy[key]
        elif action == "replace":
            copy[key] = draw(json_values)
        elif isinstance(copy, dict):
            copy[draw(st.text(max_size=8))] = draw(json_values)
        else:
            copy.append(draw(json_values))
        return copy
    return draw(
        st.one_of(
            json_values,
            st.just([value]),
            st.just({"data": value}),
            st.just(str(value)),
            st.just(None),
        )
    )


def encoded(values: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return values.map(lambda v: json.dumps(v).encode())


broken_bodies = st.one_of(
    st.binary(max_size=64),
    st.sampled_from(
        [
            b"",
            b"[" * 100_000 + b"]" * 100_000,
            b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
            b"[" * 100_000,
            b"1" * 5000,
            b"[" + b"9" * 5000 + b"]",
            b"1e999999",
            b"-1e999999",
            b"NaN",
            b"[Infinity]",
            b"\xef\xbb\xbf[]",
            b"\xff\xfe[\x00]\x00",
            b'"\xc3\x28"',
            b'"\\ud800"',
            b"<html><body>Maintenance</body></html>",
            b"Order created",
            b"null",
            b'"https://[::1/files/x?secret=s"',
            b'"https://ticket-pulse.com:99999/files/x?secret=s"',
            b'"https://tick\\u0000et-pulse.com/x"',
        ]
    ),
)


def bodies_for(endpoint: str) -> st.SearchStrategy[bytes]:
    return st.one_of(encoded(json_values), encoded(mutated(REAL[endpoint])), broken_bodies)


@pytest.fixture
def mocked() -> Iterator[tuple[respx.MockRouter, dict[str, bytes]]]:
    """respx answering every endpoint with the current body (status 200)."""
    current = {"body": b""}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=current["body"])

    with respx.mock(base_url=ticketpulse.DEFAULT_BASE_URL, assert_all_called=False) as router:
        router.route().mock(side_effect=answer)
        yield router, current


RESPX_ENVS = ["Client", "AsyncClient-asyncio", "AsyncClient-trio"]


@pytest.fixture(scope="module", params=RESPX_ENVS)
def respx_caller(request: pytest.FixtureRequest) -> Iterator[tuple[str, Callable[..., Any]]]:
    """A client of one flavour on the real base URL, which respx (``mocked``) answers."""
    name = str(request.param)
    if name == "Client":
        client = ticketpulse.Client(KEY, max_retries=0)

        def call_sync(method: str, *args: Any, **kwargs: Any) -> Any:
            return getattr(client, method)(*args, **kwargs)

        yield name, call_sync
        client.close()
        return
    with anyio.from_thread.start_blocking_portal(name.split("-")[1]) as portal:
        aclient = ticketpulse.AsyncClient(KEY, max_retries=0)

        def call_async(method: str, *args: Any, **kwargs: Any) -> Any:
            return portal.call(functools.partial(getattr(aclient, method), *args, **kwargs))

        yield name, call_async
        portal.call(aclient.aclose)


@budgets
@pytest.mark.parametrize("endpoint", sorted(ANSWERS))
def test_any_200_answer_gives_a_model_or_an_unexpected_response_error(
    respx_caller: tuple[str, Callable[..., Any]],
    mocked: tuple[respx.MockRouter, dict[str, bytes]],
    figures: Figures,
    budget: str,
    endpoint: str,
) -> None:
    name, caller = respx_caller
    _, current = mocked
    _path, invoke, returns = ANSWERS[endpoint]

    order = endpoint in ("create_order", "mark_order_processing")

    def check(body: bytes) -> None:
        current["body"] = body
        error: ticketpulse.TicketPulseError | None = None
        try:
            result = invoke(caller)
        except (UnexpectedResponseError, ticketpulse.OrderOutcomeUnknownError) as exc:
            error = exc
        else:
            check_shape(result, returns)
        if error is None:
            return
        assert "unexpected response" in str(error), error
        if order:  # a 2xx that is not "Order created" proves nothing: check first
            assert isinstance(error, ticketpulse.OrderOutcomeUnknownError), error
            assert error.status_code == 200
        else:
            assert isinstance(error, UnexpectedResponseError), error

    run_examples(figures, f"answers[{name}]", budget, 30, bodies_for(endpoint), check)


# --------------------------------------------------------------------------- injection

FRAGMENTS = [
    "&key=stolen",
    "&wp_user_id=1",
    "&ticket_id=other",
    "?",
    "#",
    "#frag",
    "/../",
    "../../orders/create",
    "%26",
    "%26key%3Dx",
    "%2F..%2F",
    "%0d%0aX-Injected: 1",
    "=",
    ";",
    "+",
    " ",
    "%",
    "%%",
    "\\",
    "'\"<>",
    "é",
    "ß",
    "\u202e",
    "\uff06",  # fullwidth ampersand
    "\uff0f",  # fullwidth solidus
    "😀",
    "\ufeff",
    "\ud800",  # a lone surrogate: refused, it has no UTF-8 form
    "a3f9b",
    "TP-00123",
]
crafted = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), min_size=1, max_size=6
).map("".join)


@dataclass
class Crafted:
    """How a reference reaches the server: the path and query it must arrive with."""

    method: str
    path: str
    name: str


CRAFTED = [
    Crafted("get_ticket_url", "/tp-api/users/get-ticket", "ticket_id"),
    Crafted("get_order_pdf_url", "/tp-api/orders/get-ticket", "order_id"),
]


def expected_pairs(name: str, value: str) -> list[tuple[str, str]]:
    return [("wp_user_id", str(USER)), (name, value), ("key", "***")]


@budgets
def test_crafted_references_never_change_the_request(
    env: Env, figures: Figures, budget: str
) -> None:
    def check(value: str) -> None:
        for target in CRAFTED:
            env.sandbox.requests.clear()
            try:
                env.call(target.method, value, user_id=USER)
            except InvalidRequestError:
                assert len(env.sandbox.requests) == 0
                assert not is_good_text(value) or len(value) > 200
                continue
            except ticketpulse.NotPermittedError:
                pass  # "not found": the whole string was taken as one reference
            [request] = env.sandbox.requests
            assert request.method == "GET"
            assert request.path == target.path
            assert parse_qsl(request.query_string) == expected_pairs(target.name, value)
        env.sandbox.requests.clear()
        results = env.call("iter_ticket_urls", [value], user_id=USER, concurrency=1)
        assert [r.ticket_id for r in results] == [value]
        for request in env.sandbox.requests:
            assert request.path == "/tp-api/users/get-ticket"
            assert parse_qsl(request.query_string) == expected_pairs("ticket_id", value)

    run_examples(figures, f"crafted[{env.name}]", budget, 40, crafted, check)


ALLOWED_HEADERS = {"host", "accept", "accept-encoding", "connection", "user-agent"}


@budgets
def test_crafted_values_never_add_a_header_or_change_the_target(
    figures: Figures, budget: str
) -> None:
    """Seen by httpx itself (respx): the exact target, and only the SDK's own headers."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(401, text="Ticket not found")

    def check(value: str) -> None:
        for target in CRAFTED:
            seen.clear()
            try:
                getattr(client, target.method)(value, user_id=USER)
            except InvalidRequestError:
                assert seen == []
                continue
            except ticketpulse.NotPermittedError:
                pass
            [request] = seen
            target_path, _, query = request.url.raw_path.decode("ascii").partition("?")
            assert target_path == target.path
            assert "#" not in query
            pairs = parse_qsl(query, keep_blank_values=True)
            assert pairs == [("wp_user_id", str(USER)), (target.name, value), ("key", KEY)]
            assert {k.lower() for k in request.headers} <= ALLOWED_HEADERS

    with respx.mock(base_url=ticketpulse.DEFAULT_BASE_URL) as router:
        router.route().mock(side_effect=answer)
        # The SDK's own pool, and an httpx client (as with proxies or http_client=).
        with ticketpulse.Client(KEY, max_retries=0) as client:
            run_examples(figures, "crafted[respx pool]", budget, 20, crafted, check)
        with httpx.Client() as http:
            client = ticketpulse.Client(KEY, http_client=http, max_retries=0)
            run_examples(figures, "crafted[respx httpx]", budget, 20, crafted, check)


# --------------------------------------------------------------------------- found defects
# What these suites found (fixed in cbf00d7 and e4c0139), pinned by exact examples. Each
# runs on a blocking and an async client (the code at fault was shared).

two_envs = pytest.mark.parametrize("env", ["Client", "AsyncClient-trio"], indirect=True)


@two_envs
@budgets
def test_a_reference_that_cannot_be_encoded_is_an_invalid_request(
    env: Env, figures: Figures, budget: str
) -> None:
    @settings(
        max_examples=10 * BUDGETS[budget],
        deadline=None,
        database=None,
        report_multiple_bugs=False,
    )
    @given(unencodable)
    @example("a3f9b\ud800")
    def check(value: str) -> None:
        refused(env, BadCall("get_ticket_url", (value,), {"user_id": USER}))

    check()


@two_envs
@pytest.mark.parametrize(
    "huge",
    [
        pytest.param(10**5000, id="10**5000"),
        pytest.param(-(10**5000), id="-10**5000"),
    ],
)
@pytest.mark.parametrize(
    "method", ["get_user_events", "get_event_tickets", "get_ticket_url", "create_order"]
)
def test_an_id_too_long_to_write_is_an_invalid_request(env: Env, method: str, huge: int) -> None:
    bad = {
        "get_user_events": BadCall(method, (huge,)),
        "get_event_tickets": BadCall(method, (huge,), {"user_id": USER}),
        "get_ticket_url": BadCall(method, ("a3f9b",), {"user_id": huge}),
        "create_order": BadCall(
            method, (Build(NewOrder, {"wp_user_id": huge, "order_lines": [good_line()]}),)
        ),
    }[method]
    refused(env, bad)


@two_envs
@pytest.mark.parametrize("url", ["https://[::1/files/x.png", "https://ex.com:99999/files/x.png"])
def test_an_unparsable_signed_url_is_an_invalid_request(env: Env, url: str) -> None:
    refused(env, BadCall("download", (url, ".")))


@two_envs
def test_a_destination_with_a_nul_byte_is_refused_before_sending(env: Env) -> None:
    refused(env, BadCall("download", (VALID_SIGNED, "qr\x00.png")))


@two_envs
@pytest.mark.parametrize(
    "base_url",
    [
        pytest.param("https://ticket-pulse.com/tp\x00-api", id="nul"),
        pytest.param("https://" + "a" * 64 + ".com/tp-api", id="long-label"),
    ],
)
def test_a_base_url_that_cannot_be_used_is_a_configuration_error(env: Env, base_url: str) -> None:
    with pytest.raises(ConfigurationError):
        type(env.client)(KEY, base_url=base_url)
