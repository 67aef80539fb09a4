"""The :class:`Sandbox`: an in-memory Ticket Pulse Partner API, and every way to reach it."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncGenerator, Generator, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, cast

import httpx

from ._app import SandboxApp
from ._clock import Clock, SystemClock
from ._connections import ConnectionCounter
from ._demo import DEMO_API_KEY, populate_demo, seed_demo_orders
from ._faults import FaultInjector
from ._log import RequestLog
from ._records import (
    AccountRecord,
    EventRecord,
    MailRecord,
    OrderRecord,
    TicketRecord,
    TicketTypeRecord,
)
from ._serve import Backend, RunningServer, start_server
from ._state import ACTIVE, CANCELLED, SCANNED_IN, SCANNED_OUT, SandboxState
from ._transport import AsyncSandboxTransport, SandboxTransport

if TYPE_CHECKING:
    import ticketpulse

    from ._asgi import ASGIApp

__all__ = ["Sandbox"]

_IN_PROCESS_BASE_URL = "https://sandbox.ticket-pulse.test/tp-api"

_AccountRef = AccountRecord | int
_EventRef = EventRecord | int
_TicketTypeRef = TicketTypeRecord | int


def _id(ref: AccountRecord | EventRecord | TicketTypeRecord | int) -> int:
    return ref if isinstance(ref, int) else ref.id


class Sandbox:
    """A stateful, in-memory Ticket Pulse Partner API that follows the API doc.

    ``Sandbox.demo()`` gives one with demo data (see :data:`DEMO_API_KEY`);
    ``Sandbox()`` an empty one to fill with :meth:`add_account`,
    :meth:`add_event`, :meth:`add_sub_event` and :meth:`add_ticket_type`.
    Reach it in-process (:meth:`client`, :meth:`transport`), over loopback
    sockets (:meth:`serve`), or as an ASGI app (:attr:`asgi_app`). Inspect it
    with :attr:`requests`, :meth:`orders`, :meth:`tickets`...; break it on
    purpose with :attr:`faults`. Thread-safe.

    ``clock`` (a :class:`FakeClock`, say) is the time used for signed URL
    expiry; ``signing_key`` signs those URLs (random by default); ``delay``
    is waited before every answer (seconds).
    """

    DEMO_API_KEY: ClassVar[str] = DEMO_API_KEY

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        signing_key: bytes | None = None,
        delay: float = 0.0,
    ) -> None:
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._state = SandboxState(self._clock)
        self._log = RequestLog()
        self._faults = FaultInjector()
        self._connections = ConnectionCounter()
        self._app = SandboxApp(
            self._state,
            signing_key=signing_key if signing_key is not None else secrets.token_bytes(32),
            faults=self._faults,
            log=self._log,
        )
        self.delay = delay
        self._http_clients: list[httpx.Client | httpx.AsyncClient] = []

    @classmethod
    def demo(
        cls,
        *,
        clock: Clock | None = None,
        signing_key: bytes | None = None,
        delay: float = 0.0,
        users: Iterable[int] = (),
    ) -> Sandbox:
        """A sandbox with the demo account (key :data:`DEMO_API_KEY`) and its events.

        Each of ``users`` (external user ids) gets the two demo orders of event
        12, one personalised and one awaiting personalisation: for the first,
        TP-00123 (tickets a3f9b, 42350) and TP-00124 (e0705, 7eaba). Without
        ``users`` there are no orders.
        """
        sandbox = cls(clock=clock, signing_key=signing_key, delay=delay)
        populate_demo(sandbox)
        for user_id in users:
            seed_demo_orders(sandbox, user_id)
        return sandbox

    def __repr__(self) -> str:
        return (
            f"<Sandbox accounts={len(self._state.account_records())}"
            f" orders={self.order_count()} requests={len(self._log)}>"
        )

    # ------------------------------------------------------------------ settings

    @property
    def base_url(self) -> str:
        """The in-process base URL: ``https://sandbox.ticket-pulse.test/tp-api``."""
        return _IN_PROCESS_BASE_URL

    @property
    def clock(self) -> Clock:
        """The clock signed URLs expire by."""
        return self._clock

    @property
    def api_key(self) -> str:
        """The key :meth:`client` uses by default: the first account's (the demo key)."""
        accounts = self._state.account_records()
        if not accounts:
            raise LookupError("this sandbox has no account yet: call add_account() first")
        return accounts[0].key

    @property
    def delay(self) -> float:
        """Seconds waited before every answer (for latency-bound benchmarks); 0 by default."""
        return self._app.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("delay must be >= 0 seconds")
        self._app.delay = float(seconds)

    @property
    def requests(self) -> RequestLog:
        """Every request received, oldest first, the API key redacted; ``.clear()`` empties it."""
        return self._log

    @property
    def faults(self) -> FaultInjector:
        """Fault injection: ``sandbox.faults.inject(Respond(503), times=2)``."""
        return self._faults

    @property
    def connections(self) -> ConnectionCounter:
        """Connections to this sandbox's loopback servers: ``open``, ``accepted``, ``peak``."""
        return self._connections

    @property
    def app(self) -> SandboxApp:
        """The sans-I/O HTTP handler every transport and server runs."""
        return self._app

    @property
    def outbox(self) -> list[MailRecord]:
        """The ticket PDFs the real service would have e-mailed, oldest first."""
        return self._state.outbox()

    # ------------------------------------------------------------------ building

    def add_account(self, key: str | None = None, *, name: str = "Partner") -> AccountRecord:
        """A new seller account with API ``key`` (a generated one if None)."""
        return self._state.add_account(key, name)

    def _account_id(self, account: _AccountRef | None) -> int:
        if account is not None:
            return _id(account)
        accounts = self._state.account_records()
        if not accounts:
            raise LookupError("this sandbox has no account yet: call add_account() first")
        return accounts[0].id

    def add_event(
        self,
        account: _AccountRef | None = None,
        *,
        name: str,
        city: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        price: Decimal | int | str = "0.00",
        stock: int | None = None,
        status: int = 1,
    ) -> EventRecord:
        """A new event of ``account`` (default: the first account).

        ``stock`` None reports what its ticket types and sub-events have left;
        an int is a capacity shared by its own ticket types, reduced by each
        order. Naive datetimes are taken as UTC.
        """
        return self._state.add_event(
            self._account_id(account),
            None,
            name=name,
            city=city,
            start=start,
            end=end,
            price=price,
            stock=stock,
            status=status,
            extra={},
        )

    def add_sub_event(
        self,
        parent: _EventRef,
        *,
        name: str,
        start: datetime | None = None,
        end: datetime | None = None,
        price: Decimal | int | str = "0.00",
        stock: int | None = None,
        status: int = 1,
        featured: bool = False,
        location: str | None = None,
        thumbnail: str | None = None,
        manage_price_per_ticket: bool = True,
        manage_stock_per_ticket: bool = True,
        event_params: Mapping[str, Any] | None = None,
        password: str | None = None,
        deleted_at: datetime | None = None,
    ) -> EventRecord:
        """A sub-event (a date of a multi-day event) of ``parent``.

        ``thumbnail`` defaults to ``"event-<id>.jpg"`` as in the doc.
        """
        return self._state.add_event(
            None,  # the parent's account
            _id(parent),
            name=name,
            city=None,
            start=start,
            end=end,
            price=price,
            stock=stock,
            status=status,
            extra={
                "featured": featured,
                "location": location,
                "thumbnail": thumbnail,
                "manage_price_per_ticket": manage_price_per_ticket,
                "manage_stock_per_ticket": manage_stock_per_ticket,
                "event_params": dict(event_params or {}),
                "password": password,
                "deleted_at": deleted_at,
            },
        )

    def add_ticket_type(
        self,
        event: _EventRef,
        *,
        name: str,
        price: Decimal | int | str,
        stock: int,
        status: int = 1,
        date: datetime | None = None,
        enabled: bool = True,
    ) -> TicketTypeRecord:
        """A ticket type of ``event`` with ``stock`` units to sell."""
        return self._state.add_ticket_type(
            _id(event),
            name=name,
            price=price,
            stock=stock,
            status=status,
            date=date,
            enabled=enabled,
        )

    def set_stock(self, ticket_type: _TicketTypeRef, stock: int) -> None:
        """Set what a ticket type has left to sell."""
        self._state.set_stock(_id(ticket_type), stock)

    def add_order(
        self,
        account: _AccountRef | None = None,
        *,
        wp_user_id: int | None,
        items: Mapping[int, int]
        | Mapping[TicketTypeRecord, int]
        | Iterable[tuple[_TicketTypeRef, int]],
        wp_order_id: str | None = None,
    ) -> OrderRecord:
        """Place an order directly, as POST /orders/create would (stock taken, tickets made).

        ``items`` maps ticket types to quantities. Raises ``ValueError`` when
        stock is short or a ticket type cannot be sold.
        """
        pairs: list[tuple[_TicketTypeRef, int]]
        if isinstance(items, Mapping):
            pairs = list(cast("Mapping[_TicketTypeRef, int]", items).items())
        else:
            pairs = list(items)
        return self._state.add_order(
            self._account_id(account),
            wp_user_id=wp_user_id,
            wp_order_id=wp_order_id,
            items=[(_id(t), q) for t, q in pairs],
        )

    # ------------------------------------------------------------------ looking up

    def accounts(self) -> list[AccountRecord]:
        """Every account, in creation order."""
        return self._state.account_records()

    def account(self, key_or_id: str | int) -> AccountRecord:
        """The account with this API key or id (``KeyError`` if none)."""
        if isinstance(key_or_id, int):
            return self._state.account_record(key_or_id)
        account_id = self._state.authenticate(key_or_id)
        if account_id is None:
            raise KeyError("no account with this key")
        return self._state.account_record(account_id)

    def events(self, account: _AccountRef | None = None) -> list[EventRecord]:
        """Events and sub-events (of one account, or all)."""
        return self._state.event_records(None if account is None else _id(account))

    def event(self, event_id: int) -> EventRecord:
        """One event or sub-event by id."""
        return self._state.event_record(event_id)

    def ticket_type(self, ticket_type_id: int) -> TicketTypeRecord:
        """One ticket type by id."""
        return self._state.ticket_type_record(ticket_type_id)

    def stock(self, ticket_type: _TicketTypeRef) -> int:
        """What a ticket type has left to sell."""
        return self._state.ticket_type_record(_id(ticket_type)).stock

    def orders(self, account: _AccountRef | None = None) -> list[OrderRecord]:
        """Orders (of one account, or all), oldest first."""
        return self._state.order_records(None if account is None else _id(account))

    def order(self, order: int | str) -> OrderRecord:
        """One order by tp_order_id (int) or reference (``"TP-00123"``)."""
        return self._state.order_record(order)

    def order_count(self, account: _AccountRef | None = None) -> int:
        """How many orders exist (of one account, or all)."""
        return self._state.order_count(None if account is None else _id(account))

    def tickets(
        self, *, order: int | str | None = None, event: _EventRef | None = None
    ) -> list[TicketRecord]:
        """Tickets, optionally of one order (id or reference) and/or event (with its sub-events)."""
        order_id = None if order is None else self._state.order_record(order).id
        return self._state.ticket_records(order_id, None if event is None else _id(event))

    def ticket(self, reference: str) -> TicketRecord:
        """One ticket by reference (the API's ticket ``id``)."""
        return self._state.ticket_record(reference)

    # ------------------------------------------------------------------ changing tickets

    def set_ticket_status(self, reference: str, status: int) -> TicketRecord:
        """Force a ticket's status (1 created ... 5 cancelled), as the venue's systems would."""
        return self._state.set_ticket_status(reference, int(status))

    def scan_in(self, reference: str) -> TicketRecord:
        """Mark a ticket scanned in (status 3)."""
        return self._state.set_ticket_status(reference, SCANNED_IN)

    def scan_out(self, reference: str) -> TicketRecord:
        """Mark a ticket scanned out (status 4)."""
        return self._state.set_ticket_status(reference, SCANNED_OUT)

    def cancel_ticket(self, reference: str) -> TicketRecord:
        """Cancel a ticket (status 5): it loses its QR image and leaves the order PDF."""
        return self._state.set_ticket_status(reference, CANCELLED)

    def activate_ticket(self, reference: str) -> TicketRecord:
        """Force a ticket active (status 2) without attendee details."""
        return self._state.set_ticket_status(reference, ACTIVE)

    def personalize_ticket(
        self, reference: str, *, first_name: str, last_name: str, email: str, phone: str
    ) -> TicketRecord:
        """Personalise a status-1 ticket directly, as the personalize endpoint would."""
        return self._state.personalize_ticket(
            reference, first_name=first_name, last_name=last_name, email=email, phone=phone
        )

    def set_ticket_deprecated(self, reference: str, deprecated: bool = True) -> TicketRecord:
        """Set a ticket's ``is_deprecated`` flag."""
        return self._state.set_ticket_deprecated(reference, deprecated)

    # ------------------------------------------------------------------ serving

    def transport(self) -> httpx.BaseTransport:
        """An in-process ``httpx`` transport: ``httpx.Client(transport=sandbox.transport())``."""
        return SandboxTransport(self._app)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An in-process async ``httpx`` transport (asyncio and trio)."""
        return AsyncSandboxTransport(self._app)

    @property
    def asgi_app(self) -> ASGIApp:
        """The sandbox as a plain ASGI 3 application, for any ASGI server."""
        from ._asgi import make_asgi_app

        return make_asgi_app(self._app)

    def start_server(
        self, host: str = "127.0.0.1", port: int = 0, *, server: Backend = "builtin"
    ) -> RunningServer:
        """Serve over loopback sockets from a background thread until ``.stop()``.

        ``port`` 0 picks a free port; ``server`` is ``"builtin"`` (h11, full
        fault control and connection counts) or ``"uvicorn"`` (needs the
        ``ticketpulse[serve]`` extra).
        """
        return start_server(self._app, self._connections, host=host, port=port, backend=server)

    @contextlib.contextmanager
    def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, server: Backend = "builtin"
    ) -> Generator[str]:
        """``with sandbox.serve() as base_url:`` -- serve over loopback for the block.

        ``base_url`` is like ``http://127.0.0.1:PORT/tp-api``; on exit every
        connection is closed and the server thread joined.
        """
        running = self.start_server(host, port, server=server)
        try:
            yield running.base_url
        finally:
            running.stop()

    @contextlib.asynccontextmanager
    async def aserve(
        self, host: str = "127.0.0.1", port: int = 0, *, server: Backend = "builtin"
    ) -> AsyncGenerator[str]:
        """``async with sandbox.aserve() as base_url:`` -- :meth:`serve`, not blocking the loop."""
        import anyio.to_thread

        def start() -> RunningServer:
            return self.start_server(host, port, server=server)

        running = await anyio.to_thread.run_sync(start)
        try:
            yield running.base_url
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(running.stop)

    def client(self, **kwargs: Any) -> ticketpulse.Client:
        """A ``ticketpulse.Client`` talking to this sandbox in-process.

        Keyword arguments go to ``ticketpulse.Client``; ``api_key`` defaults to
        :attr:`api_key`, ``base_url`` to :attr:`base_url`, ``http_client`` to an
        ``httpx.Client`` on :meth:`transport` (closed by :meth:`close`).
        """
        from ticketpulse import Client

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.base_url)
        if "http_client" not in kwargs:
            http_client = httpx.Client(transport=self.transport())
            self._http_clients.append(http_client)
            kwargs["http_client"] = http_client
        return Client(**kwargs)

    def async_client(self, **kwargs: Any) -> ticketpulse.AsyncClient:
        """A ``ticketpulse.AsyncClient`` talking to this sandbox in-process (see :meth:`client`)."""
        from ticketpulse import AsyncClient

        kwargs.setdefault("api_key", self.api_key)
        kwargs.setdefault("base_url", self.base_url)
        if "http_client" not in kwargs:
            http_client = httpx.AsyncClient(transport=self.async_transport())
            self._http_clients.append(http_client)
            kwargs["http_client"] = http_client
        return AsyncClient(**kwargs)

    def close(self) -> None:
        """Close the blocking httpx clients that :meth:`client` created (idempotent).

        They hold no socket (the transport is in-process): this is tidiness.
        Use :meth:`aclose` to close the async ones too.
        """
        keep: list[httpx.Client | httpx.AsyncClient] = []
        for http_client in self._http_clients:
            if isinstance(http_client, httpx.Client):
                http_client.close()
            else:
                keep.append(http_client)
        self._http_clients = keep

    async def aclose(self) -> None:
        """Close every httpx client that :meth:`client` and :meth:`async_client` created."""
        clients, self._http_clients = self._http_clients, []
        for http_client in clients:
            if isinstance(http_client, httpx.AsyncClient):
                await http_client.aclose()
            else:
                http_client.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
