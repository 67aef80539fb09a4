"""The pytest plugin's fixtures, under their former module name.

The plugin itself is the top-level module ``_ticketpulse_pytest_plugin`` (the
package's ``pytest11`` entry point), which imports nothing but pytest; see its
docstring. This name stays for ``-p ticketpulse.testing._pytest_plugin`` and
for conftest files that import the fixtures from here.
"""

from __future__ import annotations

from _ticketpulse_pytest_plugin import (
    ticketpulse_async_client,
    ticketpulse_client,
    ticketpulse_sandbox,
)

__all__ = ["ticketpulse_async_client", "ticketpulse_client", "ticketpulse_sandbox"]
