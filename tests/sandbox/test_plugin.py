"""The pytest plugin's fixtures, used directly and from a user's test run."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

import ticketpulse
from ticketpulse.testing import DEMO_API_KEY, Sandbox

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = "_ticketpulse_pytest_plugin"
# What importing ``ticketpulse`` brings in: none of it may come with the plugin.
HEAVY = {"ticketpulse", "httpx", "httpcore", "anyio", "sniffio", "attr", "attrs", "cattrs", "h11"}


def test_sandbox_fixture_is_a_fresh_demo(ticketpulse_sandbox: Sandbox) -> None:
    assert ticketpulse_sandbox.api_key == DEMO_API_KEY
    assert ticketpulse_sandbox.order_count() == 0
    assert [e.name for e in ticketpulse_sandbox.events()][:1] == ["Summer Festival 2025"]


def test_client_fixture_talks_to_the_sandbox(
    ticketpulse_client: ticketpulse.Client, ticketpulse_sandbox: Sandbox
) -> None:
    events = ticketpulse_client.get_events()
    assert [e.id for e in events] == [12, 15, 16]
    assert ticketpulse_sandbox.requests[-1].path == "/tp-api/events"


@pytest.mark.anyio
async def test_async_client_fixture_talks_to_the_sandbox(
    ticketpulse_async_client: ticketpulse.AsyncClient, ticketpulse_sandbox: Sandbox
) -> None:
    events = await ticketpulse_async_client.get_events()
    assert events[0].name == "Summer Festival 2025"
    assert len(ticketpulse_sandbox.requests) == 1


def _plugin_is_installed() -> bool:
    return any(entry.value == PLUGIN for entry in importlib.metadata.entry_points(group="pytest11"))


def test_a_users_test_run_gets_the_fixtures_without_importing_the_sandbox_early(
    tmp_path: Path,
) -> None:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import sys

            def pytest_configure(config):
                # The plugin is loaded by now; the sandbox itself must not be.
                heavy = {"ticketpulse", "segno", "fpdf", "uvicorn"}
                loaded = heavy & set(sys.modules)
                assert not loaded, loaded
            """
        )
    )
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_sync(ticketpulse_client, ticketpulse_sandbox):
                assert len(ticketpulse_client.get_events()) == 3
                assert ticketpulse_sandbox.requests[0].query == {"key": "***"}

            @pytest.mark.anyio
            async def test_async(ticketpulse_async_client):
                assert len(await ticketpulse_async_client.get_events()) == 3
            """
        )
    )
    load = [] if _plugin_is_installed() else ["-p", PLUGIN]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(  # noqa: S603 -- our own interpreter
        [sys.executable, "-m", "pytest", *load, "-q", "-W", "error", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def _env(*first: Path) -> dict[str, str]:
    env = dict(os.environ)
    paths = [*map(str, first), str(ROOT), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, paths))
    return env


def test_the_entry_point_names_the_plugin() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["entry-points"]["pytest11"] == {"ticketpulse": PLUGIN}
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert f"{PLUGIN}.py" in wheel["only-include"]  # shipped next to the package
    assert (ROOT / f"{PLUGIN}.py").is_file()


def test_importing_the_plugin_imports_nothing_but_itself() -> None:
    """pytest imports the plugin in every run: after pytest, it adds one module, itself."""
    code = textwrap.dedent(
        f"""
        import sys
        import pytest
        before = set(sys.modules)
        import {PLUGIN}
        print(sorted(set(sys.modules) - before))
        """
    )
    result = subprocess.run(  # noqa: S603 -- our own interpreter
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        check=True,
    )
    added = eval(result.stdout)  # noqa: S307 -- a list of module names we printed
    assert added == [PLUGIN]
    assert not {name.split(".")[0] for name in added} & HEAVY


def _run_users_tests(tmp_path: Path, tests: str, *first: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import sys

            def pytest_sessionfinish(session):
                heavy = {"ticketpulse", "httpx", "cattrs"}  # (trio, in the run, uses attrs)
                print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in heavy))
            """
        )
    )
    (tmp_path / "test_user.py").write_text(textwrap.dedent(tests))
    load = [] if _plugin_is_installed() else ["-p", PLUGIN]
    # Without the test group's plugins that import httpx or attrs themselves.
    others = ["-p", "no:respx", "-p", "no:hypothesispytest", "-p", "no:cacheprovider"]
    return subprocess.run(  # noqa: S603 -- our own interpreter
        [sys.executable, "-m", "pytest", *load, "-q", "-s", *others],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(*first),
        timeout=120,
        check=False,
    )


def test_a_run_that_uses_no_fixture_never_imports_the_sdk(tmp_path: Path) -> None:
    result = _run_users_tests(
        tmp_path,
        """
        def test_nothing_to_do_with_tickets():
            assert 1 + 1 == 2
        """,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "loaded: []" in result.stdout


def test_a_broken_sdk_fails_only_the_tests_using_its_fixtures(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "ticketpulse"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise ImportError("ticketpulse is broken here")\n')
    project = tmp_path / "project"
    project.mkdir()
    result = _run_users_tests(
        project,
        """
        def test_plain():
            pass

        def test_with_the_sandbox(ticketpulse_client):
            pass
        """,
        broken.parent,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "ticketpulse is broken here" in result.stdout
