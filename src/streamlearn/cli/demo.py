"""``streamlearn demo``: both jobs end to end on an embedded broker."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from streamlearn.cli.console import ConsoleObserver
from streamlearn.errors import MissingExtraError
from streamlearn.pipeline import Pipeline
from streamlearn.runner import run
from streamlearn.sources.registry import SourceSpec, parse_source
from streamlearn.summary import RunSummary

__all__ = ["demo_command"]


def _produce(bootstrap: str, what: str, topic: str, count: int, console: Console) -> None:
    from streamlearn.kafka.produce import produce

    done = produce(what, bootstrap, topic, count=count)
    console.print(
        f"produced {done.records:,} records to [bold]{topic}[/] ({done.records_per_s:,.0f} records/s)"
    )


def _runs(bootstrap: str) -> list[tuple[str, str, Pipeline, int]]:
    """(name, title, pipeline, print every N batches) for each demo run."""

    def kafka(topic: str) -> SourceSpec:
        return parse_source(f"kafka:{topic}", bootstrap=bootstrap, group=f"demo-{topic}")

    return [
        (
            "job2-rls",
            "Job 2: RLS with forgetting 1.0 against 0.99 on dataLinearModel",
            Pipeline(
                kafka("dataLinearModel"), task="regression", models=["course-rls"], batch_size=1000
            ),
            20,
        ),
        (
            "job2-ml",
            "Job 2: scikit-learn models on the 50 latest records (refit every 1,000) against RLS "
            "on dataNonLinearModel",
            Pipeline(
                kafka("dataNonLinearModel"),
                task="regression",
                models=[f"window-{m}:size=50,every=20" for m in ("rf", "linear", "gb")]
                + ["rls", "rff"],
                batch_size=2000,
            ),
            10,
        ),
        (
            "job1-activity",
            "Job 1: extract and learn, HHAR activity rows, 100,000 offsets per trigger",
            Pipeline(
                kafka("activity"),
                task="classification",
                format="csv",
                models=["auto"],
                batch_size=100_000,
            ),
            1,
        ),
    ]


def demo_command(
    out: Path, dashboard: bool, port: int, activity_rows: int, course_rows: int
) -> None:
    try:
        from streamlearn.kafka.broker import EmbeddedBroker
    except ImportError as exc:
        raise MissingExtraError("the demo's embedded broker", "kafka") from exc
    console = Console(highlight=False, soft_wrap=True)
    started = time.perf_counter()
    results: list[tuple[str, RunSummary]] = []
    with EmbeddedBroker() as broker:
        console.rule(f"[bold]streamlearn demo[/] - embedded broker on {broker.bootstrap}")
        _produce(broker.bootstrap, "linear", "dataLinearModel", course_rows, console)
        _produce(broker.bootstrap, "nonlinear", "dataNonLinearModel", course_rows, console)
        _produce(broker.bootstrap, "activity", "activity", activity_rows, console)
        server_cm: Any = nullcontext(None)
        if dashboard:
            from streamlearn.cli.reporting import start_dashboard

            server_cm = start_dashboard(port)
        with server_cm as server:
            for name, title, pipeline, every in _runs(broker.bootstrap):
                console.rule(title)
                observer: Any = ConsoleObserver(console=console, every=every)
                from streamlearn.cli.reporting import with_reporting

                observer = with_reporting(observer, out=out / name, run_name=name, server=server)
                summary = run(pipeline, observer=observer, metrics_json=out / name / "metrics.json")
                results.append((name, summary))
    _final(console, results, out, time.perf_counter() - started)


def _final(console: Console, results: list[tuple[str, RunSummary]], out: Path, took: float) -> None:
    table = Table(title="demo summary", title_justify="left")
    for col in ("run", "records", "champion", "metric", "records/s"):
        table.add_column(col, overflow="fold")
    for name, s in results:
        champ = s.get("champion") or "-"
        m = s["models"].get(champ, {})
        metric = (
            f"accuracy {100 * m['accuracy']:.2f} %"
            if s["task"] == "classification" and m
            else f"MSE {m['mse']:.6g}"
            if m
            else "-"
        )
        table.add_row(
            name, f"{s['records_predicted']:,}", champ, metric, f"{s['records_per_s']:,.0f}"
        )
    console.print(table)
    for name, _ in results:
        console.print(f"report: {out / name / 'report.html'}")
    console.print(f"demo finished in {took:.0f} s")
