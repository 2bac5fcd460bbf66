"""A bounded record of one run, per batch: what the dashboard and the report draw.

The history keeps at most ``max_points`` sampled points. When it is full it
drops every other point and samples half as often from then on, so a run of
any length is drawn with between ``max_points / 2`` and ``max_points`` points
and memory stays flat. The latest point is always kept, so curves end where
the run is now.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from streamlearn.dashboard.tables import stats_table
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress

__all__ = ["History", "metric_names"]

#: summary keys copied into the state: the small ones (``stats`` can be huge)
SUMMARY_KEYS = (
    "task",
    "records_consumed",
    "records_predicted",
    "records_filtered",
    "dead_letters",
    "cold_start",
    "batches",
    "models",
    "champion",
    "leaderboard",
    "significance",
    "granularity",
    "batch_size",
    "train_budget",
    "elapsed_s",
    "records_per_s",
    "engine",
    "source",
    "schema",
    "category_overflow",
    "interrupted",
    "labels",
)


def metric_names(task: str | None) -> tuple[str, str]:
    """The cumulative and windowed metric keys of a task's model metrics."""
    if task == "classification":
        return "accuracy", "windowed_accuracy"
    return "mse", "windowed_mse"


def _num(value: Any) -> float | None:
    """A finite float rounded to 6 significant digits (plenty for a curve, half the JSON), or None."""
    # JSON has no NaN: missing values travel as null and break the curves
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return float(f"{x:.6g}") if math.isfinite(x) else None


