"""The global options, and the client they make.

A command asks :meth:`Settings.client` for a ``ticketpulse.Client``. It talks
to the real API (``--api-key`` / ``--base-url``), or, with ``--sandbox``, to a
fresh in-process ``Sandbox.demo()``.

Tests (and programs embedding the CLI) pass ``Settings(sandbox=...)`` as the
click context object: every command then runs against that sandbox
in-process, so they can look at its state and request log afterwards::

    CliRunner().invoke(cli, ["tickets", "12", "--user", "789"], obj=Settings(sandbox=sandbox))

With ``--sandbox`` as well, that sandbox (a demo one) gets the demo orders of
:func:`seed_demo_orders` like the fresh one would. The demo orders are left
"pending": the sandbox has no public way to mark an order paid (processing)
without an API call, and the state of an order changes nothing for tickets.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import httpx

import ticketpulse

from ._exit import AUTH, USAGE, CliError

if TYPE_CHECKING:
    from ticketpulse.testing import Sandbox

__all__ = ["DEMO_ORDERS_HELP", "Settings", "seed_demo_orders"]

DEMO_ORDERS_HELP = """\b
With --sandbox every command runs against a fresh in-process sandbox with the
demo data (events 12, 15 and 16; nothing is kept between runs). For the user
a command names, the sandbox first places two orders of event 12 (Summer
Festival 2025), so that there is something to look at:
  TP-00123  tickets a3f9b, 42350  personalised (Jane and John Doe): QR codes
                                  and the order PDF are ready
  TP-00124  tickets e0705, 7eaba  awaiting personalisation
The demo key is used unless --api-key is given (TICKETPULSE_API_KEY and
TICKETPULSE_BASE_URL are ignored)."""

# The demo orders: ticket type 45 (General Admission, event 12) and 46 (VIP).
_PEOPLE = (
    ("Jane", "Doe", "jane@example.com", "+31612345678"),
    ("John", "Doe", "john@example.com", "+31687654321"),
)


def seed_demo_orders(sandbox: Sandbox, user_id: int) -> None:
    """Give ``user_id`` the two demo orders, unless the user already has an order."""
    if any(order.wp_user_id == user_id for order in sandbox.orders()):
        return
    ready = sandbox.add_order(wp_user_id=user_id, items={45: 2}, wp_order_id=f"demo-{user_id}-1")
    for reference, (first, last, email, phone) in zip(ready.ticket_refs, _PEOPLE, strict=True):
        sandbox.personalize_ticket(
            reference, first_name=first, last_name=last, email=email, phone=phone
        )
    sandbox.add_order(wp_user_id=user_id, items={46: 2}, wp_order_id=f"demo-{user_id}-2")


class _ClientOptions(TypedDict, total=False):
    timeout: float
    max_retries: int


@dataclass
class Settings:
    """What the global options say. ``sandbox``: run every command against this one."""

    api_key: str | None = field(default=None, repr=False)
    api_key_on_command_line: bool = False
    base_url: str | None = None
    base_url_on_command_line: bool = False
    use_sandbox: bool = False
    json: bool = False
    timeout: float | None = None
    max_retries: int | None = None
    sandbox: Sandbox | None = field(default=None, repr=False)
    # The key a client was made with (a sandbox's by default): never printed either.
    _key_in_use: str | None = field(default=None, init=False, repr=False)

    def secrets(self) -> list[str]:
        """Every key this run knows, for scrubbing messages."""
        return [key for key in (self.api_key, self._key_in_use) if key]

    def _client_options(self) -> _ClientOptions:
        options: _ClientOptions = {}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        return options

    @contextlib.contextmanager
    def client(self, user_id: int | None = None) -> Generator[ticketpulse.Client]:
        """A client for one command, closed afterwards.

        ``user_id`` is the user the command is about: with ``--sandbox`` that
        user gets the demo orders first.
        """
        if self.use_sandbox or self.sandbox is not None:
            with self._sandbox_client(user_id) as client:
                yield client
            return
        if not self.api_key:
            raise CliError(
                "no API key: pass --api-key or set TICKETPULSE_API_KEY (or try --sandbox)", AUTH
            )
        self._key_in_use = self.api_key
        with ticketpulse.Client(
            self.api_key, base_url=self.base_url, **self._client_options()
        ) as client:
            yield client

    @contextlib.contextmanager
    def _sandbox_client(self, user_id: int | None) -> Generator[ticketpulse.Client]:
        if self.use_sandbox and self.base_url_on_command_line:
            raise CliError("--sandbox and --base-url cannot be used together", USAGE)
        sandbox = self.sandbox
        if sandbox is None:
            from ticketpulse.testing import Sandbox

            sandbox = Sandbox.demo()
        if self.use_sandbox and user_id is not None:
            seed_demo_orders(sandbox, user_id)
        # --sandbox: only a key typed on the command line counts, never the
        # environment's (a live key has no business here).
        explicit = self.api_key_on_command_line or (not self.use_sandbox and self.api_key)
        api_key = self.api_key if explicit and self.api_key else sandbox.api_key
        self._key_in_use = api_key
        # Our own httpx client on the sandbox's transport, so that we close it.
        with (
            httpx.Client(transport=sandbox.transport()) as http,
            sandbox.client(api_key=api_key, http_client=http, **self._client_options()) as client,
        ):
            yield client
