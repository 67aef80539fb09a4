"""A connection is used only by the process that opened it (SPEC §9).

A client made (and used) before ``os.fork()`` -- a module-level client under
``gunicorn --preload`` or Celery prefork -- is then used by the parent and two
children at the same time, each making ~100 concurrent calls against the
hostile server's default API. Every answer names its own ticket, so a socket
shared across processes shows up as a wrong answer. Children report through a
pipe and leave with ``os._exit``; everything has a deadline and a child that
overstays is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import ticketpulse

from .conftest import KEY, USER, HostileServer, ticket_url

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

CALLS = 100
THREADS = 12
CHILDREN = 2
DEADLINE = 30.0
"""Seconds the parent waits for its own calls and for each child's report."""
TIMEOUT = 5.0

Report = dict[str, Any]
Work = Callable[[str], Report]


def _report(tag: str, results: list[tuple[str, Any]]) -> Report:
    wrong = []
    errors = []
    for ticket_id, got in results:
        if isinstance(got, BaseException):
            errors.append(f"{ticket_id}: {type(got).__name__}: {got}")
        elif not (isinstance(got, ticketpulse.SignedURL) and got.url == ticket_url(ticket_id)):
            wrong.append(f"{ticket_id} got {getattr(got, 'url', got)!r}")
    error_types = sorted({e.split(": ")[1] for e in errors})
    return {
        "tag": tag,
        "calls": len(results),
        "wrong": len(wrong),
        "errors": len(errors),
        "error_types": error_types,
        "examples": (wrong + errors)[:5],
    }


def _blocking_work(client: ticketpulse.Client) -> Work:
    def work(tag: str) -> Report:
        ids = [f"{tag}-{n}" for n in range(CALLS)]

        def one(ticket_id: str) -> tuple[str, Any]:
            try:
                return ticket_id, client.get_ticket_url(ticket_id, user_id=USER)
            except Exception as exc:
                return ticket_id, exc

        with ThreadPoolExecutor(THREADS) as pool:
            return _report(tag, list(pool.map(one, ids)))

    return work


def _blocking_bulk_work(client: ticketpulse.Client) -> Work:
    def work(tag: str) -> Report:
        ids = [f"{tag}-{n}" for n in range(CALLS)]
        try:
            urls: list[Any] = client.get_ticket_urls(ids, user_id=USER, concurrency=THREADS)
        except Exception as exc:
            urls = [exc] * len(ids)
        return _report(tag, list(zip(ids, urls, strict=True)))

    return work


def _async_work(client: ticketpulse.AsyncClient) -> Work:
    async def run(tag: str) -> Report:
        ids = [f"{tag}-{n}" for n in range(CALLS)]

        async def one(ticket_id: str) -> tuple[str, Any]:
            try:
                return ticket_id, await client.get_ticket_url(ticket_id, user_id=USER)
            except Exception as exc:
                return ticket_id, exc

        return _report(tag, list(await asyncio.gather(*(one(i) for i in ids))))

    def work(tag: str) -> Report:
        return asyncio.run(run(tag))  # each process in its own event loop

    return work


def _bounded(work: Work, tag: str) -> Report:
    """``work(tag)`` in a thread, failed if it does not end within DEADLINE."""
    done: list[Report] = []
    crashed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(work(tag))
        except BaseException as exc:
            crashed.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        pytest.fail(f"the {tag}'s calls did not end within {DEADLINE} s")
    if crashed:
        raise crashed[0]
    return done[0]


def _fork_quietly() -> int:
    with warnings.catch_warnings():
        # Python 3.12+ warns about forking a process that has threads (the server's).
        warnings.simplefilter("ignore", DeprecationWarning)
        return os.fork()


def _child(work: Work, tag: str, report_fd: int, go_fd: int) -> None:
    """In the child: wait for the go, work, report, and leave without any cleanup."""
    code = 1
    try:
        select.select([go_fd], [], [], DEADLINE)
        try:
            report = work(tag)
        except BaseException as exc:
            report = {"tag": tag, "crash": f"{type(exc).__name__}: {exc}"}
        os.write(report_fd, json.dumps(report).encode())
        code = 0
    finally:
        os._exit(code)


def _read_report(pid: int, fd: int, deadline: float) -> Report:
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return {"crash": f"child {pid} sent no report within {DEADLINE} s"}
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    try:
        return json.loads(data)  # type: ignore[no-any-return]
    except ValueError:
        return {"crash": f"child {pid} sent a broken report: {data[:200]!r}"}


def _reap(pids: list[int], deadline: float) -> None:
    for pid in pids:
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.01)


