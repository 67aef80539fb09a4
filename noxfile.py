"""Developer tasks: ``nox -s demo``, ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``,
``nox -s bench``, ``nox -s reliability``."""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, under asyncio and trio, against respx and the sandbox."""
    session.install("-e", ".[sandbox,serve,aiohttp,cli,orjson]", *_group("test"))
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def reliability(session: nox.Session) -> None:
    """The heavy reliability suites (tests/reliability): load, fault soak, large hypothesis runs.

    Their light cases run in ``nox -s tests``; this runs the ones marked ``reliability``
    and prints the figures the README quotes in the terminal summary.
    """
    session.install("-e", ".[sandbox,serve,aiohttp,orjson]", *_group("test"))
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/reliability",
        "-m",
        "reliability",
        "-p",
        "no:cacheprovider",
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright --strict on the package and the typing tests."""
    session.install("-e", ".[sandbox,serve,aiohttp,cli,orjson]", *_group("typecheck"))
    session.run("mypy")
    session.run("pyright")


@nox.session
def demo(session: nox.Session) -> None:
    """The whole flow end to end against the embedded sandbox, as a transcript."""
    session.install(".[sandbox]")
    session.run("python", "-m", "ticketpulse.testing.demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks (benchmarks/README.md): one table; JSON and a chart in benchmarks/results/.

    ``nox -s bench -- --quick`` for a smoke run of about a minute.
    """
    session.install(
        "-e", ".[serve,aiohttp,orjson]", *nox.project.dependency_groups(PYPROJECT, "bench")
    )
    session.run("python", "-m", "benchmarks.run", *session.posargs)
