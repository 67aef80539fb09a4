"""The clients the suites run, by name.

``AsyncClient[builtin]`` is ``AsyncClient(transport="builtin")``, and so on.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import ticketpulse

_NAME = re.compile(r"(Client|AsyncClient)(?:\[(httpx|builtin|aiohttp)\])?")


def client_class(name: str) -> Any:
    """A callable that builds the named client (class and transport), like a class."""
    match = _NAME.fullmatch(name)
    assert match is not None, name
    cls = getattr(ticketpulse, match[1])
    if match[2] is None:
        return cls
    return functools.partial(cls, transport=match[2])