def _in_parent_and_children(work: Work) -> list[Report]:
    """Fork CHILDREN children; the parent and the children then ``work`` at the same time."""
    go_read, go_write = os.pipe()
    children: list[tuple[int, int]] = []
    try:
        for n in range(CHILDREN):
            report_read, report_write = os.pipe()
            pid = _fork_quietly()
            if pid == 0:  # pragma: no cover - the child never returns
                os.close(report_read)
                os.close(go_write)
                _child(work, f"child{n}", report_write, go_read)
            os.close(report_write)
            children.append((pid, report_read))
        os.close(go_write)  # EOF on the go pipe: every child starts now
        go_write = -1
        reports = [_bounded(work, "parent")]
        deadline = time.monotonic() + DEADLINE
        reports += [_read_report(pid, fd, deadline) for pid, fd in children]
        return reports
    finally:
        if go_write != -1:
            os.close(go_write)
        os.close(go_read)
        for _, fd in children:
            os.close(fd)
        _reap([pid for pid, _ in children], time.monotonic() + 5)


def _assert_every_answer_its_own(reports: list[Report]) -> None:
    shown = json.dumps(reports, indent=1)
    assert len(reports) == 1 + CHILDREN, shown
    for report in reports:
        assert "crash" not in report, shown
        assert report["calls"] == CALLS, shown
    assert [r["wrong"] for r in reports] == [0] * len(reports), f"wrong answers:\n{shown}"
    assert [r["errors"] for r in reports] == [0] * len(reports), f"errors:\n{shown}"


def _fetch(client: ticketpulse.Client, ids: list[str], bulk: bool) -> list[str]:
    if bulk:
        return [u.url for u in client.get_ticket_urls(ids, user_id=USER, concurrency=len(ids))]
    return [client.get_ticket_url(i, user_id=USER).url for i in ids]


@pytest.mark.parametrize("bulk", [False, True], ids=["calls", "bulk"])
@pytest.mark.parametrize("transport", ["httpx", "builtin"])
def test_a_blocking_client_used_before_fork_gives_every_process_its_own_answers(
    server: HostileServer, transport: str, bulk: bool
) -> None:
    # Used before the fork: a pooled connection (calls), or the bulk fetch's
    # private loop, in a thread the child does not inherit, over connections
    # kept between calls (bulk). A child must never use the parent's.
    client = ticketpulse.Client(
        KEY, base_url=server.base_url, timeout=TIMEOUT, max_retries=0, transport=transport
    )
    try:
        warm = ["w1", "w2", "w3"]
        assert _fetch(client, warm, bulk) == [ticket_url(i) for i in warm]

        work = _blocking_bulk_work(client) if bulk else _blocking_work(client)
        reports = _in_parent_and_children(work)

        _assert_every_answer_its_own(reports)
        assert _fetch(client, ["a1", "a2"], bulk) == [ticket_url("a1"), ticket_url("a2")]
    finally:
        client.close()


ASYNC_TRANSPORTS = ["httpx", "builtin", "aiohttp"]


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
def test_an_async_client_made_before_fork_gives_every_process_its_own_answers(
    server: HostileServer, transport: str
) -> None:
    # The realistic case: a module-level client, made at import (before the
    # fork), used only afterwards, each process in its own asyncio.run.
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")
    client = ticketpulse.AsyncClient(
        KEY, base_url=server.base_url, timeout=TIMEOUT, max_retries=0, transport=transport
    )
    try:
        reports = _in_parent_and_children(_async_work(client))
    finally:
        asyncio.run(client.aclose())

    _assert_every_answer_its_own(reports)


@pytest.mark.parametrize("transport", ASYNC_TRANSPORTS)
def test_an_async_client_used_before_fork_never_gives_another_process_answers(
    server: HostileServer, transport: str
) -> None:
    # A client bound to a finished event loop may refuse every call from a new
    # loop (consistently, in every process); it may never hand out a wrong answer.
    if transport == "aiohttp":
        pytest.importorskip("aiohttp")
    client = ticketpulse.AsyncClient(
        KEY, base_url=server.base_url, timeout=TIMEOUT, max_retries=0, transport=transport
    )

    async def warm_up() -> None:
        warm = await client.get_ticket_url("warm-up", user_id=USER)
        assert warm.url == ticket_url("warm-up")

    asyncio.run(warm_up())
    try:
        reports = _in_parent_and_children(_async_work(client))
    finally:
        asyncio.run(client.aclose())

    shown = json.dumps(reports, indent=1)
    for report in reports:
        assert "crash" not in report, shown
        assert report["wrong"] == 0, f"wrong answers:\n{shown}"
        refused_all = report["errors"] == CALLS and len(report["error_types"]) == 1
        assert report["errors"] == 0 or refused_all, f"errors, not a refusal:\n{shown}"
