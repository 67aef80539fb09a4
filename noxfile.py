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
    session.install("-e", ".[sandbox,serve,aiohttp,cli,orjson,otel]", *_group("test"))
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
def bare(session: nox.Session) -> None:
    """The package alone, no extra: ``import ticketpulse`` and ``from ticketpulse import *`` work,
    every module it imports is a declared dependency, and a call goes through."""
    session.install(".")
    session.run("python", "-c", BARE_CHECK)


BARE_CHECK = """
import importlib.metadata, re, sys
import ticketpulse
from ticketpulse import *  # noqa: F403
from ticketpulse.testing import Sandbox

declared = {
    re.split(r"[ ;<>=!~\\[]", r)[0].lower().replace("-", "_")
    for r in importlib.metadata.requires("ticketpulse") or ()
    if "extra ==" not in r
}
sandbox = Sandbox()  # no extra: the in-process API (files need ticketpulse[sandbox])
key = sandbox.add_account(name="Shop").key
with sandbox.client(api_key=key) as client:
    assert client.get_events() == []
for transport in ("httpx", "builtin"):
    with sandbox.serve() as base_url, ticketpulse.Client(
        key, base_url=base_url, transport=transport
    ) as client:
        assert client.get_events() == []
stdlib = set(sys.stdlib_module_names)
own = {"ticketpulse", "_ticketpulse_pytest_plugin"}
used = {m.split(".")[0] for m in sys.modules} - stdlib - own
# Imported by the declared ones themselves (attrs: attr; httpx: certifi, idna, ...).
indirect = {"attr", "certifi", "idna", "sniffio", "typing_extensions", "exceptiongroup"}
missing = sorted(m for m in used - declared - indirect if not m.startswith("_"))
assert not missing, f"imported but not declared: {missing}"
print("bare install: import, star import and calls on both transports work; imports declared")
"""


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint rules and formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict and pyright --strict on the package and the typing tests."""
    session.install("-e", ".[sandbox,serve,aiohttp,cli,orjson,otel]", *_group("typecheck"))
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
