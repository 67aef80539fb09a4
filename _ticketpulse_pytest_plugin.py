"""Pytest fixtures for testing code that uses the Ticket Pulse SDK, offline.

Installed with the ``ticketpulse`` package (entry point ``pytest11``), so in
any project's tests::

    def test_buys_a_ticket(ticketpulse_client, ticketpulse_sandbox):
        ...  # ticketpulse_client talks to ticketpulse_sandbox in-process

    @pytest.mark.anyio
    async def test_async(ticketpulse_async_client): ...

This module sits outside the ``ticketpulse`` package on purpose: pytest
imports every installed plugin at start-up, and importing any
``ticketpulse.*`` module runs ``ticketpulse/__init__.py`` first (httpx, attrs,
cattrs, anyio and the SDK itself). Here nothing but pytest is imported until
a fixture is used, so every pytest run of a project that installs the package
starts as fast as without it, and a broken SDK import fails only the tests
that use these fixtures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import ticketpulse
    from ticketpulse.testing import Sandbox

__all__ = ["ticketpulse_async_client", "ticketpulse_client", "ticketpulse_sandbox"]


@pytest.fixture
def ticketpulse_sandbox() -> Iterator[Sandbox]:
    """A fresh :class:`ticketpulse.testing.Sandbox` with the demo data, per test."""
    from ticketpulse.testing import Sandbox

    with Sandbox.demo() as sandbox:
        yield sandbox


@pytest.fixture
def ticketpulse_client(ticketpulse_sandbox: Sandbox) -> Iterator[ticketpulse.Client]:
    """A ``ticketpulse.Client`` on the test's sandbox (in-process, demo key), closed after."""
    client = ticketpulse_sandbox.client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
async def ticketpulse_async_client(
    ticketpulse_sandbox: Sandbox, anyio_backend: object
) -> AsyncIterator[ticketpulse.AsyncClient]:
    """A ``ticketpulse.AsyncClient`` on the test's sandbox, closed after.

    For ``@pytest.mark.anyio`` tests (asyncio or trio, per ``anyio_backend``).
    """
    client = ticketpulse_sandbox.async_client()
    try:
        yield client
    finally:
        await client.aclose()
        await ticketpulse_sandbox.aclose()
