"""What the commands do, once typer has parsed the flags."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path
from typing import Any

from streamlearn.cli.console import ConsoleObserver
from streamlearn.cli.options import (
    ProduceOptions,
    RunOptions,
    SourceOptions,
    StatsOptions,
    delimiter_of,
    split_columns,
)
from streamlearn.engines.base import Observer
from streamlearn.errors import ConfigError, MissingExtraError
from streamlearn.pipeline import Pipeline, Until, parse_until
from streamlearn.runner import run
from streamlearn.sources.registry import SourceSpec, is_endless, parse_source
from streamlearn.steps.base import Step
from streamlearn.summary import RunSummary

__all__ = [
    "build_source_spec",
    "exit_code",
    "produce_command",
    "produce_labels_command",
    "run_command",
    "serve_command",
    "stats_command",
]

COURSE_TOPICS = {
    "linear": "dataLinearModel",
    "nonlinear": "dataNonLinearModel",
    "activity": "activity",
}


def build_source_spec(p: SourceOptions) -> tuple[SourceSpec, Until]:
    """The source and the stop rule: ``--count`` bounds a generator, or ends other runs."""
    until = parse_until(p.until or "end")
    count = p.count
    if count is not None and count < 1:
        raise ConfigError("--count must be at least 1")
    if p.rate is not None and p.rate <= 0:
        raise ConfigError("--rate must be positive")
    generator = is_endless(p.source or "")
    if generator and count is None and until.mode == "end":
        kind = p.source.partition(":")[0]
        raise ConfigError(f"source {kind!r} never ends: give --count N or --until idle:S|count:N")
    spec = parse_source(
        p.source,
        bootstrap=p.bootstrap,
        count=count if generator else None,
        rate=p.rate,
        seed=p.seed,
        group=p.group,
        start=p.start,
        until_end=until.mode != "idle",
        broker_timeout=p.broker_timeout,
        line_width=p.line_width,
    )
    if count is not None and not generator:
        until = Until("count", float(count)) if until.mode != "count" else until
    return spec, until


def exit_code(summary: RunSummary) -> int:
    """0 for a completed run; 130 or 143 for one stopped by SIGINT or SIGTERM."""
    if not summary.get("interrupted"):
        return 0
    return 143 if summary.get("signal") == "SIGTERM" else 130


def _save_steps(save: Path | None) -> list[Step]:
    from streamlearn.steps.save import SaveBatches

    return [SaveBatches(save)] if save else []


def _engine_options(p: SourceOptions) -> dict[str, Any]:
    return {"master": p.master} if p.engine == "spark" else {}


def run_command(p: RunOptions) -> int:
    spec, until = build_source_spec(p)
    pipeline = Pipeline(
        spec,
        task=p.task,  # type: ignore[arg-type]  # checked by Pipeline
        models=list(p.model),
        format=p.format,
        target=p.target,
        features=split_columns(p.features),
        categorical=split_columns(p.categorical),
        key=p.key,
        types=p.types,
        delimiter=delimiter_of(p.delimiter),
        header=False if p.no_header else None,
        columns=split_columns(p.columns),
        granularity=p.granularity,  # type: ignore[arg-type]
        train_budget=p.train_budget,
        delay=p.delay,
        labels=p.labels,
        join_key=p.join_key,
        label_timeout=p.label_timeout,
        max_pending=p.max_pending,
        per_key=p.per_key,
        max_keys=p.max_keys,
        workers=p.workers,
        window=p.window,
        batch_size=p.batch_size,
        batch_interval=p.batch_interval,
        until=until,
        nonfinite=p.nonfinite,  # type: ignore[arg-type]
        fail_fast=p.fail_fast,
        steps=_save_steps(p.save),
    )
    observer: Observer = ConsoleObserver(quiet=p.quiet)
    metrics_json = p.metrics_json
    if p.out is not None:
        metrics_json = metrics_json or p.out / "metrics.json"
    if p.dashboard or p.out is not None:
        from streamlearn.cli.reporting import with_reporting

        observer = with_reporting(observer, out=p.out, dashboard=p.dashboard, port=p.port)
    summary = run(
        pipeline,
        engine=p.engine,
        dead_letters=p.dead_letter,
        predictions=p.predictions,
        metrics_json=metrics_json,
        checkpoint=p.checkpoint,
        checkpoint_every=p.checkpoint_every,
        observer=observer,
        **_engine_options(p),
    )
    return exit_code(summary)


def stats_command(p: StatsOptions) -> int:
    from streamlearn.cli.stats_output import StatsObserver
    from streamlearn.steps.keyed import KeyedStats

    spec, until = build_source_spec(p)
    names = [s.strip() for s in p.stat.split(",") if s.strip()]
    step = KeyedStats(names, key=p.key, columns=split_columns(p.columns))
    pipeline = Pipeline(
        spec,
        format=p.format,
        key=p.key,
        types=p.types,
        delimiter=delimiter_of(p.delimiter),
        header=False if p.no_header else None,
        steps=[*_save_steps(p.save), step],
        batch_size=p.batch_size,
        until=until,
    )
    summary = run(
        pipeline,
        engine=p.engine,
        dead_letters=p.dead_letter,
        metrics_json=p.metrics_json,
        observer=StatsObserver(step, quiet=p.quiet),
        **_engine_options(p),
    )
    return exit_code(summary)


def serve_command(p: ProduceOptions) -> None:
    """``produce --socket PORT``: serve the records as lines, as the course's socket producer."""
    from streamlearn.kafka.produce import produce_from_source
    from streamlearn.sources.socket_serve import LineServer

    assert p.socket is not None
    if p.topic or p.partitions != 1 or p.key:
        raise ConfigError("--socket serves lines: --topic, --partitions and --key do not apply")
    line_width = 1000 if p.line_width is None else p.line_width
    spec = parse_source(p.what, seed=p.seed, line_width=line_width)
    if is_endless(p.what):
        spec = replace(spec, count=p.count)
    source = spec.build()
    with LineServer(p.socket) as server:
        print(f"serving {p.what} on 127.0.0.1:{server.port}, one client at a time", flush=True)
        source.open()
        try:
            done = produce_from_source(source, server, count=p.count, rate=p.rate)
        finally:
            source.close()
    print(f"served {done:,} lines to {server.clients} client(s)", flush=True)


