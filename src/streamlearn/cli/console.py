"""Live console output: per-batch lines, a leaderboard, a progress bar, a final table."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from streamlearn.engines.base import Observer
from streamlearn.sinks.base import BatchResult
from streamlearn.sources.base import Progress as SourceProgress
from streamlearn.summary import RunSummary

__all__ = [
    "ConsoleObserver",
    "batch_line",
    "final_table",
    "label_lines",
    "leaderboard_line",
]


def _pct(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.2f}%"


def _num(x: float | None) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{x:.6g}"


def batch_line(batch_number: int, summary: RunSummary, model: str) -> str:
    """The reference run's per-batch line (classification) or its regression twin."""
    m = summary["models"][model]
    if summary["task"] == "classification":
        in_batch = m.get("correct_in_batch", 0)
        return (
            f"(Batch: {batch_number}) Current Accuracy: {100 * m['accuracy']:.2f} % --- "
            f"(total predicted: {m['predicted']}, total correct: {m['correct']}, "
            f"correct in batch: {in_batch})"
        )
    return (
        f"(Batch: {batch_number}) Current MSE: {_num(m['mse'])} --- "
        f"(total predicted: {m['predicted']}, MAE: {_num(m['mae'])}, "
        f"windowed MSE: {_num(m['windowed_mse'])})"
    )


def leaderboard_line(summary: RunSummary) -> str:
    classification = summary["task"] == "classification"
    fmt = _pct if classification else _num
    parts = [
        f"{s['rank']}. {s['name']} FAILED"
        if s.get("failed")
        else f"{s['rank']}. {s['name']} {fmt(s['cumulative'])} (win {fmt(s['windowed'])})"
        for s in summary["leaderboard"]
    ]
    sig = summary.get("significance")
    if sig:
        parts.append(f"p={sig['p_value']:.3g} ({sig['test']})")
    return "   " + " | ".join(parts)


def final_table(summary: RunSummary) -> Table:
    classification = summary["task"] == "classification"
    table = Table(title="prequential results", title_justify="left")
    table.add_column("model", overflow="fold")
    table.add_column("predicted", justify="right")
    table.add_column("cold start", justify="right")
    if classification:
        table.add_column("accuracy", justify="right")
        table.add_column("windowed", justify="right")
    else:
        table.add_column("MSE", justify="right")
        table.add_column("MAE", justify="right")
        table.add_column("windowed MSE", justify="right")
    champion = summary.get("champion")
    for name, m in summary["models"].items():
        label = f"[bold]{escape(name)}[/] (champion)" if name == champion else escape(name)
        failed = m.get("failed")
        if failed:
            label += f" [red]failed at record {failed['record']:,}[/]"
        if classification:
            cells = [_pct(m["accuracy"]), _pct(m["windowed_accuracy"])]
        else:
            cells = [_num(m["mse"]), _num(m["mae"]), _num(m["windowed_mse"])]
        table.add_row(label, str(m["predicted"]), str(m["cold_start"]), *cells)
    return table


