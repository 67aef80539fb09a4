"""The sandbox's HTTP face, sans I/O: a request's plain parts in, an answer's out.

:meth:`SandboxApp.respond` maps (method, path, query, headers, body) to
(status, headers, body) following the API doc; :meth:`SandboxApp.exchange`
adds what happens around it -- the request log, injected faults, the
artificial delay -- and returns an :class:`Exchange` telling the server or
transport how to deliver the answer. Every way of serving (in-process
transports, the built-in server, the ASGI app) runs these two methods and
nothing else, so they all behave alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, quote, unquote

from ._faults import Drop, FaultInjector, NotJSON, Respond, Stall, StallBody, Truncate
from ._files import render_order_pdf, render_ticket_png
from ._http import Delivery, Exchange, HTTPRequest, HTTPResponse
from ._log import RecordedRequest, RequestLog, redact_query
from ._signing import URL_LIFETIME, issue_token, verify_token
from ._state import APIError, SandboxState

__all__ = ["API_ROOT", "SandboxApp"]

API_ROOT = "/tp-api"
_TICKET_FILE = re.compile(r"/files/(tickets/ticket_([0-9a-z]+)\.png)")
_ORDER_FILE = re.compile(r"/files/(tickets/order_([0-9]{1,18})_tickets)")
_POSITIVE_INT = re.compile(r"[0-9]{1,18}")


_Handler: TypeAlias = Callable[[HTTPRequest, int, dict[str, str], list[str]], HTTPResponse]


def _int_param(value: str | None) -> int | None:
    """A positive integer, or None for anything else (the API's "not specified")."""
    if value is None or not _POSITIVE_INT.fullmatch(value):
        return None
    number = int(value)
    return number if number > 0 else None


class SandboxApp:
    """The API and file routes over one :class:`SandboxState`."""

    def __init__(
        self,
        state: SandboxState,
        *,
        signing_key: bytes,
        faults: FaultInjector,
        log: RequestLog,
    ) -> None:
        self.state = state
        self.faults = faults
        self.log = log
        self.delay = 0.0
        self._signing_key = signing_key

    # ------------------------------------------------------------------ around

    def exchange(self, request: HTTPRequest) -> Exchange:
        """Log the request, apply the first matching fault, and say how to answer."""
        record = self._record(request)
        fault = self.faults.take(record)
        delay = self.delay
        exchange: Exchange
        match fault:
            case None:
                exchange = Exchange(self.respond(request), delay)
            case Respond() | NotJSON():
                if fault.after_acting:
                    self.respond(request)
                exchange = Exchange(fault.answer(), delay)
            case Drop():
                if fault.after_acting:
                    self.respond(request)
                exchange = Exchange(None, delay, Delivery.DROP)
            case Stall():
                exchange = Exchange(self.respond(request), delay + fault.seconds)
            case StallBody():
                exchange = Exchange(
                    self.respond(request), delay, Delivery.STALL_BODY, body_stall=fault.seconds
                )
            case Truncate():
                exchange = Exchange(self.respond(request), delay, Delivery.TRUNCATE)
        status = None if exchange.response is None else exchange.response.status
        name = None if fault is None else type(fault).__name__
        self.log.append(replace(record, status=status, fault=name))
        return exchange

    def _record(self, request: HTTPRequest) -> RecordedRequest:
        query_string, query = redact_query(request.query)
        try:
            parsed: Any = json.loads(request.body) if request.body else None
        except (ValueError, RecursionError):
            parsed = None
        return RecordedRequest(
            method=request.method,
            path=request.path,
            query_string=query_string,
            query=query,
            json=parsed,
            body=request.body,
            time=self.state.clock.time(),
        )

    # ------------------------------------------------------------------ routes

    def respond(self, request: HTTPRequest) -> HTTPResponse:
        """The API's answer to ``request`` (no faults, no log, no delay)."""
        path = request.path
        if path.startswith(API_ROOT + "/"):
            return self._api(request, [unquote(s) for s in path[len(API_ROOT) + 1 :].split("/")])
        if path.startswith("/files/"):
            return self._file(request)
        return HTTPResponse.text(404, "Not found")

    def _api(self, request: HTTPRequest, segments: list[str]) -> HTTPResponse:
        route = self._route(segments)
        if route is None:
            return HTTPResponse.text(404, "Not found")
        allowed, handler = route
        if request.method != allowed:
            return HTTPResponse.text(405, "Method not allowed", ("allow", allowed))
        params = dict(parse_qsl(request.query, keep_blank_values=True))
        account_id = self.state.authenticate(params.get("key"))
        if account_id is None:
            return HTTPResponse.text(403, "Unauthorized")
        try:
            return handler(request, account_id, params, segments)
        except APIError as error:
            return HTTPResponse.text(error.status, error.body)

    def _route(self, segments: list[str]) -> tuple[str, _Handler] | None:
        match segments:
            case ["events"]:
                return "GET", self._events
            case ["events", _, "tickets"]:
                return "GET", self._event_tickets
            case ["events", _, "tickets", "personalize"]:
                return "POST", self._personalize
            case ["users", "get-ticket"]:
                return "GET", self._ticket_url
            case ["users", _, "events"]:
                return "GET", self._user_events
            case ["orders", "get-ticket"]:
                return "GET", self._order_url
            case ["orders", "create"]:
                return "POST", self._create_order
            case _:
                return None

    def _events(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        return HTTPResponse.json(self.state.api_events(account_id))

    def _user_events(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        user_id = _int_param(segments[1])
        return HTTPResponse.json(self.state.api_user_events(account_id, user_id))

    def _event_tickets(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        tickets = self.state.api_event_tickets(
            account_id, _int_param(segments[1]), _int_param(params.get("wp_user_id"))
        )
        return HTTPResponse.json(tickets)

    def _personalize(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        result = self.state.api_personalize(
            account_id,
            _int_param(segments[1]),
            segments[1],
            _int_param(params.get("wp_user_id")),
            request.body,
        )
        return HTTPResponse.json(result)

    def _create_order(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        self.state.api_create_order(account_id, request.body)
        return HTTPResponse.text(200, "Order created")

    def _ticket_url(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        file = self.state.api_ticket_file(
            account_id, _int_param(params.get("wp_user_id")), params.get("ticket_id", "")
        )
        return HTTPResponse.json(self._signed_url(request, file))

    def _order_url(
        self, request: HTTPRequest, account_id: int, params: dict[str, str], segments: list[str]
    ) -> HTTPResponse:
        file = self.state.api_order_file(
            account_id, _int_param(params.get("wp_user_id")), params.get("order_id", "")
        )
        return HTTPResponse.json(self._signed_url(request, file))

    def _signed_url(self, request: HTTPRequest, file: str) -> str:
        expires = int(self.state.clock.time()) + URL_LIFETIME
        token = issue_token(self._signing_key, file, expires)
        return f"{request.origin}/files/{quote(file)}?secret={token}"

    # ------------------------------------------------------------------ files

    def _file(self, request: HTTPRequest) -> HTTPResponse:
        ticket = _TICKET_FILE.fullmatch(request.path)
        order = _ORDER_FILE.fullmatch(request.path)
        match = ticket or order
        if match is None:
            return HTTPResponse.text(404, "Not found")
        if request.method != "GET":
            return HTTPResponse.text(405, "Method not allowed", ("allow", "GET"))
        secret = dict(parse_qsl(request.query, keep_blank_values=True)).get("secret", "")
        verdict = verify_token(self._signing_key, secret, match[1], self.state.clock.time())
        if verdict == "invalid":
            return HTTPResponse.text(401, "Invalid signature")
        if verdict == "expired":
            return HTTPResponse.text(401, "Link expired")
        if ticket is not None:
            if not self.state.ticket_png_exists(ticket[2]):
                return HTTPResponse.text(404, "File not found")
            return HTTPResponse.build(200, "image/png", render_ticket_png(ticket[2]))
        pages = self.state.order_pdf_pages(int(match[2]))
        if pages is None:
            return HTTPResponse.text(404, "File not found")
        disposition = f'inline; filename="order_{match[2]}_tickets.pdf"'
        return HTTPResponse.build(
            200, "application/pdf", render_order_pdf(pages), ("content-disposition", disposition)
        )
