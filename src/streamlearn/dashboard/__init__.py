"""Live web dashboard and end-of-run report.

- :class:`History` records a run, per batch, within a fixed memory bound.
- :class:`DashboardServer` serves it live on 127.0.0.1 (server-sent events).
- :func:`write_report` writes ``report.html`` (self-contained, offline) and PNG plots.

The server needs the ``dashboard`` extra (starlette, uvicorn); the plots need
matplotlib (same extra). Importing this package needs neither.
"""

from __future__ import annotations

from streamlearn.dashboard.history import History
from streamlearn.dashboard.report import write_report
from streamlearn.dashboard.server import LOOPBACK, DashboardServer

__all__ = ["LOOPBACK", "DashboardServer", "History", "write_report"]
