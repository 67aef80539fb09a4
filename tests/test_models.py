"""The models of SPEC §3: frozen attrs classes with the wire's field names and order."""

from __future__ import annotations

import enum
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from ticketpulse import (
    Attendee,
    BillingInformation,
    Event,
    InvalidRequestError,
    NewOrder,
    NotFoundError,
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
from ticketpulse._bulk import result_of

# SPEC §3, field by field and in its order.
SPEC_FIELDS: dict[type, tuple[str, ...]] = {
    Event: (
        "id",
        "name",
        "city",
        "start_date",
        "end_date",
        "price",
        "stock",
        "status",
        "tickets",
        "children",
    ),
    TicketType: ("id", "name", "stock", "price", "status", "date", "enabled"),
    SubEvent: (
        "id",
        "name",
        "status",
        "stock",
        "price",
        "featured",
        "tickets",
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
    UserEvent: ("id", "name", "start_date"),
    Ticket: (
        "id",
        "event_name",
        "event_start_date",
        "start_date",
        "order_id",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "status",
        "is_deprecated",
    ),
    Attendee: ("ticket_id", "first_name", "last_name", "email", "tel"),
    PersonalizationResult: ("tickets", "all_personalized"),
    NewOrder: (
        "wp_order_id",
        "wp_user_id",
        "payment_method_title",
        "payment_method",
        "ip_address",
        "currency",
        "order_total",
        "date_created",
        "date_paid",
        "locale",
        "my_tickets_url",
        "billing_information",
        "order_lines",
    ),
    # The doc's billing_information object.
    BillingInformation: (
        "first_name",
        "last_name",
        "address",
        "city",
        "postal_code",
        "country",
        "email",
        "phone",
    ),
    OrderLine: (
        "name",
        "quantity",
        "product_id",
        "unit_price",
        "order_item_type",
        "tp_event_ticket_id",
    ),
    SignedURL: ("url", "expires_at"),
}

NOW = datetime(2025, 7, 31, 18, tzinfo=UTC)

SAMPLES: list[Any] = [
    Event(id=12),
    TicketType(id=45),
    SubEvent(id=13),
    UserEvent(id=12),
    Ticket(id="a3f9b"),
    Attendee("a3f9b", "Jane", "Doe", "jane.doe@example.com", "+31612345678"),
    PersonalizationResult(),
    NewOrder(),
    BillingInformation(first_name="Jane"),
    OrderLine(name="General Admission", quantity=2, product_id=101, unit_price="29.95"),
    SignedURL("https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret=eyJ0", NOW),
]


@pytest.mark.parametrize("model", list(SPEC_FIELDS), ids=lambda cls: cls.__name__)
def test_model_fields_are_named_and_ordered_as_in_spec(model: type) -> None:
    assert tuple(field.name for field in attrs.fields(model)) == SPEC_FIELDS[model]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda obj: type(obj).__name__)
def test_model_is_frozen(sample: Any) -> None:
    first = attrs.fields(type(sample))[0].name

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(sample, first, None)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        delattr(sample, first)


def test_every_model_of_spec_is_sampled() -> None:
    assert {type(sample) for sample in SAMPLES} == set(SPEC_FIELDS)


def test_attendee_fields_are_all_required() -> None:
    assert all(field.default is attrs.NOTHING for field in attrs.fields(Attendee))
    with pytest.raises(TypeError):
        Attendee("a3f9b", "Jane", "Doe", "jane.doe@example.com")


def test_models_compare_by_value_and_hash() -> None:
    assert Ticket(id="a3f9b", status=TicketStatus.ACTIVE) == Ticket(id="a3f9b", status=2)
    assert hash(UserEvent(id=12, name="x")) == hash(UserEvent(id=12, name="x"))


@pytest.mark.parametrize(
    ("model", "kind"),
    [(Event, int), (TicketType, int), (SubEvent, int), (UserEvent, int), (Ticket, str)],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_model_ids_are_required_and_not_optional(model: type, kind: type) -> None:
    assert attrs.fields(model)[0].name == "id"
    assert attrs.fields(model)[0].default is attrs.NOTHING
    assert typing.get_type_hints(model)["id"] is kind
    with pytest.raises(TypeError, match="id"):
        model()


# --- Enums -------------------------------------------------------------------


def test_ticket_status_values_are_the_docs() -> None:
    assert issubclass(TicketStatus, enum.IntEnum)
    assert {member.name: member.value for member in TicketStatus} == {
        "CREATED": 1,
        "ACTIVE": 2,
        "SCANNED_IN": 3,
        "SCANNED_OUT": 4,
        "CANCELLED": 5,
    }


def test_unknown_ticket_status_is_a_pseudo_member() -> None:
    status = TicketStatus(9)

    assert isinstance(status, TicketStatus)
    assert status == 9
    assert status.value == 9
    assert status.name == "UNKNOWN_9"
    assert status not in list(TicketStatus)


@pytest.mark.parametrize("value", ["2", None, "ACTIVE"])
def test_ticket_status_of_a_non_int_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the enum's own lookup error
        TicketStatus(value)


def test_order_item_type_values_are_the_docs() -> None:
    assert issubclass(OrderItemType, enum.StrEnum)
    assert {member.name: member.value for member in OrderItemType} == {
        "LINE_ITEM": "line_item",
        "SHIPPING": "shipping",
        "FEE": "fee",
        "COUPON": "coupon",
    }
    assert OrderItemType.FEE == "fee"


def test_order_line_defaults_to_line_item_and_accepts_other_strings() -> None:
    line = OrderLine(name="x", quantity=1, product_id=101, unit_price=1)
    other = OrderLine(name="x", quantity=1, product_id=101, unit_price=1, order_item_type="tip")

    assert line.order_item_type is OrderItemType.LINE_ITEM
    assert other.order_item_type == "tip"
    assert line.tp_event_ticket_id is None


# --- Amounts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (29.95, "29.95"),
        (0.1, "0.1"),
        ("29.95", "29.95"),
        ("15.00", "15.00"),
        (" 7.50 ", "7.50"),
        (30, "30"),
        (Decimal("59.90"), "59.90"),
        (-5, "-5"),
    ],
)
def test_order_line_unit_price_is_an_exact_decimal(amount: Any, expected: str) -> None:
    line = OrderLine(name="GA", quantity=2, product_id=101, unit_price=amount)

    assert isinstance(line.unit_price, Decimal)
    assert str(line.unit_price) == expected
    assert line.unit_price == Decimal(expected)


