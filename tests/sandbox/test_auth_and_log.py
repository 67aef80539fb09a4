"""Authentication on every endpoint, routing, and the request log."""

from __future__ import annotations

import threading

import httpx
import pytest

from ticketpulse.testing import DEMO_API_KEY, Sandbox

KEY = DEMO_API_KEY
ENDPOINTS = [
    ("GET", "/events"),
    ("GET", "/users/789/events"),
    ("GET", "/events/12/tickets?wp_user_id=789"),
    ("POST", "/events/12/tickets/personalize?wp_user_id=789"),
    ("GET", "/users/get-ticket?wp_user_id=789&ticket_id=a3f9b"),
    ("GET", "/orders/get-ticket?wp_user_id=789&order_id=TP-00123"),
    ("POST", "/orders/create"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("key", [None, "", "wrong", DEMO_API_KEY.upper(), " " + DEMO_API_KEY])
def test_every_endpoint_answers_403_unauthorized_without_a_valid_key(
    http: httpx.Client, method: str, path: str, key: str | None
) -> None:
    url = httpx.URL(path)
    if key is not None:
        url = url.copy_add_param("key", key)
    response = http.request(method, url, json={"order_lines": []} if method == "POST" else None)
    assert (response.status_code, response.text) == (403, "Unauthorized")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_the_key_is_a_query_parameter_not_a_header(http: httpx.Client) -> None:
    response = http.get("/events", headers={"Authorization": f"Bearer {KEY}", "key": KEY})
    assert response.status_code == 403


def test_the_last_key_parameter_wins(http: httpx.Client) -> None:
    assert http.get("/events?key=wrong&key=" + KEY).status_code == 200


def test_authentication_comes_before_everything_else(http: httpx.Client) -> None:
    # Errors that would apply (unknown event, missing user) wait for a valid key.
    assert http.get("/events/999/tickets").text == "Unauthorized"
    assert http.get("/users/get-ticket").text == "Unauthorized"
    assert http.post("/orders/create", content=b"").text == "Unauthorized"


def test_unknown_routes_and_methods(http: httpx.Client) -> None:
    assert (http.get("/nope", params={"key": KEY}).status_code) == 404
    assert http.get("/events/", params={"key": KEY}).text == "Not found"
    response = http.post("/events", params={"key": KEY})
    assert (response.status_code, response.text, response.headers["allow"]) == (
        405,
        "Method not allowed",
        "GET",
    )
    assert http.get("/orders/create", params={"key": KEY}).headers["allow"] == "POST"


def test_a_percent_encoded_slash_stays_inside_its_segment(http: httpx.Client) -> None:
    response = http.get("/events/12%2Ftickets/tickets", params={"key": KEY, "wp_user_id": 1})
    assert (response.status_code, response.text) == (404, "Event not found")


def test_the_log_records_requests_with_the_key_redacted(
    http: httpx.Client, sandbox: Sandbox
) -> None:
    http.get("/events", params={"key": KEY})
    http.post("/orders/create", params={"key": KEY, "x": "1"}, json={"order_lines": [], "a": [1.5]})
    http.get("/users/get-ticket", params={"wp_user_id": 1})
    first, second, third = sandbox.requests
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/tp-api/events",
        {"key": "***"},
        200,
    )
    assert first.json is None
    assert second.query_string == "key=***&x=1"
    assert second.json == {"order_lines": [], "a": [1.5]}
    assert second.status == 404
    assert third.status == 403
    assert third.query == {"wp_user_id": "1"}
    assert all(KEY not in repr(r) and KEY.encode() not in r.body for r in sandbox.requests)
    assert sandbox.requests[-1] is third
    assert sandbox.requests[:1] == [first]
    sandbox.requests.clear()
    assert len(sandbox.requests) == 0


def test_the_log_redacts_file_secrets_too(http: httpx.Client, sandbox: Sandbox) -> None:
    http.get("/files/tickets/ticket_a3f9b.png", params={"secret": "eyJtop.secret.value"})
    (record,) = sandbox.requests
    assert record.query == {"secret": "***"}
    assert "top" not in record.query_string


def test_the_log_is_thread_safe(sandbox: Sandbox) -> None:
    def hammer() -> None:
        with httpx.Client(transport=sandbox.transport(), base_url=sandbox.base_url) as client:
            for _ in range(25):
                client.get("/events", params={"key": KEY})

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sandbox.requests) == 200
    assert {r.status for r in sandbox.requests} == {200}


def test_the_log_uses_the_sandbox_clock(http: httpx.Client, sandbox: Sandbox) -> None:
    http.get("/events", params={"key": KEY})
    assert sandbox.requests[0].time == sandbox.clock.time()


def test_accounts_and_keys(sandbox: Sandbox) -> None:
    other = sandbox.add_account(name="Generated")
    assert other.key.startswith("tp_test_account_")
    assert sandbox.account(other.key) == other
    assert sandbox.account(other.id) == other
    assert other.key not in repr(other)
    assert sandbox.api_key == DEMO_API_KEY
    with pytest.raises(ValueError, match="already exists"):
        sandbox.add_account(DEMO_API_KEY)
    with pytest.raises(ValueError, match="non-empty"):
        sandbox.add_account("")
    with pytest.raises(KeyError):
        sandbox.account("unknown")
    with pytest.raises(LookupError):
        _ = Sandbox().api_key
