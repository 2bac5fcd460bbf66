"""``--dashboard`` and ``--out``: a live web page and an end-of-run report around the console.

:func:`with_reporting` wraps the console observer: every hook still reaches
the console, and the run is also recorded (bounded) for the dashboard and the
report. ``streamlearn demo`` runs several pipelines in sequence; it starts
one server with :func:`start_dashboard` and passes it to every run::

    with start_dashboard(port) as server:
        for name, pipeline in runs:
            observer = with_reporting(ConsoleObserver(), out=out / name,
                                      run_name=name, server=server)
            run(pipeline, observer=observer)
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamlearn.dashboard.history import History
from streamlearn.dashboard.server import DashboardServer
from streamlearn.engines.base import Observer
from streamlearn.errors import MissingExtraError
from streamlearn.outputs import check_folder, output_failed
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress
from streamlearn.summary import RunSummary

__all__ = ["ReportingObserver", "start_dashboard", "with_reporting"]


def _say(observer: Observer | None, text: str) -> None:
    # through the console's rich Console when there is one, so the progress bar stays intact
    console = getattr(observer, "console", None)
    if console is not None:
        console.print(text, markup=False, highlight=False)
    else:
        print(text, file=sys.stderr)


def start_dashboard(port: int, observer: Observer | None = None) -> DashboardServer:
    """Start a dashboard server on ``127.0.0.1:port`` and say where it is.

    Raises
    ------
    ConfigError
        The port is taken.
    MissingExtraError
        starlette or uvicorn is not installed.
    """
    for module in ("starlette", "uvicorn"):
        if importlib.util.find_spec(module) is None:
            raise MissingExtraError("--dashboard", "dashboard")
    server = DashboardServer(port).start()
    _say(observer, f"dashboard: {server.url}")
    return server


class ReportingObserver(Observer):
    """Forwards every hook to ``inner`` and records the run for the dashboard and report.

    Parameters
    ----------
    inner
        The console observer (or any observer) that keeps its usual output.
    history
        Where the run is recorded.
    out
        Folder for ``report.html`` and ``plots/``; ``None`` writes no report.
    server
        A started dashboard server showing this run, or ``None``.
    own_server
        Stop ``server`` when the run ends (not when it is shared by several runs).
    linger
        Seconds to keep serving the final state after the run, if this observer
        owns the server (default 0: stop at once).
    """

    def __init__(
        self,
        inner: Observer,
        history: History,
        out: Path | None = None,
        server: DashboardServer | None = None,
        own_server: bool = False,
        linger: float = 0.0,
    ) -> None:
        self.inner = inner
        self.history = history
        self.out = out
        self.server = server
        self.own_server = own_server
        self.linger = linger
        self.written: dict[str, Any] = {}

    def on_start(self, info: dict[str, Any]) -> None:
        self.inner.on_start(info)
        self.history.start(info)
        if self.server is not None:
            self.server.add_run(self.history)

    def on_batch(self, result: BatchResult, progress: Progress) -> None:
        self.inner.on_batch(result, progress)
        self.history.add(result, progress)

    def on_idle(self, progress: Progress) -> None:
        self.inner.on_idle(progress)
        self.history.idle(progress)

    def on_end(self, summary: RunSummary) -> None:
        try:
            self.inner.on_end(summary)
            self.history.finish(summary)
            if self.out is not None:
                self._write_report(self.out)
        finally:
            self.close()

    def _write_report(self, out: Path) -> None:
        from streamlearn.dashboard.report import write_report

        try:
            self.written = write_report(out, self.history)
        except OSError as exc:
            raise output_failed("the report into", out, exc) from None
        plots = ", ".join(str(p) for p in self.written["plots"]) or "none"
        _say(self.inner, f"report: {self.written['report']} (plots: {plots})")

    def close(self) -> None:
        """Stop the dashboard if this observer started it (idempotent)."""
        if self.server is not None and self.own_server:
            server, self.server = self.server, None
            if self.linger > 0:
                _say(self.inner, f"dashboard: showing the final state for {self.linger:g} s more")
            server.stop(linger=self.linger)


def with_reporting(
    observer: Observer,
    out: Path | None = None,
    dashboard: bool = False,
    port: int = 8050,
    *,
    run_name: str | None = None,
    server: DashboardServer | None = None,
    linger: float = 0.0,
    stats: Callable[[], dict[str, Any]] | None = None,
    max_points: int = 2000,
) -> Observer:
    """Wrap ``observer`` with a live dashboard and/or an end-of-run report.

    Parameters
    ----------
    observer
        The console observer; it keeps receiving every hook.
    out
        Write ``out/report.html`` and ``out/plots/*.png`` when the run ends
        (the caller writes ``out/metrics.json``).
    dashboard
        Serve ``http://127.0.0.1:port/`` during the run (starts a server
        unless ``server`` is given), and stop it when the run ends.
    port
        The dashboard's port.
    run_name
        The name shown on the page and in plot titles (default: the source kind).
    server
        A running server shared by several runs (``demo``); it is not stopped here.
    linger
        Seconds to keep serving after the run ends (own server only).
    stats
        Callable returning keyed statistics ``{step: summary}``, polled at most
        once a second, for the keyed-statistics table.
    max_points
        Most points per curve kept in memory.

    Returns
    -------
    Observer
        A :class:`ReportingObserver`.

    Raises
    ------
    ConfigError
        The dashboard port is taken.
    MissingExtraError
        The needed extra (starlette, uvicorn, matplotlib) is not installed.
    """
    if out is not None and importlib.util.find_spec("matplotlib") is None:
        raise MissingExtraError("--out (the report's plots)", "dashboard")
    if out is not None:
        check_folder(out, "--out")
    own = False
    if server is None and dashboard:
        server, own = start_dashboard(port, observer), True
    history = _NamedHistory(run_name, max_points=max_points, stats=stats)
    return ReportingObserver(
        observer, history, Path(out) if out is not None else None, server, own, linger
    )


class _NamedHistory(History):
    """A history named after the source when no run name is given."""

    def __init__(self, run_name: str | None, **kwargs: Any) -> None:
        super().__init__(run_name or "run", **kwargs)
        self._explicit = run_name is not None

    def start(self, info: dict[str, Any]) -> None:
        if not self._explicit:
            self.name = str(info.get("topic") or info.get("kind") or "run")
        super().start(info)