class ConsoleObserver(Observer):
    """Prints a line per batch (unless quiet) above a progress bar."""

    def __init__(self, console: Console | None = None, quiet: bool = False, every: int = 1) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.every = max(1, every)
        self.progress: Progress | None = None
        self.task_id: Any = None

    def on_start(self, info: dict[str, Any]) -> None:
        if self.console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} rec/s {task.fields[lag]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self.progress.start()
            self.task_id = self.progress.add_task(
                str(info.get("kind", "records")), total=info.get("count"), rate="-", lag=""
            )
        if info.get("resumed_at_batch"):
            self.console.print(f"resuming from checkpoint at batch {info['resumed_at_batch'] + 1}")

    def _advance(self, progress: SourceProgress) -> None:
        if self.progress is None:
            return
        task = self.progress.tasks[0]
        rate = task.speed
        self.progress.update(
            self.task_id,
            completed=progress.consumed,
            total=progress.total,
            rate=f"{rate:,.0f}" if rate else "-",
            lag=f"lag {progress.lag:,}" if progress.lag is not None else "",
        )

    def on_batch(self, result: BatchResult, progress: SourceProgress) -> None:
        summary = result.summary
        models = summary.get("models") or {}
        self._advance(progress)
        if not self.quiet:
            for name, record in result.alarms:
                if models.get(name, {}).get("member_of") is None:
                    self.console.print(
                        f"drift: {name}'s errors rose at record {record:,}", markup=False
                    )
        if self.quiet or not models or (result.batch_id + 1) % self.every:
            return
        lead = summary.get("champion") or next(iter(models))
        self.console.print(batch_line(result.batch_id + 1, summary, lead), markup=False)
        if len(models) > 1:
            self.console.print(leaderboard_line(summary), markup=False)

    def on_idle(self, progress: SourceProgress) -> None:
        self._advance(progress)

    def on_end(self, summary: RunSummary) -> None:
        if self.progress is not None:
            self.progress.stop()
        con = self.console
        if summary.get("interrupted"):
            con.print("[yellow]interrupted: summary so far[/]")
        if summary.get("models"):
            con.print(final_table(summary))
            for name, m in summary["models"].items():
                failed = m.get("failed")
                if failed:
                    where = f" ({failed['position']})" if failed.get("position") else ""
                    con.print(
                        f"[red]model {escape(name)} failed at record {failed['record']:,}{where}, "
                        f"batch {failed['batch']}:[/] {escape(failed['error'])}; the others raced on"
                    )
            champion = summary.get("champion")
            if summary["task"] == "classification" and champion:
                acc = summary["models"][champion]["accuracy"]
                con.print(f"Final accuracy ({champion}): {_pct(acc).rstrip('%')} %")
            sig = summary.get("significance")
            if sig:
                con.print(
                    f"champion: {sig['champion']}; vs {sig['runner_up']}: "
                    f"p = {sig['p_value']:.3g} ({sig['test']}, last {sig['window']} records)"
                )
            elif champion:
                con.print(f"champion: {champion}")
        con.print(
            f"records consumed {summary['records_consumed']:,} | predicted "
            f"{summary['records_predicted']:,} | dead letters {summary['dead_letters']:,} | "
            f"cold start {summary.get('cold_start', 0):,} | batches {summary['batches']:,} | "
            f"{summary['elapsed_s']:.1f} s | {summary['records_per_s']:,.0f} records/s"
        )
        _per_key_lines(con, summary)
        for line in label_lines(summary):
            con.print(line)


def label_lines(summary: RunSummary) -> list[str]:
    """What became of the labels, under ``--delay`` or ``--labels``; nothing otherwise."""
    labels = summary.get("labels")
    if not labels:
        return []
    counts = (
        f"{labels['labelled']:,} learned and scored, {labels['pending']:,} still pending, "
        f"{labels['unlabeled_expired']:,} expired"
    )
    if "delay_s" not in labels:
        return [f"labels {labels['delay']:,} records late: {counts}"] if labels["delay"] else []
    d = labels["delay_s"]
    late = (
        f"{labels['delay_seconds']:g} s late"
        if "delay_seconds" in labels
        else f"from {labels.get('label_records', 0):,} label records"
    )
    return [
        f"labels {late}: {counts}, {labels.get('evicted', 0):,} evicted; "
        f"{labels.get('duplicates', 0):,} duplicates, {labels.get('unknown_keys', 0):,} "
        f"dead-lettered for unknown or expired keys, {labels.get('malformed_labels', 0):,} "
        f"malformed, {labels.get('early_labels', 0):,} waiting for their record",
        f"label delay: median {d['p50_s']:.3g} s, 90% {d['p90_s']:.3g} s, "
        f"99% {d['p99_s']:.3g} s, max {d['max_s']:.3g} s ({d['count']:,} labels)",
    ]


def _per_key_lines(con: Any, summary: RunSummary) -> None:
    """The best and worst keys of the champion, for ``--per-key``."""
    report = summary.get("per_key")
    champion = summary.get("champion")
    if not report or not champion:
        return
    metric = report["metric"]
    scored = [
        (k, m[champion][metric])
        for k, m in report["keys"].items()
        if champion in m and m[champion].get(metric) is not None
    ]
    if not scored:
        return
    scored.sort(key=lambda kv: kv[1], reverse=metric == "accuracy")

    def show(items: list[tuple[str, float]]) -> str:
        return ", ".join(f"{k} {v:.4g}" for k, v in items)

    con.print(
        f"per key ({report['key']}, {report['keys_held']:,} held, {report['evicted_keys']:,} "
        f"evicted), {champion}'s {metric}: best {show(scored[:3])}; "
        f"worst {show(scored[max(3, len(scored) - 3) :][::-1]) or '(the same keys)'}",
        markup=False,
    )
