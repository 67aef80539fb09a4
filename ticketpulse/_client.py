"""``Client``: the Partner API for blocking code, over the transport of your choice."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import weakref
from collections.abc import Callable, Coroutine, Generator, Iterable
from pathlib import Path
from time import sleep
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

import httpx

from . import _bulk, _endpoints
from ._base import (
    DEFAULT_MAX_RESPONSE_SIZE,
    DEFAULT_TIMEOUT,
    MAX_CONNECTIONS,
    NOT_GIVEN,
    BaseClient,
    NotGiven,
)
from ._bulk import DEFAULT_CONCURRENCY
from ._core import Answer, Call, Failure
from ._errors import AuthenticationError, InvalidRequestError, TicketPulseError, UsageError
from ._files import FileSink
from ._models import (
    Attendee,
    Event,
    NewOrder,
    PersonalizationResult,
    SignedURL,
    Ticket,
    TicketURLResult,
    UserEvent,
)
from ._retry import PENDING, attempts, result_at_once
from ._telemetry import CallSpan, call_span
from ._transport import sync_transport
from ._transport._shared import fork_generation

if TYPE_CHECKING:
    import asyncio

    from ._async_client import AsyncClient

__all__ = ["Client", "TicketURLs"]

T = TypeVar("T")
Self = TypeVar("Self", bound="Client")


class Client(BaseClient):
    """Blocking client of the Ticket Pulse Partner API.

    ``api_key`` falls back to ``TICKETPULSE_API_KEY``; ``base_url`` to
    ``TICKETPULSE_BASE_URL``, then ``https://ticket-pulse.com/tp-api``.
    ``timeout`` is seconds or an ``httpx.Timeout``; ``max_retries`` how many
    times a failed call may be repeated; ``max_connections`` how many
    connections it may open; ``max_response_size`` the largest answer (or
    downloaded file) it accepts, in bytes.

    ``transport`` chooses what moves the bytes: ``"httpx"`` (the default:
    httpx's transport layer, httpcore, mocked by respx) or ``"builtin"`` (the
    SDK's own HTTP/1.1 on blocking sockets: the least CPU per request).
    ``http_client`` sends through your own ``httpx.Client`` instead (never
    closed by this client).

    Share one client for the program's lifetime: it is safe to use from many
    threads at once (also from a thread that runs an event loop, and in the
    children of a ``fork()``, which open connections of their own) and reuses
    keep-alive connections. Close it with ``client.close()`` or ``with``.

    Raises :class:`ConfigurationError` for a missing key or an invalid setting
    (``transport="aiohttp"`` among them: aiohttp has no blocking API).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_connections: int = MAX_CONNECTIONS,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        transport: Literal["httpx", "builtin"] = "httpx",
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, max_retries, max_connections, max_response_size
        )
        self._transport = sync_transport(transport, http_client, self._settings)
        self._user_client = http_client is not None
        self._bulk = _BulkLoop(self._twin_maker(transport))

    def _twin_maker(self, transport: Literal["httpx", "builtin"]) -> Callable[[], AsyncClient]:
        key, base_url, timeout = self._key.value, self._base_url, self._timeout
        max_retries, settings = self._policy.max_retries, self._settings

        def make() -> AsyncClient:
            from ._async_client import AsyncClient  # at the first bulk call, not before

            return AsyncClient(
                key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                max_connections=settings.max_connections,
                max_response_size=settings.max_response_size,
                transport=transport,
            )

        return make

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> Client:
        """A copy with other settings that shares this client's connection pool.

        Closing the copy does not close the pool; close the original when done.
        """
        copy: Client = self._copy_with(timeout, max_retries)
        return copy

    def close(self) -> None:
        """Close the client's connections (never those of an ``http_client`` you passed).

        A copy made by :meth:`with_options` leaves them open: close the original.
        """
        if self._owns_transport:
            self._bulk.close()
            self._transport.close()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def get_events(self) -> list[Event]:
        """Every event of the account, with ticket types and sub-events.

        Raises :class:`AuthenticationError` for a bad key, :class:`APIConnectionError`
        when the API cannot be reached, and the other errors of the README's table.
        """
        return self._run(_endpoints.get_events())

    def get_user_events(self, user_id: int) -> list[UserEvent]:
        """The events an external user (your platform's user id) bought tickets for.

        Returns ``[]`` for a user without orders. Raises :class:`InvalidRequestError`
        for an id that is not a positive int.
        """
        return self._run(_endpoints.get_user_events(user_id))

    def get_event_tickets(self, event_id: int, *, user_id: int) -> list[Ticket]:
        """A user's tickets for an event, with personalisation details and status.

        Raises :class:`NotFoundError` ("Event not found") for an unknown event.
        """
        return self._run(_endpoints.get_event_tickets(event_id, user_id=user_id))

    def personalize_tickets(
        self, event_id: int, *, user_id: int, tickets: Iterable[Attendee]
    ) -> PersonalizationResult:
        """Assign attendee details to tickets (status Created -> Active).

        Tickets no longer "created" are skipped by the API, so re-submitting is
        safe (and retried). Raises :class:`InvalidRequestError` for an empty list
        or an empty field, :class:`BadRequestError` when the user or account does
        not own a ticket, :class:`NotFoundError` for an unknown event.
        """
        return self._run(_endpoints.personalize_tickets(event_id, user_id=user_id, tickets=tickets))

    def get_ticket_url(self, ticket_id: str, *, user_id: int) -> SignedURL:
        """A signed URL of the ticket's QR image, valid for one hour.

        Raises :class:`FileNotReadyError` while the ticket is not personalised,
        :class:`NotPermittedError` for an unknown ticket or another user's.
        """
        return self._run(_endpoints.get_ticket_url(ticket_id, user_id=user_id))

    def get_order_pdf_url(self, order_id: str, *, user_id: int) -> SignedURL:
        """A signed URL of the order's ticket PDF, valid for one hour.

        ``order_id`` is the order reference of a ticket (``Ticket.order_id``,
        e.g. ``"TP-00123"``).

        Raises :class:`FileNotReadyError` until every ticket of the order is
        personalised, :class:`NotPermittedError` for an unknown or foreign order.
        """
        return self._run(_endpoints.get_order_pdf_url(order_id, user_id=user_id))

    def create_order(self, order: NewOrder) -> None:
        """Create an order in Ticket Pulse (stock is reserved, tickets are created).

        Never repeated once the request may have reached the server: raises
        :class:`OrderOutcomeUnknownError` then, so you can check before trying
        again. Raises :class:`InvalidRequestError` for an order without lines or
        with invalid fields, :class:`NotFoundError` / :class:`AuthenticationError`
        for the documented refusals.
        """
        self._run(_endpoints.create_order(order))

    def mark_order_processing(self, tp_order_id: int, *, order: NewOrder | None = None) -> None:
        """Set an existing Ticket Pulse order to Processing (optionally sending order fields).

        Raises :class:`NotFoundError` ("Ticket Pulse order does not exist"),
        :class:`AuthenticationError` for another account's order, and
        :class:`OrderOutcomeUnknownError` like :meth:`create_order`.
        """
        self._run(_endpoints.mark_order_processing(tp_order_id, order=order))

    def download(self, signed_url: SignedURL | str, destination: str | os.PathLike[str]) -> Path:
        """Download a signed file URL (QR PNG or order PDF) to ``destination``.

        ``destination`` is a file path, or an existing directory to save into
        under the URL's file name. The file appears only once complete. Returns
        the path written. Raises :class:`InvalidRequestError` for a non-https URL
        (or a plain-http one from a client whose API is https), a hostile URL, or
        a missing directory; :class:`NotPermittedError` for an expired link.
        """
        call = _endpoints.download(signed_url, allow_http=self._allow_http_files)
        sink = FileSink(destination, call.url or "")
        try:
            self._run(call, sink)
            return sink.commit()
        finally:
            sink.discard()

    def get_ticket_urls(
        self,
        ticket_ids: Iterable[str],
        *,
        user_id: int,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> list[SignedURL]:
        """The signed QR URLs of many tickets, fetched concurrently, in input order.

        At most ``concurrency`` requests are in flight; each is retried like
        :meth:`get_ticket_url`. Every id is checked before anything is sent
        (:class:`InvalidRequestError`). Fails fast: the first error cancels the
        requests in flight and is raised; cancelling the call (Ctrl-C on
        ``Client``) cancels them too. The connections it opens stay open for
        later calls until the client is closed.
        """
        calls = _bulk.all_calls(ticket_ids, user_id)
        limit = _bulk.check_concurrency(concurrency)
        # With the SDK's own connections (no http_client) the requests run on the
        # client's private asyncio loop in a worker thread, whose connections are
        # kept between calls: a thread per request in flight spends its time
        # switching threads, and new connections per call cost a TLS handshake each.
        if self._transport.is_closed:
            raise UsageError("the client is closed: create a new one")
        if min(limit, len(calls)) > 1 and not self._user_client:
            return self._fetch_on_own_loop(calls, limit)
        results: list[SignedURL | None] = [None] * len(calls)
        if not calls:
            return []
        # SPEC §2: the first request goes alone; the rest only once it authenticated.
        results[0] = self._run(calls[0])
        failures: list[TicketPulseError] = []
        indexes = iter(range(1, len(calls)))
        lock = threading.Lock()
        stop = threading.Event()

        def worker() -> None:
            while not stop.is_set():
                with lock:
                    index = next(indexes, None)
                if index is None:
                    return
                try:
                    results[index] = self._run(calls[index])
                except TicketPulseError as exc:
                    failures.append(exc)
                    stop.set()  # the other workers take no more ids
                    return

        _run_threads(worker, min(limit, len(calls) - 1), stop)
        if failures:
            raise failures[0]
        return cast("list[SignedURL]", results)

    def _fetch_on_own_loop(self, calls: list[Call[SignedURL]], limit: int) -> list[SignedURL]:
        """``AsyncClient``'s bulk fetch, on the client's private loop (see :class:`_BulkLoop`)."""
        timeout, max_retries = self._timeout, self._policy.max_retries

        async def fetch(twin: AsyncClient) -> list[SignedURL]:
            # This client's settings (a with_options copy shares the loop and the pool).
            own = twin.with_options(timeout=timeout, max_retries=max_retries)
            return await own._fetch_all(calls, limit)  # pyright: ignore[reportPrivateUsage]

        return self._bulk.run(fetch)

    def iter_ticket_urls(
        self,
        ticket_ids: Iterable[str],
        *,
        user_id: int,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> TicketURLs:
        """The signed QR URLs of many tickets, each as it completes, errors included.

        Each :class:`TicketURLResult` holds a ticket's URL or its error, and the
        iteration goes on after errors. Use it as a context manager::

            with client.iter_ticket_urls(ids, user_id=7) as results:  # Client
                for result in results: ...

            async with client.iter_ticket_urls(ids, user_id=7) as results:  # AsyncClient
                async for result in results: ...

        (a plain ``for`` also works on ``Client``). ``ticket_ids`` is read lazily
        (a generator of millions is fine): memory stays bounded by
        ``concurrency``, the most requests in flight. Leaving early cancels what
        is in flight (``Client``: sends nothing more and waits for it). Raises
        :class:`InvalidRequestError` at once for an invalid ``user_id`` or
        ``concurrency``; an invalid id becomes that ticket's error.
        """
        source = _bulk.Source(ticket_ids, user_id)
        return TicketURLs(self._iter_ticket_urls(source, _bulk.check_concurrency(concurrency)))

    def _iter_ticket_urls(self, source: _bulk.Source, limit: int) -> Generator[TicketURLResult]:
        done = object()
        answers: queue.SimpleQueue[Any] = queue.SimpleQueue()
        # A slot per result in flight or waiting to be taken: bounds memory
        # when the consumer is slower than the workers.
        slots = threading.Semaphore(limit)

        def worker() -> None:
            try:
                while True:
                    slots.acquire()
                    taken = source.take()
                    if taken is None:
                        return
                    ticket_id, call = taken
                    if isinstance(call, InvalidRequestError):
                        outcome: SignedURL | TicketPulseError = call
                    else:
                        try:
                            outcome = self._run(call)
                        except AuthenticationError as exc:
                            source.stop()  # a 403: no new request with a refused key
                            answers.put(exc)
                            return
                        except TicketPulseError as exc:
                            outcome = exc
                    answers.put(_bulk.result_of(ticket_id, outcome))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                answers.put(exc)
            finally:
                answers.put(done)

        # SPEC §2: the first request goes alone (invalid ids before it are handed on
        # as their errors); the workers start only once it has authenticated.
        while True:
            taken = source.take()
            if taken is None:
                return
            ticket_id, call = taken
            if isinstance(call, InvalidRequestError):
                yield _bulk.result_of(ticket_id, call)
                continue
            try:
                first: SignedURL | TicketPulseError = self._run(call)
            except AuthenticationError:
                source.stop()
                raise
            except TicketPulseError as exc:
                first = exc
            yield _bulk.result_of(ticket_id, first)
            break

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(limit)]
        for thread in threads:
            thread.start()
        try:
            running = limit
            while running:
                item = answers.get()
                if item is done:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
                    slots.release()
        finally:
            source.stop()
            for _ in threads:
                slots.release()  # wake workers waiting for a slot, so they see the stop
            for thread in threads:
                thread.join()

    def _run(self, call: Call[T], sink: FileSink | None = None) -> T:
        url, shown = self._urls(call)
        scrub = self._scrub if call.url is None else self._scrub_for(call)
        span = call_span(call.operation, call.method, shown)  # None: nothing traces
        try:
            # The first attempt is made here: most calls end with it (result_at_once).
            if span is not None:
                span.sent()
            first = self._transport.send(call, url, self._timeout, sink, scrub)
            if span is not None and isinstance(first, Answer):
                span.answered(first.status)
            result: T = result_at_once(call, first, method=call.method, url=shown, scrub=scrub)
            if result is PENDING:
                result = self._retried(call, url, shown, scrub, sink, first, span)
        except BaseException as exc:
            if span is not None:
                span.end(exc)
            raise
        if span is not None:
            span.end(None)
        return result

    def _retried(
        self,
        call: Call[T],
        url: str,
        shown: str,
        scrub: Callable[[str], str],
        sink: FileSink | None,
        first: Answer | Failure,
        span: CallSpan | None,
    ) -> T:
        """The rest of a call whose first outcome needs the retry policy."""
        steps = attempts(
            call, self._policy, method=call.method, url=shown, scrub=scrub, first=first
        )
        outcome: Answer | Failure | None = None
        while True:
            try:
                step = steps.send(outcome)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            if step is None:
                if span is not None:
                    span.sent()
                outcome = self._transport.send(call, url, self._timeout, sink, scrub)
                if span is not None and isinstance(outcome, Answer):
                    span.answered(outcome.status)
            else:
                sleep(step)
                outcome = None


class _BulkLoop:
    """The blocking client's bulk fetches: an ``AsyncClient`` twin on a private
    event loop in a worker thread ("ticketpulse-bulk").

    Started by the first bulk call and kept, with the twin's connections, until
    the client is closed (or collected): a script calling ``get_ticket_urls``
    again reuses them instead of opening (and TLS-handshaking) ``concurrency``
    new ones per call. The caller's thread and any loop it runs are left alone.
    After ``fork()`` a child starts its own loop and never touches the parent's
    (SPEC §9). Thread-safe: calls from several threads share the loop.
    """

    def __init__(self, make_twin: Callable[[], AsyncClient]) -> None:
        self._make_twin = make_twin
        self._lock = threading.Lock()
        self._started: _Started | None = None
        self._orphans: list[_Started] = []  # a parent's, in a child after fork(): kept, unused
        self.closed = False

    def run(self, work: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        """``work(twin)`` on the loop; its result or error. Ctrl-C (or any
        interruption of the waiting thread) cancels it, waits for the
        cancellation, and propagates. Raises UsageError once closed."""
        started = self._start()
        done = threading.Event()
        box: list[asyncio.Task[T] | None] = []

        def begin() -> None:
            if started.closing:  # closed meanwhile: the loop is winding down
                box.append(None)
                done.set()
                return
            task = started.loop.create_task(work(started.twin))
            task.add_done_callback(lambda _: done.set())
            box.append(task)

        try:
            started.loop.call_soon_threadsafe(begin)
        except RuntimeError:  # the loop closed in the instant since _start
            raise UsageError("the client is closed: create a new one") from None
        try:
            done.wait()
        except BaseException:
            with contextlib.suppress(RuntimeError):
                started.loop.call_soon_threadsafe(_cancel_first, box)
            done.wait()
            if box[0] is not None and not box[0].cancelled():
                box[0].exception()  # taken, or asyncio logs it as never retrieved
            raise
        task = box[0]
        if task is None or task.cancelled():
            raise UsageError("the client was closed during the call")
        return task.result()

    def _start(self) -> _Started:
        with self._lock:
            if self.closed:
                raise UsageError("the client is closed: create a new one")
            started = self._started
            if started is not None and started.generation != fork_generation():
                self._orphans.append(started)  # the parent's loop, thread and connections
                started = None
            if started is None:
                started = self._started = _Started(self._make_twin())
                weakref.finalize(self, started.stop)
            return started

    def close(self) -> None:
        """Close the twin's connections and end the thread (idempotent)."""
        with self._lock:
            self.closed = True
            started, self._started = self._started, None
        if started is not None:
            started.stop()


class _Started:
    """A running private loop, its thread and the twin on it."""

    def __init__(self, twin: AsyncClient) -> None:
        import asyncio  # not at import time: only bulk calls need it (about 30 ms)

        self.twin = twin
        self.generation = fork_generation()
        self.closing = False
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="ticketpulse-bulk", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        loop = self.loop
        try:
            loop.run_forever()
        finally:
            self.closing = True
            try:
                loop.run_until_complete(self._wind_down())
            finally:
                loop.close()

    async def _wind_down(self) -> None:
        import asyncio

        tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()  # bulk calls still running in other threads: they get UsageError
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.twin.aclose()
        await self.loop.shutdown_asyncgens()

    def stop(self) -> None:
        """End the loop (its connections closed) and wait for its thread; in a
        child after fork(), nothing: they are the parent's."""
        if self.generation != fork_generation():
            return
        with contextlib.suppress(RuntimeError):  # already closed
            self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join()


def _cancel_first(box: list[Any]) -> None:
    if box and box[0] is not None:
        box[0].cancel()


def _run_threads(work: Callable[[], None], count: int, stop: threading.Event) -> None:
    """Run ``work`` in ``count`` threads and wait for all; re-raise the first crash.

    If the waiting thread is interrupted (Ctrl-C), ``stop`` is set so that the
    workers send nothing more, and the interruption propagates.
    """
    crashes: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            crashes.append(exc)

    threads = [threading.Thread(target=guarded, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        raise
    if crashes:
        raise crashes[0]


class TicketURLs:
    """The running ``Client.iter_ticket_urls``: an iterator, and a context manager
    that stops the workers on exit however the block ends."""

    def __init__(self, results: Generator[TicketURLResult]) -> None:
        self._results = results

    def __iter__(self) -> TicketURLs:
        return self

    def __next__(self) -> TicketURLResult:
        return next(self._results)

    def close(self) -> None:
        """Stop taking ids and wait for the requests in flight."""
        self._results.close()

    def __enter__(self) -> TicketURLs:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
