"""The README's Python examples run as written, against the sandbox on loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ticketpulse.testing import Sandbox

README = Path(__file__).parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """A demo sandbox on loopback, with the two variables the README exports."""
    sandbox = Sandbox.demo()
    with sandbox.serve() as base_url:
        monkeypatch.setenv("TICKETPULSE_BASE_URL", base_url)
        monkeypatch.setenv("TICKETPULSE_API_KEY", sandbox.api_key)
        monkeypatch.chdir(tmp_path)
        yield sandbox


def test_the_readme_has_its_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("code", [b for b in BLOCKS if "def test_" not in b and "FastAPI" not in b])
def test_example_runs(code: str, served: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    capsys.readouterr()


def test_whole_order_example_downloads_both_files(served: Sandbox, tmp_path: Path) -> None:
    [code] = [b for b in BLOCKS if "create_order(" in b]
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    assert served.order_count() == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["order_123_tickets.pdf", "ticket_a3f9b.png"]


def test_web_app_example_serves_tickets(served: Sandbox) -> None:
    pytest.importorskip("fastapi")
    import anyio
    import httpx

    [code] = [b for b in BLOCKS if "FastAPI" in b]
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102
    with served.client() as client:
        from ticketpulse import NewOrder, OrderLine

        client.create_order(
            NewOrder(wp_user_id=789, order_lines=[OrderLine("GA", 1, 1, 1, tp_event_ticket_id=45)])
        )
    app: Any = namespace["app"]

    async def visit() -> httpx.Response:
        async with app.router.lifespan_context(app):  # what the server runs at start-up
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
                return await http.get("/my-tickets/12")

    answer = anyio.run(visit)
    assert answer.status_code == 200
    assert answer.json() == [{"id": "a3f9b", "status": "CREATED"}]


def test_pytest_fixture_example_passes(pytester: pytest.Pytester) -> None:
    [code] = [b for b in BLOCKS if "def test_" in b]
    pytester.makepyfile(test_readme_example=code)
    result = pytester.runpytest_subprocess("-v")
    outcomes = result.parseoutcomes()
    # three tests; the async one runs once per anyio backend the user's setup enables
    assert outcomes.get("passed", 0) >= 3
    assert "failed" not in outcomes
    assert "errors" not in outcomes
