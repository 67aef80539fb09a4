"""Running a loopback server in a background thread with its own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, Literal

from ._app import API_ROOT, SandboxApp
from ._connections import ConnectionCounter
from ._h11_server import H11Server

__all__ = ["Backend", "RunningServer", "start_server"]

Backend = Literal["builtin", "uvicorn"]

logger = logging.getLogger("ticketpulse.testing")

_Runner = Callable[
    [SandboxApp, ConnectionCounter, str, int, Callable[[str, int], None], asyncio.Event],
    Coroutine[Any, Any, None],
]


async def _run_builtin(
    app: SandboxApp,
    counter: ConnectionCounter,
    host: str,
    port: int,
    ready: Callable[[str, int], None],
    stop: asyncio.Event,
) -> None:
    server = H11Server(app, counter)
    try:
        bound = await server.start(host, port)
        ready(*bound)
        await stop.wait()
    finally:
        await server.close()


class RunningServer:
    """A loopback server serving a sandbox from a background thread.

    ``base_url`` is the API's base URL (``http://127.0.0.1:PORT/tp-api``);
    ``connections`` counts the TCP connections. :meth:`stop` (or leaving the
    ``with`` block) closes every connection and joins the thread.
    """

    def __init__(
        self,
        runner: _Runner,
        app: SandboxApp,
        counter: ConnectionCounter,
        *,
        host: str,
        port: int,
        backend: Backend,
        timeout: float,
    ) -> None:
        self.backend: Backend = backend
        self.connections = counter
        self.host = host
        self.port = port
        self._runner = runner
        self._app = app
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._thread_main, name=f"ticketpulse-sandbox-{backend}", daemon=True
        )
        self._start(timeout)

    @property
    def origin(self) -> str:
        """``http://host:port``, where signed file URLs point."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL to give a client."""
        return self.origin + API_ROOT

    def _start(self, timeout: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the sandbox's {self.backend} server did not start in {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # re-raised in the starting thread, or logged
            if self._ready.is_set():
                logger.error("the sandbox's %s server stopped", self.backend, exc_info=exc)
            else:
                self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(host: str, port: int) -> None:
            self.host, self.port = host, port
            self._ready.set()

        await self._runner(self._app, self.connections, self.host, self.port, ready, self._stop)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving: close the listening socket and every connection, join the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and self._thread.is_alive():
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(stop.set)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError(f"the sandbox's {self.backend} server did not stop in {timeout} s")

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<RunningServer {self.backend} {self.base_url}>"


def start_server(
    app: SandboxApp,
    counter: ConnectionCounter,
    *,
    host: str,
    port: int,
    backend: Backend,
    timeout: float = 10.0,
) -> RunningServer:
    """Start serving ``app`` on ``host:port`` in a background thread (port 0: a free one)."""
    runner: _Runner
    if backend == "builtin":
        runner = _run_builtin
    elif backend == "uvicorn":
        from ._asgi import run_uvicorn

        runner = run_uvicorn
    else:
        raise ValueError(f"server must be 'builtin' or 'uvicorn', not {backend!r}")
    return RunningServer(
        runner, app, counter, host=host, port=port, backend=backend, timeout=timeout
    )