class History:
    """Per-batch points, the latest metrics and dead letters of one run.

    Thread-safe: the engine adds batches from its thread while the dashboard
    server reads :meth:`state` from another.

    Parameters
    ----------
    name
        The run's name, shown on the page (``demo`` runs several).
    max_points
        Most sampled points kept; at least 4.
    max_reasons
        Latest dead letters kept with their reasons.
    stats
        Optional callable returning keyed statistics (``{step: summary}``),
        polled at most every ``stats_every_s`` seconds during the run.
    clock
        Monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(
        self,
        name: str = "run",
        max_points: int = 2000,
        max_reasons: int = 20,
        stats: Callable[[], dict[str, Any]] | None = None,
        stats_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.max_points = max(4, int(max_points))
        self.lock = threading.Lock()
        self.version = 0
        self.status = "waiting"
        self.info: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}
        self.points: list[dict[str, Any]] = []
        self.last: dict[str, Any] | None = None
        self.stride = 1
        self.seen = 0
        self.max_reasons = max(1, max_reasons)
        self.reasons: deque[dict[str, Any]] = deque(maxlen=self.max_reasons)
        self.progress = Progress(consumed=0)
        self.stats_source = stats
        self.stats_every_s = stats_every_s
        self.stats: dict[str, Any] | None = None
        self._stats_at = -math.inf
        self._clock = clock
        self._t0 = clock()
        self._recent: deque[tuple[float, int]] = deque()
        self.started_wall = time.time()

    # -- recording ----------------------------------------------------------------
    def start(self, info: dict[str, Any]) -> None:
        """The run starts; ``info`` is what the engine passed to ``on_start``.

        An engine may put a callable under ``keyed_summary`` (its processor's
        :meth:`keyed_summary`); it is then polled for the keyed-statistics table.
        """
        source = info.get("keyed_summary")
        if callable(source) and self.stats_source is None:
            self.stats_source = source
        with self.lock:
            self.info = {k: v for k, v in info.items() if not callable(v)}
            self.status = "running"
            self._t0 = self._clock()
            self.started_wall = time.time()
            self.version += 1

    def _rate(self, now: float, consumed: int) -> float | None:
        # records/s over the last few seconds: steadier than batch-to-batch
        self._recent.append((now, consumed))
        while len(self._recent) > 2 and now - self._recent[0][0] > 3.0:
            self._recent.popleft()
        t0, c0 = self._recent[0]
        return (consumed - c0) / (now - t0) if now > t0 else None

    def _point(self, summary: Mapping[str, Any], progress: Progress, now: float) -> dict[str, Any]:
        cum, win = metric_names(summary.get("task"))
        consumed = int(summary.get("records_consumed", progress.consumed))
        return {
            "batch": int(summary.get("batches", self.seen)),
            "records": consumed,
            "elapsed": round(now - self._t0, 3),
            "rate": _num(self._rate(now, consumed)),
            "lag": progress.lag,
            "dead": int(summary.get("dead_letters", 0)),
            "models": {
                name: (_num(m.get(cum)), _num(m.get(win)))
                for name, m in (summary.get("models") or {}).items()
            },
            # which member of a portfolio (auto) predicts, for the band under the curves
            "leaders": {
                name: m["diagnostics"]["leader"]
                for name, m in (summary.get("models") or {}).items()
                if "leader" in (m.get("diagnostics") or {})
            },
        }

    def _sample(self, point: dict[str, Any]) -> None:
        if self.seen % self.stride == 0:
            self.points.append(point)
            if len(self.points) >= self.max_points:
                # full: keep every other point and sample half as often
                self.points = self.points[::2]
                self.stride *= 2
        self.last = point
        self.seen += 1

    def _poll_stats(self, result: BatchResult | None, now: float, force: bool = False) -> None:
        # keyed summaries can hold many keys: turn them into a table at most every stats_every_s
        if not force and now - self._stats_at < self.stats_every_s:
            return
        keyed: Any = None
        if result is not None:
            keyed = result.summary.get("stats")
        if not keyed and self.stats_source is not None:
            keyed = self.stats_source()
            self._stats_at = now
        if keyed:
            self.stats = stats_table(keyed)
            self._stats_at = now

    def add(self, result: BatchResult, progress: Progress) -> None:
        """Record one batch."""
        now = self._clock()
        reasons = [
            {
                "batch": result.batch_id + 1,
                "position": d.position,
                "reason": d.reason,
                "raw": d.raw[:160].decode("utf-8", errors="backslashreplace"),
            }
            for d in result.dead_letters[-self.max_reasons :]
        ]
        self._poll_stats(result, now)
        with self.lock:
            summary: Mapping[str, Any] = result.summary
            self.summary = {k: summary[k] for k in SUMMARY_KEYS if k in summary}
            self.progress = progress
            self._sample(self._point(result.summary, progress, now))
            self.reasons.extend(reasons)
            self.version += 1

    def idle(self, progress: Progress) -> None:
        with self.lock:
            self.progress = progress
            self.version += 1

    def finish(self, summary: Mapping[str, Any]) -> None:
        """Record the final summary; the run is over."""
        now = self._clock()
        if summary.get("stats"):
            self.stats = stats_table(summary["stats"])
        else:
            self._poll_stats(None, now, force=True)
        with self.lock:
            self.summary = {k: summary[k] for k in SUMMARY_KEYS if k in summary}
            if self.last is None or self.last["records"] != summary.get("records_consumed"):
                self._sample(self._point(summary, self.progress, now))
            self.status = "interrupted" if summary.get("interrupted") else "finished"
            self.version += 1

    # -- reading ------------------------------------------------------------------
    def series(self) -> dict[str, Any]:
        """The sampled points as columns (plus the latest point), for charts."""
        with self.lock:
            return self._series()

    def _series(self) -> dict[str, Any]:
        pts = list(self.points)
        if self.last is not None and (not pts or pts[-1] is not self.last):
            pts.append(self.last)
        names: list[str] = []
        for p in pts:
            names.extend(n for n in p["models"] if n not in names)
        return {
            "batch": [p["batch"] for p in pts],
            "records": [p["records"] for p in pts],
            "elapsed": [p["elapsed"] for p in pts],
            "rate": [p["rate"] for p in pts],
            "lag": [p["lag"] for p in pts],
            "dead": [p["dead"] for p in pts],
            "models": {
                n: {
                    "cumulative": [p["models"].get(n, (None, None))[0] for p in pts],
                    "windowed": [p["models"].get(n, (None, None))[1] for p in pts],
                }
                for n in names
            },
            "leaders": {
                n: [p.get("leaders", {}).get(n) for p in pts]
                for n in sorted({n for p in pts for n in p.get("leaders", {})})
            },
        }

    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-able data."""
        with self.lock:
            now = self._clock()
            last = self.last or {}
            elapsed = self.summary.get(
                "elapsed_s", now - self._t0 if self.status == "running" else 0.0
            )
            consumed = self.summary.get("records_consumed", self.progress.consumed)
            return {
                "name": self.name,
                "status": self.status,
                "version": self.version,
                "info": self.info,
                "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_wall)),
                "elapsed_s": elapsed,
                "progress": {
                    "consumed": consumed,
                    "total": self.progress.total,
                    "lag": self.progress.lag,
                },
                "rate_now": last.get("rate"),
                "rate_avg": consumed / elapsed if elapsed else None,
                "summary": self.summary,
                "series": self._series(),
                "dead_reasons": list(self.reasons)[::-1],
                "stats": self.stats,
            }
