"""Console output of ``streamlearn stats``."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from streamlearn.engines.base import Observer
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress
from streamlearn.steps.keyed import KeyedStats
from streamlearn.summary import RunSummary

__all__ = ["StatsObserver", "stats_table"]

#: keys shown per batch; the metrics JSON has them all
SHOWN_KEYS = 20


def stats_table(step: KeyedStats, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("key")
    table.add_column("column")
    for s in step.stats:
        table.add_column(s, justify="right")
    for key, _ in step.store.head(SHOWN_KEYS):
        for col, entry in step.values(key).items():
            cells = []
            for s in step.stats:
                v = entry[s]
                cells.append(escape(f"[{len(v)} rows]") if isinstance(v, list) else f"{v:.6g}")
            table.add_row(escape(str(key)), escape(col), *cells)
    return table


class StatsObserver(Observer):
    def __init__(
        self, step: KeyedStats, quiet: bool = False, console: Console | None = None
    ) -> None:
        self.step = step
        self.quiet = quiet
        self.console = console or Console(highlight=False, soft_wrap=True)

    def on_batch(self, result: BatchResult, progress: Progress) -> None:
        if self.quiet:
            return
        n = result.summary["records_consumed"]
        self.console.print(stats_table(self.step, f"(Batch: {result.batch_id + 1}) records: {n:,}"))

    def on_end(self, summary: RunSummary) -> None:
        evicted = self.step.store.evicted
        self.console.print(
            f"records consumed {summary['records_consumed']:,} | dead letters "
            f"{summary['dead_letters']:,} | keys {len(self.step.store):,}"
            + (f" ({evicted:,} evicted)" if evicted else "")
            + f" | {summary['elapsed_s']:.1f} s"
        )
