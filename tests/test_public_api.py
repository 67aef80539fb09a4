"""The public surface: exported names, the two clients' parity (SPEC §2), the error
tree (SPEC §4) and the transport-agnostic core (SPEC §1)."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ticketpulse
from ticketpulse import AsyncClient, Client

EXPECTED_EXPORTS = {
    # settings
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_TIMEOUT",
    "MAX_CONNECTIONS",
    "NOT_GIVEN",
    "NotGiven",
    "__version__",
    # clients
    "AsyncClient",
    "AsyncTicketURLs",
    "Client",
    "TicketURL",
    "TicketURLError",
    "TicketURLResult",
    "TicketURLs",
    # models
    "Attendee",
    "BillingInformation",
    "Event",
    "NewOrder",
    "OrderItemType",
    "OrderLine",
    "PersonalizationResult",
    "SignedURL",
    "SubEvent",
    "Ticket",
    "TicketStatus",
    "TicketType",
    "UserEvent",
    # errors
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "FileNotReadyError",
    "InvalidRequestError",
    "NotFoundError",
    "NotPermittedError",
    "OrderOutcomeUnknownError",
    "RateLimitError",
    "ServerError",
    "TicketPulseError",
    "UnexpectedResponseError",
    "UsageError",
}


def isort_style_key(name: str) -> tuple[int, str]:
    """The order of ``__init__.__all__`` (ruff RUF022's default, isort style):
    SCREAMING_CASE constants, then CamelCase classes, then everything else;
    each group in plain (case-sensitive) order."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_constants_then_classes_then_the_rest() -> None:
    assert ticketpulse.__all__ == sorted(ticketpulse.__all__, key=isort_style_key)


def test_all_has_no_duplicates() -> None:
    assert len(ticketpulse.__all__) == len(set(ticketpulse.__all__))


def test_exported_names_are_exactly_the_expected_ones() -> None:
    assert set(ticketpulse.__all__) == EXPECTED_EXPORTS


@pytest.mark.parametrize("name", sorted(EXPECTED_EXPORTS))
def test_exported_name_resolves(name: str) -> None:
    value = getattr(ticketpulse, name)

    if isinstance(value, type):
        assert value.__module__.startswith("ticketpulse.")


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, Any] = {}
    exec("from ticketpulse import *", namespace)  # noqa: S102 - a fixed, trusted statement

    assert set(namespace) - {"__builtins__"} == EXPECTED_EXPORTS


def test_version_is_a_string() -> None:
    assert isinstance(ticketpulse.__version__, str)
    assert ticketpulse.__version__


# --- Client / AsyncClient parity ---------------------------------------------

# SPEC §2's method table.
SPEC_METHODS = [
    "get_events",
    "get_user_events",
    "get_event_tickets",
    "personalize_tickets",
    "get_ticket_url",
    "get_order_pdf_url",
    "create_order",
    "mark_order_processing",
    "get_ticket_urls",
    "iter_ticket_urls",
    "download",
]
NOT_YET_IMPLEMENTED: set[str] = set()


def spec_method(name: str) -> Any:
    if name in NOT_YET_IMPLEMENTED:
        return pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True,
                raises=AssertionError,
                reason="SPEC §2 bulk method missing on both clients",
            ),
        )
    return name


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def api_methods() -> list[str]:
    """The API methods both clients define (everything public but lifecycle and options)."""
    shared = public_names(Client) & public_names(AsyncClient)
    return sorted(
        name
        for name in shared
        if inspect.isfunction(getattr(Client, name)) and name not in {"with_options"}
    )


def described(function: Callable[..., Any]) -> list[tuple[str, Any, Any, str]]:
    """Each parameter's name, kind, default and annotation (as a string)."""
    return [
        (p.name, p.kind, p.default, annotation_text(p.annotation))
        for p in inspect.signature(function).parameters.values()
    ]


def annotation_text(annotation: Any) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


