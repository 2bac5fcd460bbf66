"""Options shared by several commands, and each command's options as one typed record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from streamlearn.sources.registry import source_usage

__all__ = [
    "BOOTSTRAP",
    "BROKER_TIMEOUT",
    "COUNT",
    "DELIMITER",
    "FORMAT",
    "KEY",
    "NO_HEADER",
    "RATE",
    "SAVE",
    "SEED",
    "SOURCE",
    "TYPES",
    "InspectOptions",
    "ProduceOptions",
    "RunOptions",
    "SourceOptions",
    "StatsOptions",
    "delimiter_of",
    "split_columns",
]

SOURCE = typer.Option(..., help=f"where records come from: {source_usage()}")
BOOTSTRAP = typer.Option("127.0.0.1:9092", help="Kafka bootstrap HOST:PORT")
COUNT = typer.Option(None, help="records to read (generators: records to make)")
FORMAT = typer.Option(None, help="payload format: literal, json or csv")
KEY = typer.Option(None, help="column to key state by")
RATE = typer.Option(None, help="records/s for generators (default: unlimited)")
SEED = typer.Option(None, help="generator seed")
SAVE = typer.Option(None, help="save every decoded batch to DIR/batch-NNNNNN.csv")
BROKER_TIMEOUT = typer.Option(
    30.0, help="seconds without an answer from Kafka before the run stops (exit 4)"
)
TYPES = typer.Option(None, help="pin column types: COL:float,COL:category,...")
LINE_WIDTH = typer.Option(
    75, help="course generators' message width: 75 (Kafka version) or 1000 (socket, one line)"
)
DELIMITER = typer.Option(
    None, help="a delimited file's separator (default: sniffed; '\\t' for tab)"
)
NO_HEADER = typer.Option(
    False, "--no-header", help="a delimited file has no header line: columns c0, c1, ..."
)


def delimiter_of(text: str | None) -> str | None:
    r"""``--delimiter`` as one character: ``\t`` and ``tab`` are a tab.

    Examples
    --------
    >>> delimiter_of("\\t") == "\t", delimiter_of(";")
    (True, ';')
    """
    if text is None:
        return None
    return {"\\t": "\t", "tab": "\t", "space": " "}.get(text.strip().lower(), text)


def split_columns(text: str | None) -> list[str] | None:
    if text is None:
        return None
    cols = [c.strip() for c in text.split(",") if c.strip()]
    return cols or None


@dataclass(frozen=True)
class SourceOptions:
    """What ``run`` and ``stats`` share: where records come from and when to stop."""

    source: str
    bootstrap: str = "127.0.0.1:9092"
    count: int | None = None
    format: str | None = None
    until: str = "end"
    rate: float | None = None
    seed: int | None = None
    group: str | None = None
    start: str = "earliest"
    broker_timeout: float = 30.0
    line_width: int = 75
    types: str | None = None
    delimiter: str | None = None
    no_header: bool = False
    batch_size: int = 1000
    dead_letter: str | None = None
    metrics_json: Path | None = None
    save: Path | None = None
    engine: str = "local"
    master: str = "local[2]"
    quiet: bool = False


@dataclass(frozen=True)
class RunOptions(SourceOptions):
    """``streamlearn run``."""

    task: str = "regression"
    model: tuple[str, ...] | list[str] = ()
    target: str | None = None
    features: str | None = None
    categorical: str | None = None
    key: str | None = None
    columns: str | None = None
    granularity: str = "record"
    batch_interval: float | None = None
    train_budget: int | None = None
    delay: str = "0"
    labels: str | None = None
    join_key: str | None = None
    label_timeout: float | None = None
    max_pending: int = 100_000
    per_key: str | None = None
    max_keys: int = 10_000
    workers: int = 1
    window: int = 1000
    checkpoint: Path | None = None
    checkpoint_every: int = 1
    predictions: str | None = None
    nonfinite: str = "dead-letter"
    fail_fast: bool = False
    out: Path | None = None
    dashboard: bool = False
    port: int = 8050


@dataclass(frozen=True)
class StatsOptions(SourceOptions):
    """``streamlearn stats``."""

    stat: str = "mean,var,max,sum"
    key: str | None = None
    columns: str | None = None


@dataclass(frozen=True)
class InspectOptions:
    """``streamlearn inspect``."""

    source: str
    bootstrap: str = "127.0.0.1:9092"
    format: str | None = None
    target: str | None = None
    features: str | None = None
    categorical: str | None = None
    key: str | None = None
    types: str | None = None
    delimiter: str | None = None
    no_header: bool = False
    columns: str | None = None
    rows: int = 5
    json: bool = False


@dataclass(frozen=True)
class ProduceOptions:
    """``streamlearn produce``."""

    what: str
    topic: str | None = None
    bootstrap: str = "127.0.0.1:9092"
    count: int | None = None
    rate: float | None = None
    format: str | None = None
    partitions: int = 1
    key: str | None = None
    seed: int | None = None
    socket: int | None = None
    line_width: int | None = None
    labels_topic: str | None = None
    label_delay: str = "0-5s"
    label_loss: float = 0.0
    target: str | None = None
    id_field: str = "id"