def test_order_line_float_price_is_not_its_binary_expansion() -> None:
    line = OrderLine(name="GA", quantity=2, product_id=101, unit_price=29.95)

    assert line.unit_price == Decimal("29.95")
    assert line.unit_price != Decimal.from_float(29.95)


@pytest.mark.parametrize(
    ("amount", "expected"), [(59.9, "59.9"), ("59.90", "59.90"), (Decimal("1.5"), "1.5")]
)
def test_new_order_total_is_an_exact_decimal(amount: Any, expected: str) -> None:
    order = NewOrder(order_total=amount)

    assert isinstance(order.order_total, Decimal)
    assert str(order.order_total) == expected


def test_new_order_total_may_be_none() -> None:
    assert NewOrder().order_total is None


INVALID_AMOUNTS = [
    "abc",
    "",
    "29,95",
    float("nan"),
    float("inf"),
    float("-inf"),
    "NaN",
    "Infinity",
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("Infinity"),
    True,
    False,
    [],
    b"29.95",
]


@pytest.mark.parametrize("amount", INVALID_AMOUNTS, ids=repr)
def test_invalid_unit_price_raises_invalid_request(amount: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OrderLine(name="GA", quantity=2, product_id=101, unit_price=amount)

    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("amount", INVALID_AMOUNTS, ids=repr)
def test_invalid_order_total_raises_invalid_request(amount: Any) -> None:
    with pytest.raises(InvalidRequestError):
        NewOrder(order_total=amount)


def test_missing_unit_price_raises_invalid_request() -> None:
    with pytest.raises(InvalidRequestError):
        OrderLine(name="GA", quantity=2, product_id=101, unit_price=None)


# --- SignedURL ---------------------------------------------------------------

SECRET = "eyJ0eXAiOiJKV1Qi.c2VjcmV0"
QR_URL = f"https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?secret={SECRET}"


def test_signed_url_repr_hides_the_secret() -> None:
    shown = repr(SignedURL(QR_URL, NOW))

    assert SECRET not in shown
    assert "secret=***" in shown
    assert "https://ticket-pulse.com/files/tickets/ticket_a3f9b.png?" in shown
    assert repr(NOW) in shown


def test_signed_url_str_hides_the_secret() -> None:
    assert SECRET not in str(SignedURL(QR_URL, NOW))
    assert SECRET not in f"{SignedURL(QR_URL, NOW)!s}"


def test_signed_url_repr_keeps_the_other_query_parameters() -> None:
    pdf = "https://ticket-pulse.com/files/tickets/order_123_tickets"
    url = f"{pdf}?expires=1753923600&secret={SECRET}&v=2"

    shown = repr(SignedURL(url, NOW))

    assert SECRET not in shown
    assert f"url='{pdf}?expires=1753923600&secret=***&v=2'" in shown


@pytest.mark.parametrize("name", ["Secret", "SECRET"])
def test_signed_url_repr_hides_the_secret_whatever_its_case(name: str) -> None:
    shown = repr(SignedURL(f"https://ticket-pulse.com/f.png?{name}={SECRET}", NOW))

    assert SECRET not in shown


def test_signed_url_repr_of_url_without_query_is_the_url() -> None:
    url = "https://ticket-pulse.com/files/tickets/ticket_a3f9b.png"

    assert f"url={url!r}" in repr(SignedURL(url, NOW))


def test_signed_url_repr_keeps_blank_and_encoded_parameters_as_written() -> None:
    url = f"https://ticket-pulse.com/files/t.png?download=&name=a%20b&secret={SECRET}"

    shown = repr(SignedURL(url, NOW))

    assert "'https://ticket-pulse.com/files/t.png?download=&name=a%20b&secret=***'" in shown


def test_signed_url_keeps_the_real_url() -> None:
    assert SignedURL(QR_URL, NOW).url == QR_URL


def test_signed_url_is_expired_after_expires_at() -> None:
    past = SignedURL(QR_URL, datetime.now(UTC) - timedelta(seconds=1))
    future = SignedURL(QR_URL, datetime.now(UTC) + timedelta(minutes=5))

    assert past.expired is True
    assert future.expired is False


def test_signed_url_expiry_compares_instants_across_offsets() -> None:
    ahead = timezone(timedelta(hours=2))
    soon = SignedURL(QR_URL, (datetime.now(UTC) + timedelta(minutes=5)).astimezone(ahead))
    gone = SignedURL(QR_URL, (datetime.now(UTC) - timedelta(minutes=5)).astimezone(ahead))

    assert soon.expired is False
    assert gone.expired is True


# --- Bulk results ------------------------------------------------------------

SIGNED = SignedURL(QR_URL, NOW)


def _failure() -> NotFoundError:
    return NotFoundError("Ticket not found", status_code=404, method="GET", url="/users/get-ticket")


def test_a_fetched_url_is_a_ticket_url() -> None:
    result = result_of("a3f9b", SIGNED)

    assert type(result) is TicketURL
    assert isinstance(result, TicketURLResult)
    assert result.ok is True
    assert (result.ticket_id, result.url) == ("a3f9b", SIGNED)
    assert result.unwrap() is SIGNED
    assert result == TicketURL("a3f9b", SIGNED)


def test_an_error_is_a_ticket_url_error() -> None:
    error = _failure()
    result = result_of("b7c1d", error)

    assert type(result) is TicketURLError
    assert isinstance(result, TicketURLResult)
    assert result.ok is False
    assert (result.ticket_id, result.error) == ("b7c1d", error)
    with pytest.raises(NotFoundError) as caught:
        result.unwrap()
    assert caught.value is error


def test_a_success_has_no_error_and_a_failure_no_url() -> None:
    success = TicketURL("a3f9b", SIGNED)
    failure = TicketURLError("b7c1d", _failure())

    with pytest.raises(AttributeError, match="'a3f9b' has no error: its URL was fetched"):
        _ = success.error
    with pytest.raises(AttributeError, match=r"'b7c1d' has no URL: .* NotFoundError"):
        _ = failure.url
    assert getattr(success, "error", None) is None
    assert getattr(failure, "url", None) is None
    assert not hasattr(success, "error")
    assert not hasattr(failure, "url")


def test_ok_is_a_constant_of_each_class_not_a_field() -> None:
    assert (TicketURL.ok, TicketURLError.ok) == (True, False)
    assert [f.name for f in attrs.fields(TicketURL)] == ["ticket_id", "url"]
    assert [f.name for f in attrs.fields(TicketURLError)] == ["ticket_id", "error"]
    with pytest.raises(TypeError):
        TicketURL("a3f9b", SIGNED, ok=False)  # type: ignore[call-arg]


def test_results_branch_on_ok_as_the_readme_shows() -> None:
    error = _failure()
    results: list[TicketURLResult] = [TicketURL("a3f9b", SIGNED), TicketURLError("b7c1d", error)]

    shown = [result.url if result.ok else result.error for result in results]
    assert shown == [SIGNED, error]
    assert [r.url for r in results if r.ok] == [SIGNED]
    assert {r.ticket_id: r.error for r in results if not r.ok} == {"b7c1d": error}


def test_results_can_be_matched() -> None:
    def describe(result: TicketURLResult) -> str:
        match result:
            case TicketURL(ticket_id, url):
                return f"{ticket_id}: {url.url}"
            case TicketURLError(ticket_id, error=error):
                return f"{ticket_id}: {type(error).__name__}"

    assert describe(TicketURL("a3f9b", SIGNED)) == f"a3f9b: {QR_URL}"
    assert describe(TicketURLError("b7c1d", _failure())) == "b7c1d: NotFoundError"


def test_results_are_frozen_and_their_repr_hides_the_secret() -> None:
    success = TicketURL("a3f9b", SIGNED)

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        success.url = SIGNED  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        success.ok = False  # type: ignore[misc]
    assert SECRET not in repr(success)
    assert repr(success).startswith("TicketURL(ticket_id='a3f9b', url=SignedURL(")
    assert repr(TicketURLError("b7c1d", _failure())).startswith("TicketURLError(ticket_id='b7c1d'")