@pytest.mark.parametrize("name", [spec_method(name) for name in SPEC_METHODS])
def test_spec_method_exists_on_both_clients(name: str) -> None:
    assert inspect.isfunction(getattr(Client, name, None))
    assert inspect.isfunction(getattr(AsyncClient, name, None))


def test_clients_expose_the_same_public_names() -> None:
    assert public_names(Client) - {"close"} == public_names(AsyncClient) - {"aclose"}
    assert "close" in public_names(Client)
    assert "aclose" in public_names(AsyncClient)


def test_api_methods_are_the_spec_table() -> None:
    assert set(api_methods()) <= set(SPEC_METHODS)
    assert set(api_methods()) >= set(SPEC_METHODS) - NOT_YET_IMPLEMENTED


@pytest.mark.parametrize("name", api_methods())
def test_method_has_the_same_parameters_on_both_clients(name: str) -> None:
    sync, async_ = getattr(Client, name), getattr(AsyncClient, name)

    assert described(sync) == described(async_)
    returns = [annotation_text(inspect.signature(f).return_annotation) for f in (sync, async_)]
    if name == "iter_ticket_urls":
        # the running iteration: threads on Client, a task group on AsyncClient
        assert returns == ["TicketURLs", "AsyncTicketURLs"]
    else:
        assert returns[0] == returns[1]


@pytest.mark.parametrize("name", api_methods())
def test_method_has_the_same_docstring_on_both_clients(name: str) -> None:
    sync_doc = inspect.getdoc(getattr(Client, name))

    assert sync_doc
    assert sync_doc == inspect.getdoc(getattr(AsyncClient, name))


@pytest.mark.parametrize("name", api_methods())
def test_async_methods_are_async_and_sync_methods_are_not(name: str) -> None:
    sync, async_ = getattr(Client, name), getattr(AsyncClient, name)

    assert not inspect.iscoroutinefunction(sync)
    assert not inspect.isasyncgenfunction(sync)
    if name.startswith("iter_"):
        # an async iterator: an async generator or a function returning one
        assert inspect.isasyncgenfunction(async_) or not inspect.iscoroutinefunction(async_)
    else:
        assert inspect.iscoroutinefunction(async_)


def test_with_options_has_the_same_parameters_and_returns_its_own_class() -> None:
    assert described(Client.with_options) == described(AsyncClient.with_options)
    assert inspect.getdoc(Client.with_options) == inspect.getdoc(AsyncClient.with_options)
    returns = [
        annotation_text(inspect.signature(cls.with_options).return_annotation)
        for cls in (Client, AsyncClient)
    ]
    assert returns == ["Client", "AsyncClient"]
    assert not inspect.iscoroutinefunction(AsyncClient.with_options)


def test_constructors_take_the_same_settings() -> None:
    sync = described(Client.__init__)
    async_ = described(AsyncClient.__init__)

    assert [p[:3] for p in sync] == [p[:3] for p in async_]
    assert [p[0] for p in sync] == [
        "self",
        "api_key",
        "base_url",
        "timeout",
        "max_retries",
        "max_connections",
        "max_response_size",
        "transport",
        "http_client",
    ]
    assert {p[0]: p[3] for p in sync}["http_client"] == "httpx.Client | None"
    assert {p[0]: p[3] for p in async_}["http_client"] == (
        "httpx.AsyncClient | aiohttp.ClientSession | None"
    )
    assert {p[0]: p[3] for p in sync}["transport"] == "Literal['httpx', 'builtin']"
    assert {p[0]: p[3] for p in async_}["transport"] == "TransportName"
    assert [p[3] for p in sync][:-2] == [p[3] for p in async_][:-2]
    defaults = {p[0]: p[2] for p in sync}
    assert defaults["api_key"] is None
    assert defaults["base_url"] is None
    assert defaults["max_retries"] == 2
    assert defaults["http_client"] is None


