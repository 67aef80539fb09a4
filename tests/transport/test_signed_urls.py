"""Hostile signed URLs handed out by the API, then downloaded (SPEC §6, §9).

The get-ticket answer is the hostile URL; ``get_ticket_url`` gives a SignedURL
or UnexpectedResponseError, and ``download(url, directory)`` gives
InvalidRequestError or a file saved under a safe name inside that directory:
nothing is written anywhere else, no partial file is left, and never a
UnicodeError or OSError. A refused URL sends nothing. An https client never
fetches plain http, loopback included.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

import ticketpulse

from .conftest import PNG, USER, Api, HostileServer, Outcome, Request, json_answer

pytestmark = pytest.mark.anyio


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """The download directory, a few levels down: ``..`` from it stays inside tmp_path."""
    path = tmp_path / "a" / "b" / "inbox"
    path.mkdir(parents=True)
    return path


def _files_outside(tmp_path: Path, inbox: Path) -> list[Path]:
    return [
        p for p in tmp_path.rglob("*") if not p.is_dir() and not p.resolve().is_relative_to(inbox)
    ]


def _check_saved_safely_or_refused(
    outcome: Outcome, tmp_path: Path, inbox: Path, *also: type[Exception]
) -> None:
    outcome.typed()
    if outcome.error is None:
        saved = Path(outcome.value)
        assert saved.resolve().parent == inbox.resolve(), f"saved at {saved}"
        assert saved.name not in ("", ".", ".."), f"saved as {saved.name!r}"
        for unsafe in ("\x00", "/", "\\"):
            assert unsafe not in saved.name, f"saved as {saved.name!r}"
        assert len(saved.name.encode()) <= 255
        assert saved.read_bytes() == PNG
    else:
        outcome.failed_with(ticketpulse.InvalidRequestError, *also)
    assert _files_outside(tmp_path, inbox) == [], "a file was written outside the destination"
    expected = [] if outcome.error is not None else [Path(outcome.value).name]
    left = sorted(p.name for p in inbox.iterdir())
    assert left == expected, f"files left in the destination: {left}"


async def _hand_out(api: Api, server: HostileServer, url: str) -> None:
    """The API hands out ``url``: a SignedURL or UnexpectedResponseError, nothing else."""

    def script(request: Request) -> bytes | None:
        if request.is_ticket and request.ticket_id == "hostile":
            return json_answer(url)
        return None

    server.script = script
    handed = (await api.ticket("hostile")).typed()
    if handed.error is not None:
        handed.failed_with(ticketpulse.UnexpectedResponseError)
    else:
        assert isinstance(handed.value, ticketpulse.SignedURL)


async def _follow_up(api: Api, server: HostileServer, inbox: Path) -> None:
    await api.expect_own_answer("t2")
    saved = await api.call("download", f"{server.origin}/files/after.png?secret=S", inbox)
    assert Path(saved).read_bytes() == PNG
    Path(saved).unlink()


# --------------------------------------------------------------------------- refused


REFUSED: dict[str, Callable[[HostileServer], str]] = {
    "ftp": lambda s: f"ftp://127.0.0.1:{s.port}/files/x.png?secret=S",
    "file": lambda s: "file:///etc/passwd",
    "javascript": lambda s: "javascript:alert(document.cookie)",
    "data": lambda s: "data:image/png;base64,iVBORw0KGgo=",
    "gopher": lambda s: f"gopher://127.0.0.1:{s.port}/_GET%20/files/x.png",
    "scheme-relative": lambda s: f"//127.0.0.1:{s.port}/files/x.png?secret=S",
    "relative": lambda s: "/files/x.png?secret=S",
    "empty": lambda s: "",
    "http-to-a-non-loopback-host": lambda s: f"http://files.example:{s.port}/x.png?secret=S",
    "http-to-a-non-ascii-host": lambda s: f"http://t\u00efcket.example:{s.port}/x.png?secret=S",
    "port-out-of-range": lambda s: "http://127.0.0.1:99999/files/x.png?secret=S",
    "credentials": lambda s: f"http://user:pass@127.0.0.1:{s.port}/files/x.png?secret=S",
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
async def test_a_signed_url_that_cannot_be_fetched_safely_is_refused_before_sending(
    api: Api, server: HostileServer, tmp_path: Path, inbox: Path, case: str
) -> None:
    url = REFUSED[case](server)
    await _hand_out(api, server, url)
    requests, connections = len(server.received()), server.connections

    outcome = await api.attempt("download", url, inbox)
    outcome.failed_with(ticketpulse.InvalidRequestError)
    _check_saved_safely_or_refused(outcome, tmp_path, inbox)
    server.wait_quiet(0.05)
    assert len(server.received()) == requests, "a refused download sent a request"
    assert server.connections == connections, "a refused download opened a connection"
    await _follow_up(api, server, inbox)


# --------------------------------------------------------------------------- safe names


_E_ACUTE = "\u00e9"


def _absolute(tmp_path: Path) -> str:
    return quote(str(tmp_path / "escaped-absolute.png"), safe="")


SAVED_OR_REFUSED: dict[str, Callable[[str, Path], str]] = {
    "traversal-literal": lambda o, t: f"{o}/files/../../etc/passwd?secret=S",
    "traversal-encoded-lowercase": lambda o, t: f"{o}/files/%2e%2e%2f%2e%2e%2fescaped.png?secret=S",
    "traversal-encoded-slashes": lambda o, t: f"{o}/files/..%2F..%2Fescaped.png?secret=S",
    "traversal-double-encoded": lambda o, t: f"{o}/files/%252e%252e%252fescaped.png?secret=S",
    "traversal-backslashes": lambda o, t: f"{o}/files/..%5C..%5Cescaped.png?secret=S",
    "absolute-path-encoded": lambda o, t: f"{o}/files/{_absolute(t)}?secret=S",
    "name-dot-dot": lambda o, t: f"{o}/files/%2e%2e?secret=S",
    "name-dot": lambda o, t: f"{o}/files/%2e?secret=S",
    "name-empty": lambda o, t: f"{o}/files/?secret=S",
    "name-nul": lambda o, t: f"{o}/files/a%00b.png?secret=S",
    "name-newline": lambda o, t: f"{o}/files/a%0D%0Ab.png?secret=S",
    "name-hidden-part-file": lambda o, t: f"{o}/files/.x.part?secret=S",
    "name-300-characters": lambda o, t: f"{o}/files/{'n' * 296}.png?secret=S",
    "name-300-bytes-of-utf8": lambda o, t: f"{o}/files/{_E_ACUTE * 150}.png?secret=S",
    "name-300-characters-encoded": lambda o, t: f"{o}/files/{'%41' * 300}.png?secret=S",
    "non-ascii-path": lambda o, t: f"{o}/files/t\u00efcket-\u2713.png?secret=S",
    "non-ascii-path-and-query": lambda o, t: f"{o}/files/\u00e9.png?secret=\u00e9\u2713",
    "crlf-in-url": lambda o, t: f"{o}/files/x.png?secret=S\r\nX-Evil: 1",
    "space-in-path": lambda o, t: f"{o}/files/a b.png?secret=S",
    "fragment-with-traversal": lambda o, t: f"{o}/files/x.png?secret=S#/../../escaped.png",
    "query-with-traversal": lambda o, t: f"{o}/files/x.png?secret=S&name=../../escaped.png",
}


@pytest.mark.parametrize("case", list(SAVED_OR_REFUSED), ids=list(SAVED_OR_REFUSED))
async def test_a_hostile_signed_url_is_refused_or_saved_under_a_safe_name_inside(
    api: Api, server: HostileServer, tmp_path: Path, inbox: Path, case: str
) -> None:
    url = SAVED_OR_REFUSED[case](server.origin, tmp_path)
    await _hand_out(api, server, url)

    outcome = await api.attempt("download", url, inbox)
    _check_saved_safely_or_refused(outcome, tmp_path, inbox)
    for head in server.heads():
        assert "\r\nX-Evil:" not in head, "a URL injected a request header"
    for saved in inbox.iterdir():
        saved.unlink()
    await _follow_up(api, server, inbox)


UNREACHABLE_HOSTS: dict[str, str] = {
    "non-ascii-host": "https://t\u00efcket.invalid/qr/x.png?secret=S",
    "64-character-label": f"https://{'a' * 64}.invalid/qr/x.png?secret=S",
    "300-character-host": f"https://{'.'.join(['a' * 60] * 5)}.invalid/qr/x.png?secret=S",
    "empty-label": "https://files..invalid/qr/x.png?secret=S",
    "host-with-nul": "https://files%00.invalid/qr/x.png?secret=S",
    "host-with-percent-encoding": "https://%66iles.invalid/qr/x.png?secret=S",
    "bidi-host": "https://files\u202e.invalid/qr/x.png?secret=S",
}


@pytest.mark.parametrize("case", list(UNREACHABLE_HOSTS), ids=list(UNREACHABLE_HOSTS))
async def test_a_hostile_signed_url_host_is_refused_or_a_typed_connection_error(
    api: Api, server: HostileServer, tmp_path: Path, inbox: Path, case: str
) -> None:
    # These hosts do not exist (.invalid): a download that gets as far as
    # looking them up fails with APIConnectionError, which is typed too.
    url = UNREACHABLE_HOSTS[case]
    await _hand_out(api, server, url)

    outcome = await api.attempt("download", url, inbox)
    _check_saved_safely_or_refused(outcome, tmp_path, inbox, ticketpulse.APIConnectionError)
    assert outcome.error is not None
    await _follow_up(api, server, inbox)


# --------------------------------------------------------------------------- https client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/files/x.png?secret=S",
        "http://localhost:{port}/files/x.png?secret=S",
        "http://127.1:{port}/files/x.png?secret=S",
        "http://2130706433:{port}/files/x.png?secret=S",
        "http://[::ffff:127.0.0.1]:{port}/files/x.png?secret=S",
        "http://[::1]:{port}/files/x.png?secret=S",
    ],
    ids=["127.0.0.1", "localhost", "127.1", "decimal-ip", "ipv4-mapped-ipv6", "ipv6-loopback"],
)
async def test_an_https_client_never_downloads_plain_http_even_from_loopback(
    make_api: Callable[..., Api], server: HostileServer, tmp_path: Path, url: str
) -> None:
    api = make_api(base_url="https://ticket-pulse.com/tp-api")
    target = url.format(port=server.port)

    outcome = await api.attempt("download", target, tmp_path)
    outcome.failed_with(ticketpulse.InvalidRequestError)
    # The same client refuses again (nothing here is reachable over https).
    later = datetime.now(UTC) + timedelta(hours=1)
    again = await api.attempt("download", ticketpulse.SignedURL(target, later), tmp_path)
    again.failed_with(ticketpulse.InvalidRequestError)
    server.wait_quiet(0.05)
    assert server.connections == 0, "the https client connected to the plain-http server"
    assert list(tmp_path.iterdir()) == []


async def test_a_signed_url_is_fetched_without_the_api_key(
    api: Api, server: HostileServer, inbox: Path
) -> None:
    signed = await api.call("get_ticket_url", "t1", user_id=USER)
    assert signed.url.startswith("https://files.example/")
    saved = await api.call("download", f"{server.origin}/files/t1.png?secret=S", inbox)
    assert Path(saved).read_bytes() == PNG
    file_requests = [r for r in server.received() if r.path.startswith("/files/")]
    assert len(file_requests) == 1
    assert "key" not in file_requests[0].query
