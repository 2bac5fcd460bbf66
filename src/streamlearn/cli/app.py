"""The commands: run, stats, produce, broker, demo."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import typer

from streamlearn.cli.options import (
    BOOTSTRAP,
    BROKER_TIMEOUT,
    COUNT,
    DELIMITER,
    FORMAT,
    KEY,
    LINE_WIDTH,
    NO_HEADER,
    RATE,
    SAVE,
    SEED,
    SOURCE,
    TYPES,
    InspectOptions,
    ProduceOptions,
    RunOptions,
    StatsOptions,
)
from streamlearn.errors import MissingExtraError

__all__ = ["app", "broker", "demo", "inspect", "produce", "run", "stats"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Online learning on live data streams: prequential races and streaming statistics.",
    pretty_exceptions_enable=False,
)


@app.command()
def run(
    source: str = SOURCE,
    task: str = typer.Option(..., help="regression or classification"),
    model: list[str] = typer.Option(
        ["auto"],
        "--model",
        help="KIND[:k=v,...]; repeat to race; a|b|c in a value races each (default: auto)",
    ),
    bootstrap: str = BOOTSTRAP,
    count: int | None = COUNT,
    format: str | None = FORMAT,
    target: str | None = typer.Option(None, help="label / value column"),
    features: str | None = typer.Option(None, help="comma-separated feature columns"),
    categorical: str | None = typer.Option(None, help="comma-separated categorical columns"),
    key: str | None = KEY,
    types: str | None = TYPES,
    delimiter: str | None = DELIMITER,
    no_header: bool = NO_HEADER,
    columns: str | None = typer.Option(
        None, help="names of a delimited file's columns (COL,COL,...)"
    ),
    granularity: str = typer.Option("record", help="record or batch"),
    batch_size: int = typer.Option(1000, help="max records (offsets) per micro-batch"),
    batch_interval: float | None = typer.Option(None, help="seconds per micro-batch"),
    until: str = typer.Option("end", help="end, idle:SECONDS or count:N"),
    train_budget: int | None = typer.Option(None, help="learn from N records, then only predict"),
    delay: str = typer.Option(
        "0",
        help="labels arrive N records (or Ns seconds) after their features: "
        "predict now, learn and score then",
    ),
    labels: str | None = typer.Option(
        None, help="kafka:TOPIC of labels (JSON with --join-key and the target), joined by key"
    ),
    join_key: str | None = typer.Option(None, help="the field records and labels share"),
    label_timeout: float | None = typer.Option(
        None, help="seconds a record waits for its label before it expires"
    ),
    max_pending: int = typer.Option(
        100_000, help="records (and early labels) waiting for a label at once"
    ),
    per_key: str | None = typer.Option(None, help="one race per value of this column"),
    max_keys: int = typer.Option(10_000, help="keys held by --per-key (least recently seen go)"),
    workers: int = typer.Option(
        1, help="models of a race stepped at once (threads or processes; on Spark, executors)"
    ),
    window: int = typer.Option(1000, help="records in the windowed metrics"),
    checkpoint: Path | None = typer.Option(None, help="folder for restartable checkpoints"),
    checkpoint_every: int = typer.Option(1, help="batches between checkpoints"),
    dead_letter: str | None = typer.Option(None, help="PATH (JSON lines) or kafka:TOPIC"),
    predictions: str | None = typer.Option(
        None, help="folder (CSV), folder.parquet or kafka:TOPIC"
    ),
    metrics_json: Path | None = typer.Option(None, help="write the final metrics here"),
    save: Path | None = SAVE,
    engine: str = typer.Option("local", help="local or spark"),
    master: str = typer.Option("local[2]", help="Spark master URL"),
    rate: float | None = RATE,
    seed: int | None = SEED,
    group: str | None = typer.Option(None, help="Kafka consumer group"),
    start: str = typer.Option("earliest", help="Kafka start: earliest or latest"),
    broker_timeout: float = BROKER_TIMEOUT,
    line_width: int = LINE_WIDTH,
    nonfinite: str = typer.Option("dead-letter", help="NaN/inf values: dead-letter or keep"),
    fail_fast: bool = typer.Option(
        False, help="stop the run when a learner raises (default: mark it failed, race on)"
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no per-batch lines"),
    out: Path | None = typer.Option(None, help="write report.html, metrics.json and plots here"),
    dashboard: bool = typer.Option(False, help="serve a live dashboard on 127.0.0.1"),
    port: int = typer.Option(8050, help="dashboard port"),
) -> int:
    """Race learners prequentially on a stream and report metrics per micro-batch."""
    options = RunOptions(**locals())
    from streamlearn.cli.commands import run_command

    return run_command(options)


@app.command()
def stats(
    source: str = SOURCE,
    stat: str = typer.Option(
        "mean,var,max,sum", help="comma-separated: count,sum,abssum,min,max,mean,var,first"
    ),
    key: str | None = KEY,
    columns: str | None = typer.Option(
        None, help="comma-separated columns (default: numeric features)"
    ),
    bootstrap: str = BOOTSTRAP,
    count: int | None = COUNT,
    format: str | None = FORMAT,
    types: str | None = TYPES,
    delimiter: str | None = DELIMITER,
    no_header: bool = NO_HEADER,
    batch_size: int = typer.Option(1000, help="max records per micro-batch"),
    until: str = typer.Option("end", help="end, idle:SECONDS or count:N"),
    metrics_json: Path | None = typer.Option(None, help="write the final statistics here"),
    dead_letter: str | None = typer.Option(None, help="PATH (JSON lines) or kafka:TOPIC"),
    save: Path | None = SAVE,
    engine: str = typer.Option("local", help="local or spark"),
    master: str = typer.Option("local[2]", help="Spark master URL"),
    rate: float | None = RATE,
    seed: int | None = SEED,
    broker_timeout: float = BROKER_TIMEOUT,
    line_width: int = LINE_WIDTH,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no per-batch lines"),
) -> int:
    """Keep streaming statistics (per key) and print them per micro-batch."""
    options = StatsOptions(**locals())
    from streamlearn.cli.commands import stats_command

    return stats_command(options)


@app.command()
def inspect(
    source: str = SOURCE,
    bootstrap: str = BOOTSTRAP,
    format: str | None = FORMAT,
    target: str | None = typer.Option(None, help="label / value column"),
    features: str | None = typer.Option(None, help="comma-separated feature columns"),
    categorical: str | None = typer.Option(None, help="comma-separated categorical columns"),
    key: str | None = KEY,
    types: str | None = TYPES,
    delimiter: str | None = DELIMITER,
    no_header: bool = NO_HEADER,
    columns: str | None = typer.Option(
        None, help="names of a delimited file's columns (COL,COL,...)"
    ),
    rows: int = typer.Option(5, help="decoded rows to show"),
    json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Show what streamlearn makes of a source: format, columns' types and roles, rows, dead letters."""
    options = InspectOptions(**locals())
    from streamlearn.cli.inspect import inspect_command

    inspect_command(options)


