"""The README's Python snippets print what the README says, run in order against the sandbox.

The world is the one a newcomer starts with the Quick start's command,
``python -m ticketpulse.testing``: the test runs that command, takes the two
``export`` lines it prints, and runs every snippet in README order with those
variables set, in one world (what a snippet changes is there for the ones
after it). A comment ``# on the sandbox: TEXT`` in a snippet claims that TEXT
is a line of its output; what the prose around a snippet claims is checked by
that snippet's check in ``CHECKS``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
PRODUCTION_BASE_URL = "https://ticket-pulse.com/tp-api"


@dataclass(frozen=True)
class Snippet:
    line: int  # the README line of the snippet's first line of code
    code: str
    after: str  # the README text up to the next snippet: what is said about this one

    @property
    def where(self) -> str:
        return f"README.md:{self.line}"

    def claims(self) -> list[str]:
        """The output lines its ``# on the sandbox: ...`` comments promise."""
        return re.findall(r"# on the sandbox: (.+)$", self.code, re.M)

    def run(self, code: str | None = None) -> tuple[str, dict[str, Any]]:
        """Run it (or ``code`` in its place) as a script; its output and globals."""
        padded = "\n" * (self.line - 1) + (self.code if code is None else code)
        namespace: dict[str, Any] = {"__name__": "readme"}
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(padded, "README.md", "exec"), namespace)  # noqa: S102
        return out.getvalue(), namespace


def _snippets() -> list[Snippet]:
    found = list(re.finditer(r"```python\n(.*?)```", TEXT, re.S))
    ends = [m.start() for m in found[1:]] + [len(TEXT)]
    return [
        Snippet(TEXT.count("\n", 0, m.start(1)) + 1, m.group(1), TEXT[m.end() : end])
        for m, end in zip(found, ends, strict=True)
    ]


SNIPPETS = _snippets()


def _lines(out: str) -> list[str]:
    return out.splitlines()


# ---------------------------------------------------------------- the checks
# Each takes the snippet, its output and its globals; the ``# on the sandbox:``
# claims are checked for every snippet before its own check runs.

Check = Callable[[Snippet, str, dict[str, Any]], None]