def test_close_and_aclose_match() -> None:
    assert not inspect.iscoroutinefunction(Client.close)
    assert inspect.iscoroutinefunction(AsyncClient.aclose)
    assert described(Client.close) == described(AsyncClient.aclose)
    # Each describes its own client; both say what stays open.
    for method in (Client.close, AsyncClient.aclose):
        doc = inspect.getdoc(method) or ""
        assert "http_client" in doc
    assert "event loop" not in (inspect.getdoc(Client.close) or "")
    assert "event loop" in (inspect.getdoc(AsyncClient.aclose) or "")


def test_clients_are_context_managers_of_their_kind() -> None:
    assert callable(Client.__enter__)
    assert callable(Client.__exit__)
    assert inspect.iscoroutinefunction(AsyncClient.__aenter__)
    assert inspect.iscoroutinefunction(AsyncClient.__aexit__)
    assert not hasattr(Client, "__aenter__")
    assert not hasattr(AsyncClient, "__enter__")


@pytest.mark.parametrize("name", ["base_url", "timeout", "max_retries"])
def test_settings_are_read_only_properties_on_both_clients(name: str) -> None:
    for cls in (Client, AsyncClient):
        attribute = inspect.getattr_static(cls, name)
        assert isinstance(attribute, property)
        assert attribute.fset is None


# --- The error tree (SPEC §4) -------------------------------------------------

E = ticketpulse

ERROR_BASES: dict[type, tuple[type, ...]] = {
    E.TicketPulseError: (Exception,),
    E.ConfigurationError: (E.TicketPulseError, ValueError),
    E.InvalidRequestError: (E.TicketPulseError, ValueError),
    E.APIConnectionError: (E.TicketPulseError,),
    E.APITimeoutError: (E.APIConnectionError,),
    E.OrderOutcomeUnknownError: (E.APIConnectionError,),
    E.UnexpectedResponseError: (E.TicketPulseError,),
    E.UsageError: (E.TicketPulseError, RuntimeError),
    E.APIStatusError: (E.TicketPulseError,),
    E.BadRequestError: (E.APIStatusError,),
    E.NotPermittedError: (E.APIStatusError,),
    E.FileNotReadyError: (E.NotPermittedError,),
    E.AuthenticationError: (E.APIStatusError,),
    E.NotFoundError: (E.APIStatusError,),
    E.RateLimitError: (E.APIStatusError,),
    E.ServerError: (E.APIStatusError,),
}


def public_parents(cls: type) -> tuple[type, ...]:
    """The direct bases, with private helper classes (``_Name``) replaced by theirs."""
    parents: list[type] = []
    for base in cls.__bases__:
        for parent in public_parents(base) if base.__name__.startswith("_") else (base,):
            if parent not in parents:
                parents.append(parent)
    return tuple(parents)


@pytest.mark.parametrize("error", list(ERROR_BASES), ids=lambda cls: cls.__name__)
def test_error_has_exactly_the_spec_parents(error: type) -> None:
    assert public_parents(error) == ERROR_BASES[error]


def test_every_exported_exception_is_in_the_spec_tree() -> None:
    exported = {
        value
        for value in (getattr(ticketpulse, name) for name in ticketpulse.__all__)
        if isinstance(value, type) and issubclass(value, BaseException)
    }

    assert exported == set(ERROR_BASES)


def test_error_tree_relations() -> None:
    assert issubclass(E.ConfigurationError, ValueError)
    assert issubclass(E.InvalidRequestError, ValueError)
    assert issubclass(E.FileNotReadyError, E.NotPermittedError)
    assert issubclass(E.FileNotReadyError, E.APIStatusError)
    assert issubclass(E.APITimeoutError, E.APIConnectionError)
    assert issubclass(E.OrderOutcomeUnknownError, E.APIConnectionError)
    assert all(issubclass(error, E.TicketPulseError) for error in ERROR_BASES)
    assert not issubclass(E.OrderOutcomeUnknownError, E.APITimeoutError)
    assert not issubclass(E.UnexpectedResponseError, E.APIStatusError)
    assert not issubclass(E.APIStatusError, E.APIConnectionError)
    assert not issubclass(E.APIConnectionError, ValueError)
    assert not issubclass(E.UnexpectedResponseError, ValueError)
    assert not issubclass(E.APIStatusError, ValueError)


