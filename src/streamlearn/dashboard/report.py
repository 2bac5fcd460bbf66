"""The end-of-run report: one self-contained HTML file plus PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlearn.dashboard.history import History
from streamlearn.dashboard.page import render_page
from streamlearn.dashboard.plots import write_plots
from streamlearn.sinks.files import atomic_write_bytes

__all__ = ["write_report"]


def write_report(out: Path, history: History) -> dict[str, Any]:
    """Write ``out/report.html`` and ``out/plots/*.png`` for a finished run.

    The HTML inlines its styles, scripts, data and the PNGs (as data URIs):
    it opens offline and loads nothing from any network address.

    Parameters
    ----------
    out
        The run's output folder (created if missing).
    history
        The run's history, after :meth:`History.finish`.

    Returns
    -------
    dict
        ``{"report": Path, "plots": [Path, ...]}``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    state = history.state()
    plots = write_plots(out / "plots", state)
    page = render_page(
        "report",
        state,
        title=f"streamlearn report · {state['name']}",
        images=[(f"plots/{p.name}", p.read_bytes()) for p in plots],
        footer=f"streamlearn report, written at the end of the run started {state['started']}",
    )
    report = out / "report.html"
    atomic_write_bytes(report, page.encode("utf-8"))
    return {"report": report, "plots": plots}
