"""Redirects are not followed and cookies are neither kept nor sent (SPEC §6, §9).

A redirect would carry the key to another place; a cookie jar would replay one
server's cookie to the API and to the file host.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import ticketpulse

from .conftest import PNG, Api, HostileServer, Request, response, text_answer

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_an_error_and_its_location_is_never_requested(
    api: Api, server: HostileServer, status: int
) -> None:
    location = f"{server.origin}/elsewhere/get-ticket?ticket_id=t1"

    def script(request: Request) -> bytes | None:
        if request.is_ticket and request.index == 1:
            return text_answer(status, "moved", headers=[f"Location: {location}"])
        return None

    server.script = script

    outcome = await api.ticket("t1")
    error = outcome.failed_with(ticketpulse.APIStatusError)
    assert isinstance(error, ticketpulse.APIStatusError)
    assert error.status_code == status
    await api.expect_own_answer("t2")
    server.wait_quiet(0.1)
    assert not [r for r in server.received() if r.path.startswith("/elsewhere")]


async def test_a_download_redirect_is_an_error_and_its_location_is_never_requested(
    api: Api, server: HostileServer, tmp_path: Path
) -> None:
    def script(request: Request) -> bytes | None:
        if request.path == "/files/moved.png":
            return text_answer(302, "moved", headers=[f"Location: {server.origin}/elsewhere.png"])
        return None

    server.script = script

    outcome = await api.attempt("download", f"{server.origin}/files/moved.png?secret=S", tmp_path)
    outcome.failed_with(ticketpulse.APIStatusError)
    assert list(tmp_path.iterdir()) == []
    await api.expect_own_answer("t2")
    server.wait_quiet(0.1)
    assert not [r for r in server.received() if r.path.startswith("/elsewhere")]


def _cookie_headers(server: HostileServer, after: int) -> list[str]:
    """The Cookie headers of the requests after the ``after``-th, from their raw heads."""
    found = []
    for head in server.heads()[after:]:
        for line in head.split("\r\n")[1:]:
            if line.lower().startswith("cookie"):
                found.append(line)
    return found


# Cookie jars refuse cookies from IP addresses by default (aiohttp's does):
# "localhost" is a host name they keep cookies for.
HOSTS = ["127.0.0.1", "localhost"]


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize(
    "set_cookie",
    [
        "session=abc123; Path=/",
        "session=abc123; Path=/; Max-Age=3600",
        "tp=1; Path=/tp-api; HttpOnly",
    ],
    ids=["plain", "max-age", "api-path-httponly"],
)
async def test_a_cookie_set_by_an_answer_is_never_sent_back(
    make_api: Callable[..., Api],
    server: HostileServer,
    tmp_path: Path,
    set_cookie: str,
    host: str,
) -> None:
    origin = f"http://{host}:{server.port}"
    api = make_api(base_url=f"{origin}/tp-api")

    def script(request: Request) -> bytes | None:
        if request.index == 1:
            return response(
                200,
                b'"https://files.example/qr/t1.png?secret=S"',
                headers=[f"Set-Cookie: {set_cookie}", "Set-Cookie: other=zzz; Path=/"],
            )
        return None

    server.script = script

    first = await api.ticket("t1")
    assert first.error is None, first.error
    await api.expect_own_answer("t2")
    await api.call("get_events")
    saved = await api.call("download", f"{origin}/files/t3.png?secret=S", tmp_path)
    assert Path(saved).read_bytes() == PNG
    assert len(server.heads()) == 4
    assert _cookie_headers(server, after=1) == []


@pytest.mark.parametrize("host", HOSTS)
async def test_a_cookie_set_by_the_file_host_is_never_sent_to_the_api(
    make_api: Callable[..., Api], server: HostileServer, tmp_path: Path, host: str
) -> None:
    origin = f"http://{host}:{server.port}"
    api = make_api(base_url=f"{origin}/tp-api")

    def script(request: Request) -> bytes | None:
        if request.path.startswith("/files/") and request.index == 1:
            return response(
                200, PNG, content_type="image/png", headers=["Set-Cookie: file=xyz; Path=/"]
            )
        return None

    server.script = script

    await api.call("download", f"{origin}/files/t1.png?secret=S", tmp_path)
    await api.expect_own_answer("t2")
    await api.call("download", f"{origin}/files/t3.png?secret=S", tmp_path)
    assert _cookie_headers(server, after=1) == []
