"""What the benchmarks share: core pinning, the server process, TLS, statistics, the machine."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLIENT_CPU = 0
SERVER_CPU = 1


def can_pin() -> bool:
    """True when this process may run on both the client's and the server's core."""
    if not hasattr(os, "sched_getaffinity"):
        return False
    allowed = os.sched_getaffinity(0)
    return CLIENT_CPU in allowed and SERVER_CPU in allowed


def pin(cpu: int) -> bool:
    """Pin this process (and the threads and processes it starts later) to ``cpu``."""
    try:
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError, ValueError):
        return False
    return True


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max (and the count) of ``values``."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class TLSFiles:
    """A loopback certificate authority of ``trustme``'s and the server certificate it issued.

    ``ca_file`` is the CA's certificate (PEM): clients trust it, the SDK
    through ``SSL_CERT_FILE``, the hand-written clients through
    :meth:`client_context`. The server's certificate names ``127.0.0.1`` and
    ``localhost``.
    """

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only (host names checked)."""
        return ssl.create_default_context(cafile=str(self.ca_file))


def make_tls(directory: Path) -> TLSFiles:
    """A new CA and a server certificate for ``127.0.0.1``, written under ``directory``.

    ``trustme`` is imported here only: the plain-HTTP benchmarks do not need it.
    """
    import trustme

    authority = trustme.CA(organization_name="ticketpulse benchmarks")
    leaf = authority.issue_cert("127.0.0.1", "localhost")
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        directory=directory,
        ca_file=directory / "ca.pem",
        cert_file=directory / "server-chain.pem",
        key_file=directory / "server-key.pem",
    )
    authority.cert_pem.write_to_path(str(files.ca_file))
    leaf.private_key_pem.write_to_path(str(files.key_file))
    files.cert_file.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return files


class ServerProcess:
    """``python -m benchmarks.server`` in a subprocess, on its own core when allowed.

    With ``tls`` it serves HTTPS only (control routes included), with the
    certificate of ``tls``, and the signed URLs it hands out are https too.
    """

    def __init__(
        self,
        server: str,
        n: int,
        *,
        cpu: int | None,
        app: str = "sandbox",
        tls: TLSFiles | None = None,
    ) -> None:
        self.server = server
        self.app = app
        self.n = n
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self._control_context = tls.client_context() if tls else None
        self.port = free_port()
        self.origin = f"{self.scheme}://127.0.0.1:{self.port}"
        self.base_url = self.origin + "/tp-api"
        command = [
            sys.executable,
            "-m",
            "benchmarks.server",
            "--server",
            server,
            "--n",
            str(n),
            "--port",
            str(self.port),
            "--app",
            app,
        ]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        if tls is not None:
            command += ["--certfile", str(tls.cert_file), "--keyfile", str(tls.key_file)]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.info = self._wait_ready(timeout=120)
        self.key: str = self.info["key"]
        self.user_id: int = self.info["user_id"]
        self.ids: list[str] = self.info["ids"]

    def _wait_ready(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"the {self.server} benchmark server exited: {error[-2000:]}")
            try:
                return self.control("info")
            except OSError:  # ssl.SSLError too
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the {self.server} benchmark server did not start in {timeout} s")

    def control(self, name: str, **query: Any) -> dict[str, Any]:
        """Call a ``/_bench/`` control route (between timed runs only)."""
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        url = f"{self.origin}/_bench/{name}{suffix}"
        with urllib.request.urlopen(url, timeout=30, context=self._control_context) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result

    def set_delay(self, ms: float) -> None:
        self.control("delay", ms=ms)

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 2)  # SIGINT: granian and uvicorn shut down cleanly
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, 9)
                self.process.wait(10)
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def server_process(
    server: str, n: int, *, cpu: int | None, app: str = "sandbox", tls: TLSFiles | None = None
) -> Iterator[ServerProcess]:
    running = ServerProcess(server, n, cpu=cpu, app=app, tls=tls)
    try:
        yield running
    finally:
        running.stop()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def source_state() -> dict[str, Any]:
    """The commit measured, and whether the SDK's files differed from it."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "ticketpulse")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "sdk_uncommitted_changes": None if changed is None else changed.splitlines(),
    }


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    packages = [
        "ticketpulse",
        "httpx",
        "httpcore",
        "aiohttp",
        "attrs",
        "cattrs",
        "anyio",
        "pydantic",
        "pydantic-core",
        "orjson",
        "granian",
        "uvicorn",
        "uvloop",
        "httptools",
        "trustme",
    ]
    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "affinity_at_start": affinity,
        "loadavg_at_start": load,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "versions": {name: _version(name) for name in packages},
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "source": source_state(),
    }


def machine_busy() -> float | None:
    """CPU seconds spent by the whole machine (all cores) since boot, from /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as file:
            fields = file.readline().split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal ...
    values = [int(v) for v in fields[1:9]]
    busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
    return busy / os.sysconf("SC_CLK_TCK")
