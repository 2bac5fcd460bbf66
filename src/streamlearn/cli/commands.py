"""What the commands do, once typer has parsed the flags."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from streamlearn.cli.console import ConsoleObserver
from streamlearn.cli.options import split_columns
from streamlearn.errors import ConfigError
from streamlearn.pipeline import Pipeline, Until, parse_until
from streamlearn.runner import run
from streamlearn.sources.factory import GENERATORS, SourceSpec, parse_source

__all__ = ["build_source_spec", "produce_command", "run_command", "stats_command"]

COURSE_TOPICS = {"linear": "dataLinearModel", "nonlinear": "dataNonLinearModel", "activity": "activity"}


def build_source_spec(p: dict[str, Any]) -> tuple[SourceSpec, Until]:
    """The source and the stop rule: ``--count`` bounds a generator, or ends other runs."""
    until = parse_until(p.get("until") or "end")
    count = p.get("count")
    if count is not None and count < 1:
        raise ConfigError("--count must be at least 1")
    rate = p.get("rate")
    if rate is not None and rate <= 0:
        raise ConfigError("--rate must be positive")
    kind = (p["source"] or "").partition(":")[0].lower()
    generator = kind in GENERATORS
    if generator and count is None and until.mode == "end":
        raise ConfigError(f"source {kind!r} never ends: give --count N or --until idle:S|count:N")
    spec = parse_source(
        p["source"],
        bootstrap=p.get("bootstrap"),
        count=count if generator else None,
        rate=rate,
        seed=p.get("seed"),
        group=p.get("group"),
        start=p.get("start"),
        until_end=until.mode != "idle",
    )
    if count is not None and not generator:
        until = Until("count", float(count)) if until.mode != "count" else until
    return spec, until


def _save_steps(p: dict[str, Any]) -> list[Any]:
    from streamlearn.steps.save import SaveBatches

    return [SaveBatches(p["save"])] if p.get("save") else []


def _observer(p: dict[str, Any]) -> Any:
    return ConsoleObserver(quiet=bool(p.get("quiet")))


def run_command(p: dict[str, Any]) -> None:
    spec, until = build_source_spec(p)
    pipeline = Pipeline(
        spec,
        task=p["task"],
        models=list(p["model"]),
        format=p.get("format"),
        target=p.get("target"),
        features=split_columns(p.get("features")),
        categorical=split_columns(p.get("categorical")),
        key=p.get("key"),
        granularity=p["granularity"],
        train_budget=p.get("train_budget"),
        window=p["window"],
        batch_size=p["batch_size"],
        batch_interval=p.get("batch_interval"),
        until=until,
        nonfinite=p["nonfinite"],
        steps=_save_steps(p),
    )
    engine_options = {"master": p["master"]} if p["engine"] == "spark" else {}
    observer = _observer(p)
    metrics_json = p.get("metrics_json")
    out: Path | None = p.get("out")
    if out is not None:
        metrics_json = metrics_json or out / "metrics.json"
    if p.get("dashboard") or out is not None:
        from streamlearn.cli.reporting import with_reporting

        observer = with_reporting(observer, out=out, dashboard=bool(p.get("dashboard")), port=p["port"])
    run(
        pipeline,
        engine=p["engine"],
        dead_letters=p.get("dead_letter"),
        predictions=p.get("predictions"),
        metrics_json=metrics_json,
        checkpoint=p.get("checkpoint"),
        checkpoint_every=p["checkpoint_every"],
        observer=observer,
        **engine_options,
    )


def stats_command(p: dict[str, Any]) -> None:
    from streamlearn.cli.stats_output import StatsObserver
    from streamlearn.steps.keyed import KeyedStats

    spec, until = build_source_spec(p)
    names = [s.strip() for s in p["stat"].split(",") if s.strip()]
    step = KeyedStats(names, key=p.get("key"), columns=split_columns(p.get("columns")))
    pipeline = Pipeline(
        spec, format=p.get("format"), key=p.get("key"), steps=[*_save_steps(p), step],
        batch_size=p["batch_size"], until=until,
    )
    engine_options = {"master": p["master"]} if p["engine"] == "spark" else {}
    run(
        pipeline,
        engine=p["engine"],
        dead_letters=p.get("dead_letter"),
        metrics_json=p.get("metrics_json"),
        observer=StatsObserver(step, quiet=bool(p.get("quiet"))),
        **engine_options,
    )


def produce_command(p: dict[str, Any]) -> None:
    try:
        from streamlearn.sinks.kafka import KafkaWriter, produce_from_source
    except ImportError as exc:
        raise ConfigError("producing needs the 'kafka' extra: pip install 'streamlearn[kafka]'") from exc
    what = p["what"]
    kind = what.partition(":")[0].lower()
    if kind not in (*GENERATORS, "csv", "json"):
        raise ConfigError(f"produce takes linear, nonlinear, activity, csv:PATH or json:PATH, not {what!r}")
    if kind in GENERATORS and p.get("count") is None:
        raise ConfigError("generators never end: give --count N")
    topic = p.get("topic") or COURSE_TOPICS.get(kind)
    if not topic:
        raise ConfigError("give --topic for a file")
    if p["partitions"] < 1:
        raise ConfigError("--partitions must be at least 1")
    spec = parse_source(what, count=p.get("count") if kind in GENERATORS else None, seed=p.get("seed"))
    source = spec.build()
    fmt = p.get("format")
    if fmt is not None and fmt != source.default_format:
        from streamlearn.sources.transcode import Transcoder

        source = Transcoder(source, fmt)
    writer = KafkaWriter(p["bootstrap"], topic, partitions=p["partitions"])
    started = time.perf_counter()
    source.open()
    try:
        n = produce_from_source(
            source, writer, count=p.get("count"), rate=p.get("rate"), key_field=p.get("key"),
            fmt=source.default_format,
        )
    finally:
        source.close()
        writer.close()
    took = time.perf_counter() - started
    print(f"produced {n:,} records to {topic} on {p['bootstrap']} in {took:.1f} s ({n / took:,.0f} records/s)")