def _check_blocking_events(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    names = [line.split(" ", 1)[1] for line in _lines(out) if not line.startswith(" ")]
    assert [n.split(" 2025-")[0] for n in names] == [
        "Summer Festival 2025",
        "Jazz Night",
        "Tech Conference 2025",
    ], out
    assert "    45 General Admission 29.95 " in out, out


def _check_async_events(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    assert _lines(out) == [
        "12 Summer Festival 2025 2 sub-events",
        "15 Jazz Night 0 sub-events",
        "16 Tech Conference 2025 0 sub-events",
    ], out


def _check_whole_order(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    # The files it printed are in the working directory, and are what they say.
    files = _lines(out)[-1].split()
    assert [Path(name).suffix for name in files] == [".png", ".pdf"], out
    assert Path(files[0]).read_bytes().startswith(b"\x89PNG")
    assert Path(files[1]).read_bytes().startswith(b"%PDF-")


def _check_web_app(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    import anyio
    import httpx

    app: Any = namespace["app"]

    async def visit() -> httpx.Response:
        async with app.router.lifespan_context(app):  # what the server runs at start-up
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
                return await http.get("/my-tickets/12")

    answer = anyio.run(visit)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [  # user 789's two demo orders
        {"id": "a3f9b", "status": "ACTIVE"},
        {"id": "42350", "status": "ACTIVE"},
        {"id": "e0705", "status": "CREATED"},
        {"id": "7eaba", "status": "CREATED"},
    ]


def _check_bulk(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    lines = _lines(out)
    assert sorted(line.split()[0] for line in lines[:-1]) == ["42350", "a3f9b"], out
    assert all("SignedURL(" in line and "secret=***" in line for line in lines[:-1]), out


def _check_builtin_transport(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    assert _lines(out) == snippet.claims(), out


def _check_errors(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    said = re.search(r"this\s+prints `([^`]+)`", snippet.after)
    assert said, "the text after the errors example says what it prints"
    assert _lines(out) == [said.group(1)]

    # The other branch, and str(error), for the order the sentence names.
    one_line = re.search(r"`str\(error\)` is one line: `([^`]+)`", snippet.after)
    assert one_line, "the text after the errors example shows str(error)"
    shown = one_line.group(1)
    order_id = re.search(r"order_id=([^&]+)", shown)
    assert order_id
    [asked] = re.findall(r'get_order_pdf_url\("([^"]+)"', snippet.code)
    other, _ = snippet.run(snippet.code.replace(f'"{asked}"', f'"{order_id.group(1)}"'))
    [comment] = re.findall(r"error\.message\)  # (.+?)(?: \(|$)", snippet.code, re.M)
    assert _lines(other) == [comment], other

    import ticketpulse

    base_url = os.environ["TICKETPULSE_BASE_URL"]
    with ticketpulse.Client() as client, pytest.raises(ticketpulse.NotPermittedError) as caught:
        client.get_order_pdf_url(order_id.group(1), user_id=789)
    assert str(caught.value) == shown.replace(PRODUCTION_BASE_URL, base_url)


def _check_runs(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    assert out == "", out


def _check_own_sandbox(snippet: Snippet, out: str, namespace: dict[str, Any]) -> None:
    assert _lines(out)[:2] == [
        "['Summer Festival 2025', 'Jazz Night', 'Tech Conference 2025']",
        "3 events over loopback",
    ], out


# A distinctive piece of each snippet's code -> its check, in README order.
CHECKS: dict[str, Check] = {
    "for ticket_type in event.tickets:": _check_blocking_events,
    "len(event.children)": _check_async_events,
    "client.create_order(": _check_whole_order,
    "FastAPI(lifespan=lifespan)": _check_web_app,
    "async with client.iter_ticket_urls(": _check_bulk,
    'AsyncClient(transport="builtin")': _check_builtin_transport,
    "except ticketpulse.FileNotReadyError:": _check_errors,
    "with_options(timeout=60)": _check_runs,
    "def test_survives_a_flaky_api(": _check_runs,  # its own test run, below
    "sandbox.serve(port=0)": _check_own_sandbox,
    "httpx.Client(proxy=": _check_runs,
}
IN_ITS_OWN_WORLD = "def test_survives_a_flaky_api("  # the pytest fixtures' sandbox


def _check_for(snippet: Snippet) -> str:
    [marker] = [m for m in CHECKS if m in snippet.code]
    return marker


def test_every_snippet_has_its_check_in_readme_order() -> None:
    assert [_check_for(s) for s in SNIPPETS] == list(CHECKS)


# ---------------------------------------------------------------- the world


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def _quick_start() -> tuple[list[str], list[str]]:
    """The Quick start's command (with ``--port 0``) and the two lines it shows."""
    block = re.search(r"```bash\n(python -m ticketpulse\.testing[^\n]*)\n(.*?)```", TEXT, re.S)
    assert block, "the Quick start shows how to serve the sandbox"
    command = block.group(1).split()
    command[command.index("--port") + 1] = "0"
    return [sys.executable, *command[1:]], block.group(2).splitlines()


@pytest.fixture
def newcomers_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """The Quick start's sandbox, its two ``export`` lines applied; yields the lines."""
    command, _ = _quick_start()
    with subprocess.Popen(  # noqa: S603 -- our own interpreter and module
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    ) as process:
        try:
            assert process.stdout is not None
            printed = [process.stdout.readline().rstrip("\n") for _ in range(2)]
            for line in printed:
                name, _, value = line.removeprefix("export ").partition("=")
                assert line.startswith("export "), printed
                assert value, printed
                monkeypatch.setenv(name, value)
            monkeypatch.chdir(tmp_path)
            yield printed
        finally:
            process.terminate()
            try:
                process.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def test_the_quick_start_shows_what_the_sandbox_prints(newcomers_sandbox: list[str]) -> None:
    _, shown = _quick_start()
    port = newcomers_sandbox[0].rsplit(":", 1)[1].split("/")[0]
    assert [line.replace(":8000/", f":{port}/") for line in shown] == newcomers_sandbox


@pytest.mark.sockets
def test_the_snippets_in_order_print_what_the_readme_says(newcomers_sandbox: list[str]) -> None:
    pytest.importorskip("fastapi")
    failures: list[str] = []
    for snippet in SNIPPETS:
        marker = _check_for(snippet)
        if marker == IN_ITS_OWN_WORLD:
            continue
        try:
            out, namespace = snippet.run()
            printed = _lines(out)
            for claim in snippet.claims():
                assert claim in printed, f"claims {claim!r}, printed {printed}"
            CHECKS[marker](snippet, out, namespace)
        except Exception as exc:
            where = traceback.extract_tb(exc.__traceback__)[-1]
            failures.append(
                f"{snippet.where}: {type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})"
            )
    assert not failures, "\n".join(failures)


def test_pytest_fixture_example_passes(pytester: pytest.Pytester) -> None:
    [code] = [s.code for s in SNIPPETS if IN_ITS_OWN_WORLD in s.code]
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest_subprocess("-v")
    outcomes = result.parseoutcomes()
    # three tests; the async one runs once per anyio backend the user's setup enables
    assert outcomes.get("passed", 0) >= 3
    assert "failed" not in outcomes
    assert "errors" not in outcomes