# --- The core imports no HTTP library (SPEC §1) -----------------------------

CORE_MODULES = [
    "_core",
    "_endpoints",
    "_convert",
    "_models",
    "_errors",
    "_retry",
    "_json",
    "_validate",
    "_redact",
]
FORBIDDEN = {
    "httpx",
    "httpcore",
    "aiohttp",
    "requests",
    "urllib3",
    "h11",
    "anyio",
    "trio",
    "asyncio",
    "socket",
}
# What the core's modules may import from the package: each other and the version.
ALLOWED_SIBLINGS = {*CORE_MODULES, "_version"}


def package_dir() -> Path:
    spec = importlib.util.find_spec("ticketpulse")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def imported_modules(source: str) -> tuple[set[str], set[str]]:
    """Top-level names of absolute imports, and the package modules of relative ones."""
    absolute: set[str] = set()
    siblings: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            absolute.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                absolute.add(node.module.split(".")[0])
                if node.module.split(".")[0] == "ticketpulse":
                    siblings.add(".".join(node.module.split(".")[1:2]) or "__init__")
            elif node.module:
                siblings.add(node.module.split(".")[0])
            else:  # from . import _json
                siblings.update(alias.name for alias in node.names)
    return absolute, siblings


def test_import_scanner_sees_every_form_of_import() -> None:
    absolute, siblings = imported_modules(
        "import httpx.x\nfrom asyncio import sleep\nfrom . import _json\n"
        "from ._client import Client\nfrom ticketpulse._base import X\n"
        "def f():\n    import socket\n"
    )

    assert absolute == {"httpx", "asyncio", "ticketpulse", "socket"}
    assert siblings == {"_json", "_client", "_base"}


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_imports_no_http_or_async_library(module: str) -> None:
    absolute, siblings = imported_modules((package_dir() / f"{module}.py").read_text("utf-8"))

    assert absolute & FORBIDDEN == set()
    assert siblings <= ALLOWED_SIBLINGS, "the core may only import the core"


def run_python(code: str) -> str:
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_core_loads_without_any_http_library() -> None:
    # The package's __init__ imports the clients (and so httpx): load the core
    # modules under an empty stand-in package, in a fresh interpreter.
    # `socket` is left out: the stdlib's email.utils (Retry-After dates) imports it.
    code = f"""
import importlib, importlib.util, sys, types
spec = importlib.util.find_spec("ticketpulse")
package = types.ModuleType("ticketpulse")
package.__path__ = list(spec.submodule_search_locations)
sys.modules["ticketpulse"] = package
for name in {CORE_MODULES!r}:
    importlib.import_module("ticketpulse." + name)
loaded = {{m.split(".")[0] for m in sys.modules}}
clients = {{"ticketpulse._client", "ticketpulse._async_client", "ticketpulse._base"}}
print(sorted((loaded & set({sorted(FORBIDDEN - {"socket"})!r})) | (clients & set(sys.modules))))
"""
    assert run_python(code) == "[]"


def test_import_ticketpulse_loads_neither_aiohttp_nor_the_test_kit() -> None:
    # Nor asyncio (about 30 ms) or the connection code: loaded when a client first needs them.
    code = """
import sys
import ticketpulse
shared = "ticketpulse._transport._shared"
lazy = {"asyncio", "httpcore", "h11"} | {
    m for m in sys.modules if m.startswith("ticketpulse._transport.") and m != shared
}
print(sorted(m for m in sys.modules if m.split(".")[0] == "aiohttp"
             or m == "ticketpulse.testing" or m.startswith("ticketpulse.testing.")
             or m in lazy))
"""
    assert run_python(code) == "[]"
