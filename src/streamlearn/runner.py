"""``streamlearn.run``: run a pipeline on an engine with the usual sinks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from streamlearn.engines import Observer, get_engine
from streamlearn.outputs import Output, check_outputs, output_failed
from streamlearn.pipeline import Pipeline
from streamlearn.sinks.base import Sink
from streamlearn.sinks.deadletters import DeadLetterFile
from streamlearn.sinks.files import PredictionsSink
from streamlearn.sinks.metrics import write_metrics_json
from streamlearn.summary import RunSummary

__all__ = ["run"]


def run(
    pipeline: Pipeline,
    engine: str = "local",
    sinks: Sequence[Sink] = (),
    dead_letters: str | Path | None = None,
    predictions: str | Path | None = None,
    metrics_json: str | Path | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    observer: Observer | None = None,
    **engine_options: Any,
) -> RunSummary:
    """Run ``pipeline`` to its end and return the final metrics.

    Examples
    --------
    >>> from streamlearn import Pipeline, run
    >>> summary = run(Pipeline("linear", task="regression", models=["mean"],
    ...                        until="count:2000"))
    >>> summary["records_predicted"]
    2000
    """
    all_sinks = list(sinks)
    spec = pipeline.source_spec
    bootstrap = spec.bootstrap if spec else "127.0.0.1:9092"
    if dead_letters is not None:
        if str(dead_letters).startswith("kafka:"):
            from streamlearn.kafka.sinks import KafkaDeadLetters

            all_sinks.append(KafkaDeadLetters(str(dead_letters)[6:], bootstrap))
        else:
            all_sinks.append(DeadLetterFile(dead_letters))
    if predictions is not None:
        if str(predictions).startswith("kafka:"):
            from streamlearn.kafka.sinks import KafkaPredictions

            all_sinks.append(KafkaPredictions(str(predictions)[6:], bootstrap))
        else:
            format = "parquet" if str(predictions).endswith(".parquet") else "csv"
            folder = str(predictions).removesuffix(".parquet").removesuffix(".csv")
            all_sinks.append(PredictionsSink(folder, format))
    # every output path is tried before the source is read: a typo costs a second, not the stream
    outputs: list[Output] = [o for step in pipeline.steps for o in step.outputs()]
    outputs += [o for sink in all_sinks for o in sink.outputs()]
    if metrics_json is not None:
        outputs.append(("--metrics-json", metrics_json, "file"))
    check_outputs(outputs)
    summary = get_engine(engine, **engine_options).run(
        pipeline,
        all_sinks,
        observer=observer,
        checkpoint=str(checkpoint) if checkpoint is not None else None,
        checkpoint_every=checkpoint_every,
    )
    if metrics_json is not None:
        try:
            write_metrics_json(metrics_json, summary)
        except OSError as exc:
            raise output_failed("--metrics-json", metrics_json, exc) from None
    return summary
