"""``AsyncClient``: the Partner API for async code, over the transport of your choice."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar, cast

import anyio
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
from ._telemetry import CallSpan, call_span, traceable, tracing
from ._transport import TransportName, async_transport
from ._transport._shared import ChainingTransport, fork_generation

if TYPE_CHECKING:
    import aiohttp
    from anyio.abc import TaskGroup
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

__all__ = ["AsyncClient", "AsyncTicketURLs"]

T = TypeVar("T")
Self = TypeVar("Self", bound="AsyncClient")


async def sleep(seconds: float) -> None:
    """Wait between attempts (``anyio.sleep``, looked up on the first wait).

    anyio 4 loads its event-loop module on first access of a name like
    ``sleep``; taking it at import would make every ``import ticketpulse`` pay.
    """
    await anyio.sleep(seconds)


class AsyncClient(BaseClient):
    """Asynchronous client of the Ticket Pulse Partner API.

    ``api_key`` falls back to ``TICKETPULSE_API_KEY``; ``base_url`` to
    ``TICKETPULSE_BASE_URL``, then ``https://ticket-pulse.com/tp-api``.
    ``timeout`` is seconds or an ``httpx.Timeout``; ``max_retries`` how many
    times a failed call may be repeated; ``max_connections`` how many
    connections it may open; ``max_response_size`` the largest answer (or
    downloaded file) it accepts, in bytes.

    ``transport`` chooses what moves the bytes: ``"httpx"`` (the default:
    httpx's transport layer, on asyncio and trio, mocked by respx),
    ``"builtin"`` (the SDK's own HTTP/1.1: the least CPU per request, for bulk
    runs; asyncio only) or ``"aiohttp"`` (extra ``ticketpulse[aiohttp]``;
    asyncio only). ``http_client`` sends through your own ``httpx.AsyncClient``
    or ``aiohttp.ClientSession`` instead (never closed by this client).

    Share one client for the application's lifetime: it is safe to use from
    many tasks at once and reuses keep-alive connections, in the event loop it
    is first used in. Close it with ``await client.aclose()`` or ``async with``.

    Raises :class:`ConfigurationError` for a missing key or an invalid setting.
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
        transport: TransportName = "httpx",
        http_client: httpx.AsyncClient | aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(
            api_key, base_url, timeout, max_retries, max_connections, max_response_size
        )
        self._transport_name = transport
        self._transport = async_transport(transport, http_client, self._settings)
        self._user_client = http_client is not None
        self._loop = _LoopBinding(self._transport.aclose, type(self).__name__)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
    ) -> AsyncClient:
        """A copy with other settings that shares this client's connection pool.

        Closing the copy does not close the pool; close the original when done.
        """
        copy: AsyncClient = self._copy_with(timeout, max_retries)
        return copy

    async def aclose(self) -> None:
        """Close the client's connections (never those of an ``http_client`` you passed).

        Call it in the event loop the client was used in (at the end of your
        app's lifespan, say). Once that loop has ended there is nothing left to
        close: ``asyncio.run``, ``anyio.run`` and ``trio.run`` close the
        client's connections as they finish. Raises :class:`UsageError` when
        called from another loop while the client's own is still running.
        """
        if self._owns_transport:
            await self._loop.aclose()

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def get_events(self) -> list[Event]:
        """Every event of the account, with ticket types and sub-events.

        Raises :class:`AuthenticationError` for a bad key, :class:`APIConnectionError`
        when the API cannot be reached, and the other errors of the README's table.
        """
        return await self._run(_endpoints.get_events())

    async def get_user_events(self, user_id: int) -> list[UserEvent]:
        """The events an external user (your platform's user id) bought tickets for.

        Returns ``[]`` for a user without orders. Raises :class:`InvalidRequestError`
        for an id that is not a positive int.
        """
        return await self._run(_endpoints.get_user_events(user_id))

    async def get_event_tickets(self, event_id: int, *, user_id: int) -> list[Ticket]:
        """A user's tickets for an event, with personalisation details and status.

        Raises :class:`NotFoundError` ("Event not found") for an unknown event.
        """
        return await self._run(_endpoints.get_event_tickets(event_id, user_id=user_id))

    async def personalize_tickets(
        self, event_id: int, *, user_id: int, tickets: Iterable[Attendee]
    ) -> PersonalizationResult:
        """Assign attendee details to tickets (status Created -> Active).

        Tickets no longer "created" are skipped by the API, so re-submitting is
        safe (and retried). Raises :class:`InvalidRequestError` for an empty list
        or an empty field, :class:`BadRequestError` when the user or account does
        not own a ticket, :class:`NotFoundError` for an unknown event.
        """
        return await self._run(
            _endpoints.personalize_tickets(event_id, user_id=user_id, tickets=tickets)
        )

    async def get_ticket_url(self, ticket_id: str, *, user_id: int) -> SignedURL:
        """A signed URL of the ticket's QR image, valid for one hour.

        Raises :class:`FileNotReadyError` while the ticket is not personalised,
        :class:`NotPermittedError` for an unknown ticket or another user's.
        """
        return await self._run(_endpoints.get_ticket_url(ticket_id, user_id=user_id))

    async def get_order_pdf_url(self, order_id: str, *, user_id: int) -> SignedURL:
        """A signed URL of the order's ticket PDF, valid for one hour.

        ``order_id`` is the order reference of a ticket (``Ticket.order_id``,
        e.g. ``"TP-00123"``).

        Raises :class:`FileNotReadyError` until every ticket of the order is
        personalised, :class:`NotPermittedError` for an unknown or foreign order.
        """
        return await self._run(_endpoints.get_order_pdf_url(order_id, user_id=user_id))

    async def create_order(self, order: NewOrder) -> None:
        """Create an order in Ticket Pulse (stock is reserved, tickets are created).

        Never repeated once the request may have reached the server: raises
        :class:`OrderOutcomeUnknownError` then, so you can check before trying
        again. Raises :class:`InvalidRequestError` for an order without lines or
        with invalid fields, :class:`NotFoundError` / :class:`AuthenticationError`
        for the documented refusals.
        """
        await self._run(_endpoints.create_order(order))

    async def mark_order_processing(
        self, tp_order_id: int, *, order: NewOrder | None = None
    ) -> None:
        """Set an existing Ticket Pulse order to Processing (optionally sending order fields).

        Raises :class:`NotFoundError` ("Ticket Pulse order does not exist"),
        :class:`AuthenticationError` for another account's order, and
        :class:`OrderOutcomeUnknownError` like :meth:`create_order`.
        """
        await self._run(_endpoints.mark_order_processing(tp_order_id, order=order))

    async def download(
        self, signed_url: SignedURL | str, destination: str | os.PathLike[str]
    ) -> Path:
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
            await self._run(call, sink)
            return sink.commit()
        finally:
            sink.discard()

    async def get_ticket_urls(
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
        return await self._fetch_all(calls, _bulk.check_concurrency(concurrency))

    async def _fetch_all(self, calls: list[Call[SignedURL]], limit: int) -> list[SignedURL]:
        # Every worker runs in this task's loop: it is checked once, not per call.
        self._loop.check()
        transport = self._transport
        if isinstance(transport, ChainingTransport):
            return await fetch_all(
                self._run_in_loop,
                calls,
                limit,
                functools.partial(self._drain_chained, transport, calls),
            )
        return await fetch_all(self._run_in_loop, calls, limit)

    async def _drain_chained(
        self,
        transport: ChainingTransport,
        calls: list[Call[SignedURL]],
        indexes: Iterator[int],
        results: list[SignedURL | None],
        failures: list[TicketPulseError],
    ) -> None:
        """One worker of a chained bulk run (a :data:`Drain` of :func:`fetch_all`):
        its calls chained on its connection, a call answered 2xx at once read, and
        the next one sent, in the read callback. Any other call, and any call made
        while tracing, is finished the usual way (retries, spans), here."""
        chain = _Chain(self._urls, self._scrub, calls, results, indexes, failures, traceable())
        while chain.take():
            first: Answer | Failure | None = None
            if not tracing():
                last = await transport.send_chain(
                    chain.call, chain.url, self._timeout, self._scrub, chain.step
                )
                first = chain.pending if last is None else last
                if first is None and not chain.unsent:
                    continue  # step read every answer of the chain
            chain.pending, chain.unsent = None, False
            url: SignedURL = await self._settle(chain.call, chain.url, chain.shown, first)
            results[chain.index] = url

    async def _settle(
        self, call: Call[T], url: str, shown: str, first: Answer | Failure | None
    ) -> T:
        """A call taken off a chain: its first outcome through the retry policy, or
        (``first`` None: it was not sent) the whole call."""
        if first is None:
            return await self._run_in_loop(call)
        result: T = result_at_once(call, first, method=call.method, url=shown, scrub=self._scrub)
        if result is PENDING:
            result = await self._retried(call, url, shown, self._scrub, None, first, None)
        return result

    def iter_ticket_urls(
        self,
        ticket_ids: Iterable[str],
        *,
        user_id: int,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> AsyncTicketURLs:
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
        concurrency = _bulk.check_concurrency(concurrency)
        return AsyncTicketURLs(self._loop.check, self._run_in_loop, source, concurrency)

    async def _run(self, call: Call[T], sink: FileSink | None = None) -> T:
        self._loop.check()
        return await self._run_in_loop(call, sink)

    async def _run_in_loop(self, call: Call[T], sink: FileSink | None = None) -> T:
        """:meth:`_run` once the running loop was checked (a bulk run checks it once)."""
        url, shown = self._urls(call)
        scrub = self._scrub if call.url is None else self._scrub_for(call)
        span = call_span(call.operation, call.method, shown)  # None: nothing traces
        try:
            # The first attempt is made here: most calls end with it (result_at_once).
            if span is not None:
                span.sent()
            first = await self._transport.send(call, url, self._timeout, sink, scrub)
            if span is not None and isinstance(first, Answer):
                span.answered(first.status)
            result: T = result_at_once(call, first, method=call.method, url=shown, scrub=scrub)
            if result is PENDING:
                result = await self._retried(call, url, shown, scrub, sink, first, span)
        except BaseException as exc:
            if span is not None:
                span.end(exc)
            raise
        if span is not None:
            span.end(None)
        return result

    async def _retried(
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
                outcome = await self._transport.send(call, url, self._timeout, sink, scrub)
                if span is not None and isinstance(outcome, Answer):
                    span.answered(outcome.status)
            else:
                await sleep(step)
                outcome = None


class AsyncTicketURLs:
    """The running ``AsyncClient.iter_ticket_urls``: an async context manager and iterator.

    The concurrent requests live inside the ``async with`` block (structured
    concurrency: an async generator cannot safely own running tasks), so
    iterating without entering it raises ``RuntimeError``.
    """

    def __init__(
        self,
        check_loop: Callable[[], None],
        run: Callable[[Call[SignedURL]], Awaitable[SignedURL]],
        source: _bulk.Source,
        concurrency: int,
    ) -> None:
        self._check_loop = check_loop  # once, on entering: every worker runs in that loop
        self._run = run
        self._source = source
        self._concurrency = concurrency
        self._group: TaskGroup | None = None
        self._receive: MemoryObjectReceiveStream[TicketURLResult | BaseException] | None = None

    async def __aenter__(self) -> AsyncTicketURLs:
        if self._group is not None:
            raise RuntimeError("iter_ticket_urls() results can be entered only once")
        self._check_loop()
        # Buffer bounded by the concurrency: workers wait for a slow consumer.
        send, self._receive = anyio.create_memory_object_stream[TicketURLResult | BaseException](
            self._concurrency
        )
        self._group = anyio.create_task_group()
        await self._group.__aenter__()
        self._group.start_soon(self._feed, send)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._group is not None
        assert self._receive is not None
        self._source.stop()
        self._group.cancel_scope.cancel()  # early exit: stop what is in flight
        try:
            # The block's own exception is not handed to the task group, which
            # would wrap it in an ExceptionGroup: it propagates as it is.
            await self._group.__aexit__(None, None, None)
        finally:
            self._receive.close()

    def __aiter__(self) -> AsyncTicketURLs:
        return self

    async def __anext__(self) -> TicketURLResult:
        if self._receive is None:
            raise RuntimeError(
                "use `async with client.iter_ticket_urls(...) as results:` "
                "and iterate over `results` inside the block"
            )
        try:
            item = await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        if isinstance(item, BaseException):
            raise item  # the caller's own iterable of ids failed
        return item

    async def _feed(self, send: MemoryObjectSendStream[TicketURLResult | BaseException]) -> None:
        async with send:
            # SPEC §2: the first request goes alone; the rest fan out only once it
            # has authenticated (a wrong key reaches the server once).
            if not await self._take_one(send, until_sent=True):
                return
            async with anyio.create_task_group() as workers:
                for _ in range(self._concurrency):
                    workers.start_soon(self._work, send.clone())

    async def _work(self, send: MemoryObjectSendStream[TicketURLResult | BaseException]) -> None:
        async with send:
            while await self._take_one(send):
                pass

    async def _take_one(
        self,
        send: MemoryObjectSendStream[TicketURLResult | BaseException],
        until_sent: bool = False,
    ) -> bool:
        """Fetch the next id's URL and hand on its result; False once the run is over.

        ``until_sent``: skip over invalid ids (handed on as their errors) until one
        request has been sent. A 403 ends the run: the key is bad, not the ticket.
        """
        while True:
            try:
                taken = self._source.take()
            except Exception as exc:  # noqa: BLE001 - handed to the consumer
                await send.send(exc)
                return False
            if taken is None:
                return False
            ticket_id, call = taken
            if isinstance(call, InvalidRequestError):
                await send.send(_bulk.result_of(ticket_id, call))
                if until_sent:
                    continue
                return True
            try:
                outcome: SignedURL | TicketPulseError = await self._run(call)
            except AuthenticationError as exc:
                self._source.stop()  # no new request with a key the API refuses
                await send.send(exc)
                return False
            except TicketPulseError as exc:
                outcome = exc
            await send.send(_bulk.result_of(ticket_id, outcome))
            return True


Drain = Callable[[Iterator[int], list[SignedURL | None], list[TicketPulseError]], Awaitable[None]]
"""One worker of :func:`fetch_all`: runs the calls of the indexes it takes from the
shared iterator, into the results; stops once ``failures`` has one."""


async def fetch_all(
    run: Callable[[Call[SignedURL]], Awaitable[SignedURL]],
    calls: list[Call[SignedURL]],
    limit: int,
    drain: Drain | None = None,
) -> list[SignedURL]:
    """``run`` every call, at most ``limit`` at once; the results in order, or the first error.

    The first call goes alone, the rest only once it has authenticated (SPEC §2:
    a wrong key reaches the server once). The first error cancels the calls in
    flight and is raised. ``drain``: how each worker runs its calls (one
    ``run`` after another by default).
    """
    results: list[SignedURL | None] = [None] * len(calls)
    if not calls:
        return []
    results[0] = await run(calls[0])
    failures: list[TicketPulseError] = []
    indexes = iter(range(1, len(calls)))

    async def each(
        indexes: Iterator[int], results: list[SignedURL | None], failures: list[TicketPulseError]
    ) -> None:
        for index in indexes:  # shared: each worker takes the next index
            if failures:
                # The run is over: cancellation reaches a worker only at its next
                # await that yields, which an answer already there may not.
                return
            results[index] = await run(calls[index])

    work = drain or each

    async def worker(scope: anyio.CancelScope) -> None:
        try:
            await work(indexes, results, failures)
        except TicketPulseError as exc:
            failures.append(exc)
            scope.cancel()

    async with anyio.create_task_group() as group:
        for _ in range(min(limit, len(calls) - 1)):
            group.start_soon(worker, group.cancel_scope)
    if failures:
        raise failures[0]
    return cast("list[SignedURL]", results)


class _Chain:
    """One worker's calls in a chained bulk run (``AsyncClient._fetch_chained``).

    :meth:`step` runs in the read callback that completed an answer: it reads
    a 2xx answer into its result and gives the next call to send. An answer the
    retry policy must weigh is left in ``pending``; a call taken while tracing
    began is left ``unsent``: the worker finishes either the usual way.
    """

    __slots__ = (
        "call",
        "calls",
        "failures",
        "index",
        "indexes",
        "pending",
        "results",
        "scrub",
        "shown",
        "traceable",
        "unsent",
        "url",
        "urls",
    )

    def __init__(
        self,
        urls: Callable[[Call[SignedURL]], tuple[str, str]],
        scrub: Callable[[str], str],
        calls: list[Call[SignedURL]],
        results: list[SignedURL | None],
        indexes: Iterator[int],
        failures: list[TicketPulseError],
        traceable: bool,
    ) -> None:
        self.urls = urls  # the client's: a call's URL to send and its redacted form
        self.traceable = traceable  # False: tracing() is False for good, not asked per call
        self.calls = calls
        self.results = results
        self.indexes = indexes  # shared by the workers: each takes the next index
        self.failures = failures
        self.scrub = scrub
        self.index = 0
        self.call = calls[0]
        self.url = self.shown = ""
        self.pending: Answer | None = None
        self.unsent = False

    def take(self) -> bool:
        """Make the run's next call this chain's: False when none is left, or the
        run failed (cancellation reaches a worker only at an await that yields)."""
        if self.failures:
            return False
        index = next(self.indexes, None)
        if index is None:
            return False
        self.index, self.call = index, self.calls[index]
        self.url, self.shown = self.urls(self.call)
        return True

    def step(self, answer: Answer) -> tuple[Call[SignedURL], str] | None:
        """This chain's call was answered: its result read, then the next call."""
        call = self.call
        result = result_at_once(call, answer, method=call.method, url=self.shown, scrub=self.scrub)
        if result is PENDING:
            self.pending = answer
            return None
        self.results[self.index] = result
        if not self.take():
            return None
        if self.traceable and tracing():
            self.unsent = True
            return None
        return self.call, self.url


def _current_loop() -> object:
    """The running event loop (asyncio) or run (trio): what pooled connections belong to."""
    # Neither library is imported here: whichever is running is already loaded.
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
    trio = sys.modules.get("trio")
    if trio is None:
        raise UsageError("no running event loop: await the AsyncClient's methods in one")
    try:
        return trio.lowlevel.current_trio_token()
    except RuntimeError:
        raise UsageError("no running event loop: await the AsyncClient's methods in one") from None


class _LoopBinding:
    """The event loop an AsyncClient's connections belong to; shared with its copies.

    Binding starts an async generator in that loop whose ``finally`` closes the
    connections: loops finalize their async generators as they end (asyncio.run,
    anyio.run, trio.run), the last moment their sockets can still be closed.
    In a child process after ``fork()`` the binding starts over: the child's
    first loop gets connections of its own (the transport forgets the parent's).
    """

    __slots__ = ("_close", "_closer", "_generation", "_guard", "_name", "loop")

    def __init__(self, close: Callable[[], Awaitable[None]], name: str) -> None:
        self._close = close
        self._name = name
        self._reset()

    def _reset(self) -> None:
        self.loop: weakref.ref[object] | None = None
        self._closer = _Closer(self._close)
        self._guard: AsyncGenerator[None, None] | None = None
        self._generation = fork_generation()

    def check(self) -> None:
        loop = _current_loop()
        if self.loop is not None and self.loop() is loop:
            return
        if self._generation != fork_generation():
            self._reset()  # the parent's loop and its generator are the parent's
        if self.loop is None:
            self.loop = weakref.ref(loop)
            self._guard = _close_at_loop_end(self._closer)
            # Run it to its ``yield`` now (it awaits nothing before): the loop's
            # first-iteration hook adopts it, so the loop will finalize it.
            with contextlib.suppress(StopIteration):
                self._guard.asend(None).send(None)
            return
        if self._closer.done:
            raise UsageError(
                f"this {self._name} was bound to the event loop it was first used in, which "
                "has ended (its connections were closed then): create the client inside the "
                "loop that uses it (e.g. in your app's lifespan, or per asyncio.run() call)"
            )
        # A different loop, or the first one is gone: either way the pooled
        # connections belong to a loop that cannot serve this call.
        raise UsageError(
            f"this {self._name} is bound to the event loop it was first used in, and its "
            "pooled connections cannot be used from another one: create the client inside "
            "the loop that uses it (e.g. in your app's lifespan, or per asyncio.run() call)"
        )

    async def aclose(self) -> None:
        """Close the connections in their own loop; nothing to do once it has ended."""
        if self._generation != fork_generation():
            self._reset()
        if self._closer.done:
            return
        guard, self._guard = self._guard, None
        if guard is None:  # never used: no loop holds its connections
            await self._closer()
            return
        bound = None if self.loop is None else self.loop()
        if bound is _current_loop():
            await guard.aclose()  # runs its ``finally``: the closer
            return
        if bound is not None and _still_open(bound):
            self._guard = guard
            raise UsageError(
                f"this {self._name} is bound to the event loop it was first used in, which "
                "is still open: close the client inside that loop (e.g. at the end of your "
                "app's lifespan)"
            )
        # Its loop was closed without finalizing async generators (loop.close()
        # by hand): the connections went with it and cannot be closed from here.
        self._closer.done = True


class _Closer:
    """Closes a client's connections once, shielded from cancellation."""

    __slots__ = ("close", "done")

    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        self.close = close
        self.done = False

    async def __call__(self) -> None:
        if self.done:
            return
        self.done = True
        # trio finalizes async generators inside a cancelled scope.
        with anyio.CancelScope(shield=True):
            await self.close()


async def _close_at_loop_end(closer: _Closer) -> AsyncGenerator[None, None]:
    # Holds the closer, not the client: a client dropped without aclose() is
    # freed at once, and the loop's finalizer hook then closes its connections.
    try:
        yield
    finally:
        await closer()


def _still_open(loop: object) -> bool:
    is_closed = getattr(loop, "is_closed", None)  # asyncio; a trio token has none
    return is_closed is None or not is_closed()