@app.command()
def produce(
    what: str = typer.Argument(..., help="linear, nonlinear, activity or csv:PATH"),
    topic: str | None = typer.Option(
        None, help="default: dataLinearModel / dataNonLinearModel / activity"
    ),
    bootstrap: str = BOOTSTRAP,
    count: int | None = COUNT,
    rate: float | None = RATE,
    format: str | None = FORMAT,
    partitions: int = typer.Option(1, help="partitions of a topic this creates"),
    key: str | None = typer.Option(None, help="field used as the Kafka key"),
    seed: int | None = SEED,
    socket: int | None = typer.Option(
        None,
        help="serve lines on 127.0.0.1:PORT instead of Kafka, as the course's socket producer",
    ),
    line_width: int | None = typer.Option(
        None, help="course messages' width: 75 (Kafka version; default) or 1000 (--socket default)"
    ),
    labels_topic: str | None = typer.Option(
        None, help="write features (with an id) now and their labels to this topic later"
    ),
    label_delay: str = typer.Option("0-5s", help="how much later labels come: LOW-HIGHs or Ss"),
    label_loss: float = typer.Option(0.0, help="share of labels that never come"),
    target: str | None = typer.Option(None, help="the label field (default: the source's)"),
    id_field: str = typer.Option("id", help="the record id written with features and labels"),
) -> None:
    """Write generated or file records to a Kafka topic, or serve them as lines on a socket."""
    options = ProduceOptions(**locals())
    from streamlearn.cli.commands import produce_command

    produce_command(options)


@app.command()
def broker(port: int = typer.Option(9092, help="port on 127.0.0.1")) -> None:
    """Run the embedded Kafka-compatible broker (in memory) until Ctrl-C."""
    if importlib.util.find_spec("confluent_kafka") is None:
        raise MissingExtraError("the broker", "kafka")
    from streamlearn.kafka.broker import run_broker_forever

    run_broker_forever(port)


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), help="folder for reports and metrics"),
    dashboard: bool = typer.Option(False, help="serve a live dashboard on 127.0.0.1"),
    port: int = typer.Option(8050, help="dashboard port"),
    activity_rows: int = typer.Option(1_000_000, help="rows in the activity topic"),
    course_rows: int = typer.Option(100_000, help="messages in each course topic"),
) -> None:
    """Start a broker, produce the course topics, and run Job 2's races and Job 1."""
    from streamlearn.cli.demo import demo_command

    demo_command(out, dashboard, port, activity_rows, course_rows)
