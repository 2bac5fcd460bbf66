"""The live dashboard: a small Starlette app served by uvicorn in a background thread.

It listens on 127.0.0.1 only. ``/`` is the page, ``/events`` a server-sent
event stream that pushes a run's state whenever it changed (at most every
``poll_s`` seconds, so a fast run does not flood the browser), and
``/state.json`` the same state once. One server can show several runs in
sequence (``streamlearn demo``): the page follows the latest run unless the
viewer picks another.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from streamlearn.dashboard.history import History
from streamlearn.dashboard.page import dumps, render_page
from streamlearn.errors import ConfigError, MissingExtraError

__all__ = ["LOOPBACK", "DashboardServer"]

#: the only address the dashboard ever binds to
LOOPBACK = "127.0.0.1"


class DashboardServer:
    """Serves the runs it is given on ``http://127.0.0.1:port/``.

    Parameters
    ----------
    port
        TCP port on 127.0.0.1; 0 picks a free one (see :attr:`port` after
        :meth:`start`).
    poll_s
        How often each event stream looks for a new state.

    Examples
    --------
    >>> server = DashboardServer(0).start()   # doctest: +SKIP
    >>> server.add_run(History("job 2"))      # doctest: +SKIP
    >>> server.stop()                         # doctest: +SKIP
    """

    def __init__(self, port: int = 8050, poll_s: float = 0.25) -> None:
        if not 0 <= port <= 65535:
            raise ConfigError(f"--port must be between 0 and 65535, not {port}")
        self.port = port
        self.poll_s = poll_s
        self.runs: dict[str, History] = {}
        self.latest: str | None = None
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- runs -----------------------------------------------------------------------
    def add_run(self, history: History) -> History:
        """Show ``history`` (renamed ``name (2)``... if the name is taken); it becomes the latest."""
        with self._lock:
            base, i = history.name, 2
            while history.name in self.runs:
                history.name, i = f"{base} ({i})", i + 1
            self.runs[history.name] = history
            self.latest = history.name
        return history

    def _pick(self, run: str | None) -> History | None:
        with self._lock:
            name = run if run in self.runs else self.latest
            return self.runs.get(name) if name is not None else None

    def state(self, run: str | None = None) -> dict[str, Any] | None:
        """The state of ``run`` (default: the latest run), with the names of all runs."""
        history = self._pick(run)
        if history is None:
            return None
        state = history.state()
        with self._lock:
            state["runs"] = list(self.runs)
        return state

    # -- the app ----------------------------------------------------------------------
    def _app(self) -> Any:
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware
        from starlette.requests import Request
        from starlette.responses import HTMLResponse, Response, StreamingResponse
        from starlette.routing import Route

        async def page(request: Request) -> HTMLResponse:
            state = self.state(request.query_params.get("run"))
            return HTMLResponse(render_page("live", state, title="streamlearn dashboard"))

        async def state_json(request: Request) -> Response:
            return Response(
                dumps(self.state(request.query_params.get("run"))), media_type="application/json"
            )

        async def events(request: Request) -> StreamingResponse:
            run = request.query_params.get("run") or None
            return StreamingResponse(
                self._stream(run),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )

        return Starlette(
            routes=[Route("/", page), Route("/state.json", state_json), Route("/events", events)],
            # only loopback names: a web page elsewhere cannot read us via DNS rebinding
            middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=[LOOPBACK, "localhost"])],
        )

    async def _stream(self, run: str | None) -> AsyncIterator[bytes]:
        yield b"retry: 1000\n\n"
        sent: tuple[Any, ...] | None = None
        beat = time.monotonic()
        while True:
            closing = self._closing.is_set()  # read first: the final state is in by then
            history = self._pick(run)
            if history is not None:
                key = (history.name, history.version, len(self.runs))
                if key != sent:
                    sent = key
                    yield b"data: " + dumps(self.state(history.name)) + b"\n\n"
                    beat = time.monotonic()
            if closing:
                return
            if time.monotonic() - beat > 15:  # keeps proxies and browsers from timing out
                yield b": keep-alive\n\n"
                beat = time.monotonic()
            await asyncio.sleep(self.poll_s)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> DashboardServer:
        """Bind 127.0.0.1:port and serve in a daemon thread; returns ``self``.

        Raises
        ------
        ConfigError
            The port is taken (or not ours to bind).
        """
        try:
            import uvicorn
        except ImportError as exc:
            raise MissingExtraError("the dashboard", "dashboard") from exc
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # a port left in TIME_WAIT by a previous run may be reused; one that is listening may not
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, self.port))
            sock.listen(64)
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"dashboard port {self.port} on {LOOPBACK} is not available "
                f"({exc.strerror or exc}); choose another with --port"
            ) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="streamlearn-dashboard",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            self._server.should_exit = True
            raise ConfigError(f"the dashboard could not start on {self.url}")
        return self

    def stop(self, linger: float = 0.0) -> None:
        """Send every viewer the final state and stop; with ``linger``, serve that long first."""
        if self._server is None:
            return
        if linger > 0:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C while lingering stops sooner
                time.sleep(linger)
        self._closing.set()
        time.sleep(min(0.5, 2 * self.poll_s))  # let open streams send the final state
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> DashboardServer:
        return self if self.running else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
