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
    band: tuple[str, list[Any]] | None = None,
    alarms: list[int] | None = None,
) -> bool:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    ys = [v for values in lines.values() for v in _finite(values)]
    if not ys:
        return False
    fig = Figure(figsize=(8, 4.8 if band else 4.2), dpi=120, layout="constrained")
    if band:
        ax, strip = fig.subplots(2, 1, sharex=True, height_ratios=[9, 1])
        _leader_band(strip, x, *band)
    else:
        ax = fig.add_subplot()
    for record in alarms or ():
        ax.axvline(record, color="#888888", linestyle=":", linewidth=1.0)
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
    (strip if band else ax).set_xlabel("records")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if len(lines) > 1:
        ax.legend(frameon=False, fontsize=9)
    fig.savefig(path, format="png")
    return True


def _leader_band(strip: Any, x: list[Any], model: str, leaders: list[Any]) -> None:
    """Coloured spans: which member of ``model`` (auto) led, batch by batch."""
    names = list(dict.fromkeys(n for n in leaders if n))
    colours = {n: PALETTE[(i + 3) % len(PALETTE)] for i, n in enumerate(names)}
    start = 0.0
    for at, leader in zip(x, leaders, strict=False):
        if leader:
            strip.axvspan(start, at, color=colours[leader], linewidth=0)
        start = at
    strip.set_yticks([])
    strip.set_ylabel(f"{model}\nleader", rotation=0, ha="right", va="center", fontsize=8)
    handles = [strip.bar(0, 0, color=colours[n], label=n) for n in names]
    if handles:
        strip.legend(
            frameon=False, fontsize=7, ncol=min(len(names), 7), loc="upper center",
            bbox_to_anchor=(0.5, -0.9),
        )  # fmt: skip
    strip.spines[["top", "right", "left"]].set_visible(False)


def _delay_plot(path: Path, name: str, delays: dict[str, Any]) -> bool:
    """How late the joined labels came: labels per delay bin, on a log axis of seconds."""
    from matplotlib.figure import Figure

    bins = [b for b in delays["bins"] if b["up_to_s"] is not None]
    if not bins:
        return False
    fig = Figure(figsize=(8, 3.6), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ax.bar(range(len(bins)), [b["count"] for b in bins], color=PALETTE[0])
    ax.set_xticks(range(len(bins)), [f"{b['up_to_s']:g}" for b in bins], rotation=60, fontsize=8)
    ax.set_xlabel("label delay, up to (seconds)")
    ax.set_ylabel("labels")
    ax.set_title(
        f"{name}: how late labels came (median {delays['p50_s']:.3g} s, "
        f"90% {delays['p90_s']:.3g} s, max {delays['max_s']:.3g} s)",
        loc="left",
        fontsize=12,
    )
    ax.spines[["top", "right"]].set_visible(False)
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
        twin, ``label_delays.png`` (labels joined by key) and
        ``throughput.png``; plots without data are skipped.
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
    leaders = series.get("leaders") or {}
    shown = champion if champion in leaders else next(iter(leaders), None)
    band = (shown, leaders[shown]) if shown else None
    drift = (summary.get("models") or {}).get(champion or "", {}).get("drift") or {}
    for file, title, kind in plots:
        lines = {m: v[kind] for m, v in models.items()}
        if _line_plot(
            folder / file,
            title,
            x,
            lines,
            label,
            classification,
            champion,
            band=band,
            alarms=drift.get("records"),
        ):
            written.append(folder / file)
    delays = (summary.get("labels") or {}).get("delay_s") or {}
    if delays.get("count") and _delay_plot(folder / "label_delays.png", name, delays):
        written.append(folder / "label_delays.png")
    rate = {"records/s": series["rate"]}
    if _line_plot(
        folder / "throughput.png", f"{name}: throughput", x, rate, "records/s", zero=True
    ):
        written.append(folder / "throughput.png")
    return written
