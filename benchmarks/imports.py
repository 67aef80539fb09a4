"""Import time as whole processes (target 7).

``python -c "import ticketpulse"`` against ``python -c "import httpx, attrs,
cattrs, anyio"`` (the SDK's runtime dependencies), plus ``python -c pass``
for the interpreter's own start-up, run interleaved, each timed from spawn to
exit (wall clock). The figure is the ratio of the medians; the per-round
ratios are kept too.

The SDK's modules are byte-compiled first, as ``pip install`` does for every
package: under an editable install with ``PYTHONDONTWRITEBYTECODE`` set (as
on the benchmark machine) each process would otherwise compile the SDK's
source while the dependencies load their ``.pyc`` files.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from ._common import ROOT, summary

__all__ = ["COMMANDS", "run_imports"]

COMMANDS = {
    "ticketpulse": "import ticketpulse",
    "dependencies": "import httpx, attrs, cattrs, anyio",
    "python": "pass",
}


def _time(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - start


def run_imports(*, runs: int = 21, progress: Callable[[str], None] = print) -> dict[str, Any]:
    compileall.compile_dir(ROOT / "ticketpulse", quiet=1)
    for code in COMMANDS.values():  # warm the file system cache
        _time(code)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    ratios: list[float] = []
    names = list(COMMANDS)
    for index in range(runs):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_time(COMMANDS[name]) * 1000)
        ratios.append(times["ticketpulse"][-1] / times["dependencies"][-1])
    ms = {name: summary(values) for name, values in times.items()}
    progress(
        f"  import: ticketpulse {ms['ticketpulse']['median']:.1f} ms, "
        f"dependencies {ms['dependencies']['median']:.1f} ms, "
        f"python {ms['python']['median']:.1f} ms"
    )
    return {
        "runs": runs,
        "commands": COMMANDS,
        "ms": ms,
        "ratio_of_medians": ms["ticketpulse"]["median"] / ms["dependencies"]["median"],
        "ratio": summary(ratios),
        "raw_ms": times,
    }
