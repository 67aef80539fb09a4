"""The pure core and the sans-I/O HTTP/1.1 load no HTTP, network or async library.

``tests/test_public_api.py`` checks the core modules' imports; this adds the
protocol module ``_transport._http11`` and, for all of them, ``socket`` and
``ssl``, in a fresh interpreter where nothing else was imported first.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

PURE = [
    "_core",
    "_endpoints",
    "_convert",
    "_models",
    "_errors",
    "_retry",
    "_json",
    "_validate",
    "_redact",
    "_transport._http11",
]
FORBIDDEN = ["httpx", "httpcore", "h11", "aiohttp", "anyio", "asyncio", "socket", "ssl"]

# The package's __init__ imports the clients, and _transport's the shared layer:
# stand-in packages with the same paths load only the modules asked for.
SCRIPT = f"""
import importlib, importlib.util, sys, types
spec = importlib.util.find_spec("ticketpulse")
root = list(spec.submodule_search_locations)[0]
for name, path in (("ticketpulse", root), ("ticketpulse._transport", root + "/_transport")):
    package = types.ModuleType(name)
    package.__path__ = [path]
    sys.modules[name] = package
for name in {PURE!r}:
    importlib.import_module("ticketpulse." + name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {FORBIDDEN!r})
others = sorted(m for m in sys.modules if m.startswith("ticketpulse._transport.")
                and m != "ticketpulse._transport._http11")
print(loaded, others, "ticketpulse._transport._http11" in sys.modules)
"""


def test_pure_modules_load_no_http_network_or_async_library() -> None:
    result = subprocess.run(  # noqa: S603 - this interpreter on a fixed script
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] [] True"


def test_the_http11_module_imports_only_the_standard_library() -> None:
    spec = importlib.util.find_spec("ticketpulse._transport._http11")
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "the protocol module imports nothing from the package"
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "enum", "re", "typing"}
