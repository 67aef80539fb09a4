"""Signed URLs (GET /users/get-ticket, GET /orders/get-ticket) and the files behind them."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pypdf
import pytest
import zxingcpp
from PIL import Image

from ticketpulse.testing import DEMO_API_KEY, FakeClock, OrderRecord, Sandbox

KEY = DEMO_API_KEY
TICKET_URL = re.compile(
    r"https://sandbox\.ticket-pulse\.test/files/tickets/ticket_([0-9a-f]{5})\.png\?secret=(eyJ[\w-]+\.[\w-]+\.[\w-]+)"
)
ORDER_URL = re.compile(
    r"https://sandbox\.ticket-pulse\.test/files/tickets/order_(\d+)_tickets\?secret=(eyJ[\w-]+\.[\w-]+\.[\w-]+)"
)


def ticket_url(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.get("/users/get-ticket", params={"key": KEY, **params})


def order_url(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.get("/orders/get-ticket", params={"key": KEY, **params})


@pytest.fixture
def active_order(create_order: Callable[..., OrderRecord], sandbox: Sandbox) -> OrderRecord:
    order = create_order((45, 2), (47, 1))
    for ref in order.ticket_refs:
        sandbox.personalize_ticket(
            ref, first_name="Zoë", last_name="Łukasiewicz", email="z@example.com", phone="1"
        )
    return order


def test_ticket_url_is_a_json_string_signed_for_an_hour(
    http: httpx.Client, active_order: OrderRecord, clock: FakeClock
) -> None:
    ref = active_order.ticket_refs[0]
    response = ticket_url(http, wp_user_id=789, ticket_id=ref)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    url = response.json()
    assert isinstance(url, str)
    match = TICKET_URL.fullmatch(url)
    assert match is not None
    assert match[1] == ref
    payload = match[2].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims == {"file": f"tickets/ticket_{ref}.png", "exp": int(clock.time()) + 3600}


def test_the_png_is_a_qr_code_of_the_ticket_reference(
    http: httpx.Client, active_order: OrderRecord
) -> None:
    ref = active_order.ticket_refs[1]
    response = http.get(ticket_url(http, wp_user_id=789, ticket_id=ref).json())
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert [barcode.text for barcode in zxingcpp.read_barcodes(image)] == [ref]


def test_the_pdf_has_one_page_per_ticket(http: httpx.Client, active_order: OrderRecord) -> None:
    url = order_url(http, wp_user_id=789, order_id=active_order.reference).json()
    match = ORDER_URL.fullmatch(url)
    assert match is not None
    assert match[1] == str(active_order.id)
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 3
    texts = [page.extract_text() for page in reader.pages]
    for ref, text in zip(active_order.ticket_refs, texts, strict=True):
        assert ref in text
        assert "TP-00123" in text
        assert "Zoë" in text  # Latin-1 survives; "Ł" is folded to "L"
        assert "Lukasiewicz" in text
    assert "Summer Festival 2025" in texts[0]
    assert "Day 1 - Saturday" in texts[2]


def test_urls_expire_after_one_hour(
    http: httpx.Client, active_order: OrderRecord, clock: FakeClock
) -> None:
    png = ticket_url(http, wp_user_id=789, ticket_id=active_order.ticket_refs[0]).json()
    pdf = order_url(http, wp_user_id=789, order_id=active_order.reference).json()
    clock.advance(3599)
    assert http.get(png).status_code == 200
    assert http.get(pdf).status_code == 200
    clock.advance(1)
    for url in (png, pdf):
        response = http.get(url)
        assert (response.status_code, response.text) == (401, "Link expired")
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    fresh = ticket_url(http, wp_user_id=789, ticket_id=active_order.ticket_refs[0]).json()
    assert http.get(fresh).status_code == 200


def test_a_tampered_or_missing_secret_is_refused(
    http: httpx.Client, active_order: OrderRecord, sandbox: Sandbox
) -> None:
    first, second = active_order.ticket_refs[:2]
    url = ticket_url(http, wp_user_id=789, ticket_id=first).json()
    other = Sandbox.demo().app  # another sandbox signs with another key
    assert other is not sandbox.app
    for bad in (
        url.replace(first, second),  # a secret for another file
        url[:-2] + ("AA" if not url.endswith("AA") else "BB"),  # a bad signature
        url.split("?")[0],  # no secret
        url.split("?")[0] + "?secret=garbage",
    ):
        response = http.get(bad)
        assert (response.status_code, response.text) == (401, "Invalid signature")


def test_a_file_gone_since_the_url_was_issued_is_404(
    http: httpx.Client, active_order: OrderRecord, sandbox: Sandbox
) -> None:
    ref = active_order.ticket_refs[0]
    url = ticket_url(http, wp_user_id=789, ticket_id=ref).json()
    sandbox.cancel_ticket(ref)
    response = http.get(url)
    assert (response.status_code, response.text) == (404, "File not found")


def test_signed_urls_point_at_the_origin_the_request_came_to(
    sandbox: Sandbox, active_order: OrderRecord
) -> None:
    with httpx.Client(transport=sandbox.transport(), base_url="http://other.test:81/tp-api") as c:
        url = ticket_url(c, wp_user_id=789, ticket_id=active_order.ticket_refs[0]).json()
        assert url.startswith("http://other.test:81/files/tickets/ticket_")
        assert c.get(url).status_code == 200


@pytest.mark.parametrize(
    ("params", "status", "body"),
    [
        ({"ticket_id": "a3f9b"}, 400, "Wordpress user not specified"),
        ({"wp_user_id": "abc", "ticket_id": "a3f9b"}, 400, "Wordpress user not specified"),
        ({"wp_user_id": 789}, 400, "Ticket id not specified"),
        ({"wp_user_id": 789, "ticket_id": ""}, 400, "Ticket id not specified"),
        ({"wp_user_id": 789, "ticket_id": "zzzzz"}, 401, "Ticket not found"),
        ({"wp_user_id": 790, "ticket_id": "a3f9b"}, 401, "Not allowed to see this ticket"),
        ({}, 400, "Wordpress user not specified"),  # the doc's order: the user first
    ],
)
def test_ticket_url_errors(
    http: httpx.Client,
    active_order: OrderRecord,
    params: dict[str, Any],
    status: int,
    body: str,
) -> None:
    response = ticket_url(http, **params)
    assert (response.status_code, response.text) == (status, body)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_ticket_url_file_not_found_until_the_ticket_is_active(
    http: httpx.Client, create_order: Callable[..., OrderRecord], sandbox: Sandbox
) -> None:
    (ref,) = create_order((45, 1)).ticket_refs
    assert ticket_url(http, wp_user_id=789, ticket_id=ref).text == "File not found"
    assert ticket_url(http, wp_user_id=789, ticket_id=ref).status_code == 401
    for status in (2, 3, 4):
        sandbox.set_ticket_status(ref, status)
        assert ticket_url(http, wp_user_id=789, ticket_id=ref).status_code == 200
    sandbox.cancel_ticket(ref)
    assert ticket_url(http, wp_user_id=789, ticket_id=ref).text == "File not found"


def test_another_accounts_ticket_is_not_found(
    http: httpx.Client, active_order: OrderRecord, sandbox: Sandbox
) -> None:
    sandbox.add_account("other-key")
    response = http.get(
        "/users/get-ticket",
        params={"key": "other-key", "wp_user_id": 789, "ticket_id": active_order.ticket_refs[0]},
    )
    assert (response.status_code, response.text) == (401, "Ticket not found")


@pytest.mark.parametrize(
    ("params", "status", "body"),
    [
        ({"order_id": "TP-00123"}, 400, "Wordpress user not specified"),
        ({"wp_user_id": 789}, 401, "Order not specified"),
        ({"wp_user_id": 789, "order_id": ""}, 401, "Order not specified"),
        ({"wp_user_id": 789, "order_id": "TP-99999"}, 401, "Order not found"),
        ({"wp_user_id": 789, "order_id": "123"}, 401, "Order not found"),
        ({"wp_user_id": 790, "order_id": "TP-00123"}, 401, "Not allowed to see this order"),
    ],
)
def test_order_url_errors(
    http: httpx.Client,
    active_order: OrderRecord,
    params: dict[str, Any],
    status: int,
    body: str,
) -> None:
    response = order_url(http, **params)
    assert (response.status_code, response.text) == (status, body)


def test_order_pdf_not_found_until_every_ticket_is_personalised(
    http: httpx.Client,
    create_order: Callable[..., OrderRecord],
    personalize: Callable[..., httpx.Response],
    sandbox: Sandbox,
) -> None:
    order = create_order((45, 1), (47, 1))
    ga, day1 = order.ticket_refs
    personalize(12, ga)
    response = order_url(http, wp_user_id=789, order_id=order.reference)
    assert (response.status_code, response.text) == (401, "File not found")
    personalize(13, day1)
    url = order_url(http, wp_user_id=789, order_id=order.reference).json()
    assert len(pypdf.PdfReader(io.BytesIO(http.get(url).content)).pages) == 2
    sandbox.cancel_ticket(ga)  # cancelled tickets leave the PDF
    url = order_url(http, wp_user_id=789, order_id=order.reference).json()
    assert len(pypdf.PdfReader(io.BytesIO(http.get(url).content)).pages) == 1
    sandbox.cancel_ticket(day1)
    assert order_url(http, wp_user_id=789, order_id=order.reference).text == "File not found"


def test_an_order_without_tickets_has_no_pdf(
    http: httpx.Client, order_line: Callable[..., dict[str, Any]]
) -> None:
    body = {"wp_user_id": 789, "order_lines": [order_line(None)]}
    assert http.post("/orders/create", params={"key": KEY}, json=body).status_code == 200
    response = order_url(http, wp_user_id=789, order_id="TP-00123")
    assert (response.status_code, response.text) == (401, "File not found")


def test_file_routes(http: httpx.Client, active_order: OrderRecord) -> None:
    url = ticket_url(http, wp_user_id=789, ticket_id=active_order.ticket_refs[0]).json()
    assert http.post(url).status_code == 405
    assert http.get("/files/tickets/other.png").status_code == 404
    assert http.get("/nowhere").status_code == 404


def test_missing_render_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from ticketpulse.testing import SandboxDependencyError
    from ticketpulse.testing._files import render_order_pdf, render_ticket_png

    monkeypatch.setitem(sys.modules, "segno", None)
    monkeypatch.setitem(sys.modules, "fpdf", None)
    with pytest.raises(SandboxDependencyError, match=r"ticketpulse\[sandbox\]"):
        render_ticket_png("a3f9b")
    with pytest.raises(SandboxDependencyError, match=r"ticketpulse\[sandbox\]"):
        render_order_pdf([])