def produce_labels_command(p: ProduceOptions, spec: SourceSpec, topic: str) -> None:
    """``produce --labels-topic``: features now, labels later, keyed by a record id."""
    from streamlearn.kafka.produce_labels import parse_label_delay, produce_with_labels
    from streamlearn.sources.transcode import Transcoder

    assert p.labels_topic is not None
    delay = parse_label_delay(p.label_delay)
    if p.partitions != 1 or p.key or p.format not in (None, "json"):
        raise ConfigError("--labels-topic writes JSON keyed by record id, on one partition each")
    source = (replace(spec, count=p.count) if is_endless(p.what) else spec).build()
    target = p.target or (source.schema.target if source.schema is not None else None)
    if target is None:
        raise ConfigError("give --target: the field that holds the label")
    if source.format != "json":
        source = Transcoder(source, "json")
    done = produce_with_labels(
        source,
        p.bootstrap,
        topic,
        p.labels_topic,
        target,
        label_delay=delay,
        label_loss=p.label_loss,
        id_field=p.id_field,
        count=p.count,
        rate=p.rate,
        seed=p.seed or 0,
    )
    skipped = f"; {done.skipped:,} records skipped (not holding {target!r})" if done.skipped else ""
    print(
        f"produced {done.records:,} records to {topic} and {done.labels:,} labels to "
        f"{p.labels_topic} on {p.bootstrap} in {done.seconds:.1f} s{skipped}"
    )


def produce_command(p: ProduceOptions) -> None:
    if p.socket is not None:
        serve_command(p)
        return
    if importlib.util.find_spec("confluent_kafka") is None:
        raise MissingExtraError("producing", "kafka")
    from streamlearn.kafka.produce import produce

    kind = p.what.partition(":")[0].lower()
    generator = is_endless(p.what)
    if not generator and kind not in ("csv", "json"):
        raise ConfigError(
            f"produce takes linear, nonlinear, activity, csv:PATH or json:PATH, not {p.what!r}"
        )
    if generator and p.count is None:
        raise ConfigError("generators never end: give --count N")
    topic = p.topic or COURSE_TOPICS.get(kind)
    if not topic:
        raise ConfigError("give --topic for a file")
    if p.partitions < 1:
        raise ConfigError("--partitions must be at least 1")
    spec = parse_source(p.what, seed=p.seed, line_width=p.line_width)
    if p.labels_topic:
        produce_labels_command(p, spec, topic)
        return
    done = produce(
        spec,
        p.bootstrap,
        topic,
        count=p.count,
        rate=p.rate,
        partitions=p.partitions,
        key_field=p.key,
        format=p.format,
        seed=p.seed,
    )
    print(
        f"produced {done.records:,} records to {topic} on {p.bootstrap} in {done.seconds:.1f} s "
        f"({done.records_per_s:,.0f} records/s)"
    )
