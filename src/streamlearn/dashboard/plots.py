"""PNG plots of a run with matplotlib, fit for a README.

Figures are made with :class:`matplotlib.figure.Figure` directly (the Agg
canvas), never through ``pyplot``: no global state, no GUI backend, safe to
call from any thread.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from streamlearn.errors import MissingExtraError

__all__ = ["write_plots"]

PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#7f7f7f",
    "#bcbd22",
]


def _finite(values: list[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _line_plot(
    path: Path,
    title: str,
    x: list[Any],
    lines: dict[str, list[Any]],
    ylabel: str,
    percent: bool = False,
    champion: str | None = None,
    zero: bool = False,
) -> bool:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    ys = [v for values in lines.values() for v in _finite(values)]
    if not ys:
        return False
    fig = Figure(figsize=(8, 4.2), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    for i, (name, values) in enumerate(lines.items()):
        pts = [
            (a, float(b))
            for a, b in zip(x, values, strict=False)
            if b is not None and math.isfinite(float(b))
        ]
        if not pts:
            continue
        label = f"{name} (champion)" if name == champion else name
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            label=label,
            color=PALETTE[i % len(PALETTE)],
            linewidth=2.4 if name == champion else 1.6,
        )
    lo, hi = min(ys), max(ys)
    if not percent and lo > 0 and hi / lo > 100:  # MSEs of very different models
        ax.set_yscale("log")
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    if zero:  # rates read best from 0
        ax.set_ylim(bottom=0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(title, loc="left", fontsize=12)
    ax.set_xlabel("records")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(lines) > 1:
        ax.legend(frameon=False, fontsize=9)
    fig.savefig(path, format="png")
    return True


def write_plots(folder: Path, state: dict[str, Any]) -> list[Path]:
    """Write the run's plots as PNG files into ``folder``; returns their paths.

    Parameters
    ----------
    folder
        Created if missing.
    state
        A :meth:`~streamlearn.dashboard.history.History.state`.

    Returns
    -------
    list of Path
        ``accuracy.png`` or ``mse.png`` (cumulative, per model), the windowed
        twin and ``throughput.png``; plots without data are skipped.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError("the report's plots", "dashboard") from exc
    folder.mkdir(parents=True, exist_ok=True)
    series = state["series"]
    summary = state.get("summary") or {}
    classification = summary.get("task") == "classification"
    metric, label = ("accuracy", "accuracy") if classification else ("mse", "MSE")
    champion = summary.get("champion")
    x = series["records"]
    models = series["models"]
    name = state.get("name") or "run"
    written: list[Path] = []
    plots = [
        (f"{metric}.png", f"{name}: prequential {label} per model (cumulative)", "cumulative"),
        (f"windowed_{metric}.png", f"{name}: {label} over the last records (windowed)", "windowed"),
    ]
    for file, title, kind in plots:
        lines = {m: v[kind] for m, v in models.items()}
        if _line_plot(folder / file, title, x, lines, label, classification, champion):
            written.append(folder / file)
    rate = {"records/s": series["rate"]}
    if _line_plot(
        folder / "throughput.png", f"{name}: throughput", x, rate, "records/s", zero=True
    ):
        written.append(folder / "throughput.png")
    return written
