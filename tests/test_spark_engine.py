"""The Spark engine: the same pipelines, the same results as the local engine.

Spark runs are slow to start, so each pipeline below runs at most once per
engine (results are memoised for the module) and the data stay small.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamlearn import Pipeline, run
from streamlearn.errors import SourceError, UserCodeError
from streamlearn.sinks.base import BatchResult, Sink
from streamlearn.steps import FeatureSummary, Filter, KeyedState, KeyedStats
from streamlearn.testing import ListSink

pytest.importorskip("pyspark")
pytest_plugins = ["spark_fixtures", "kafka_fixtures"]

#: keys that differ between engines by nature
ENGINE_KEYS = {"elapsed_s", "records_per_s", "engine", "master", "spark", "interrupted"}
METRIC_KEYS = {
    "records_consumed", "records_predicted", "dead_letters", "cold_start", "batches",
    "elapsed_s", "records_per_s", "task", "models", "champion", "source",
}


def running_abs_sum(values: list[float], state: float | None) -> float:
    return (state or 0.0) + sum(abs(v) for v in values)


def regression() -> Pipeline:
    return Pipeline(
        "linear", task="regression", models=["rls", "rls:forgetting=0.99", "mean"],
        batch_size=2000, until="count:7000",
    )


def classification() -> Pipeline:
    # batch granularity: the executors predict, the driver learns
    return Pipeline(
        "activity", task="classification",
        models=["hoeffding:grace_period=100", "nb", "majority"],
        granularity="batch", batch_size=3000, until="count:9000",
    )


def named(step: KeyedStats, name: str) -> KeyedStats:
    step.name = name
    return step


def keyed() -> Pipeline:
    return Pipeline(
        "activity", key="User", batch_size=2500, until="count:7000",
        steps=[
            FeatureSummary(["x", "y", "z"]),
            KeyedStats(["count", "sum", "abssum", "min", "max", "mean", "var", "first", "stack"],
                       key="User", columns=["x", "y", "x_max"]),
            KeyedState(running_abs_sum, key="Device", column="x"),
            named(KeyedStats(["mean", "var"], columns=["z"]), "global_z"),
        ],
    )


def csv_file() -> Pipeline:
    from streamlearn.sources.generators.activity import write_hhar_csv

    path = Path(_FILES) / "hhar.csv"
    write_hhar_csv(path, 2500, malformed={7: "too-few-fields", 900: "non-numeric-x", 2000: "blank"})
    return Pipeline(
        f"csv:{path}", task="classification", models=["last-class"], batch_size=1000,
        steps=[Filter(lambda r: r["gt"] != "null", name="drop_null")],
    )


_FILES = tempfile.mkdtemp(prefix="streamlearn-spark-test-")
CASES: dict[str, Callable[[], Pipeline]] = {
    "regression": regression, "classification": classification, "keyed": keyed, "csv": csv_file,
}
_RUNS: dict[tuple[str, str], tuple[dict[str, Any], ListSink]] = {}


def result(case: str, engine: str) -> tuple[dict[str, Any], ListSink]:
    """The summary and sink of a case on an engine, run once per module."""
    if (case, engine) not in _RUNS:
        sink = ListSink()
        _RUNS[case, engine] = (run(CASES[case](), engine=engine, sinks=[sink]), sink)
    return _RUNS[case, engine]


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal, floats to 1e-9 (relative), NaN equal to NaN."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) - ENGINE_KEYS == set(b) - ENGINE_KEYS, where
        for k in set(a) - ENGINE_KEYS:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert (math.isnan(a) and math.isnan(b)) or b == pytest.approx(a, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def same_predictions(a: ListSink, b: ListSink) -> None:
    assert [r.batch_id for r in a.results] == [r.batch_id for r in b.results]
    for ra, rb in zip(a.results, b.results, strict=True):
        assert list(ra.records.offsets) == list(rb.records.offsets)
        assert set(ra.predictions) == set(rb.predictions)
        for name, pa in ra.predictions.items():
            pb = rb.predictions[name]
            if pa.dtype.kind == "f":
                np.testing.assert_allclose(pb, pa, rtol=1e-9, atol=1e-12)
            else:
                assert list(pa) == list(pb)
        assert [d.position for d in ra.dead_letters] == [d.position for d in rb.dead_letters]


# -- the same pipelines on either engine --------------------------------------------
def test_race_reports_every_metric_and_reconciles(engine: str) -> None:
    summary, sink = result("regression", engine)
    assert set(summary) >= METRIC_KEYS
    assert summary["engine"] == engine
    assert summary["records_consumed"] == summary["records_predicted"] == 7000
    assert summary["batches"] == 4 and [len(r.records) for r in sink.results] == [2000, 2000, 2000, 1000]
    assert set(summary["models"]) == {"rls", "rls:forgetting=0.99", "mean"}
    assert summary["models"]["rls"]["mse"] < 0.01  # the linear topic is nearly linear


def test_dead_letters_keep_positions_and_counts_reconcile(engine: str) -> None:
    summary, sink = result("csv", engine)
    assert summary["dead_letters"] == 2
    assert [d.position.rsplit(":", 1)[1] for d in sink.dead_letters] == ["7", "900"]
    filtered = summary["records_filtered"]
    assert summary["records_consumed"] == summary["records_predicted"] + summary["dead_letters"] + filtered


def test_keyed_statistics_run_on_either_engine(engine: str) -> None:
    summary, _ = result("keyed", engine)
    users = summary["stats"]["stats"]["keys"]
    assert sum(v["x"]["count"] for v in users.values()) == 7000
    assert len(summary["stats"]["running_abs_sum"]) == 8  # one per device


# -- equivalence -------------------------------------------------------------------------
@pytest.mark.spark
@pytest.mark.parametrize("case", ["regression", "classification", "keyed", "csv"])
def test_spark_gives_the_local_engine_results(case: str, spark_session: Any) -> None:
    local, local_sink = result(case, "local")
    spark, spark_sink = result(case, "spark")
    assert_same(local, spark)
    same_predictions(local_sink, spark_sink)
    if case == "classification":  # batch 1 sets features up on the driver, then executors predict
        assert spark["spark"]["distributed_prediction_batches"] == 2
    if case == "keyed":
        assert spark["spark"]["keyed_steps_in_spark"] == ["stats", "running_abs_sum", "global_z"]


# -- restart -------------------------------------------------------------------------------
class Crash(RuntimeError):
    pass


class BatchStore(Sink):
    """Keeps predictions by batch id, across runs; can crash once at a given batch."""

    name = "store"

    def __init__(self, crash_at: int | None = None) -> None:
        self.by_batch: dict[int, dict[str, list[float]]] = {}
        self.crash_at = crash_at

    def write(self, result: BatchResult) -> None:
        if result.batch_id == self.crash_at:
            self.crash_at = None
            raise Crash(f"killed in batch {result.batch_id}")
        self.by_batch[result.batch_id] = {k: list(v) for k, v in result.predictions.items()}


class CrashAfterCheckpoint:
    """An observer that dies after batch ``at`` is saved but before Spark commits it."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_start(self, info: dict[str, Any]) -> None: ...
    def on_idle(self, progress: Any) -> None: ...
    def on_end(self, summary: dict[str, Any]) -> None: ...

    def on_batch(self, result: BatchResult, progress: Any) -> None:
        if result.batch_id == self.at:
            raise Crash(f"killed after batch {result.batch_id}")


def restartable() -> Pipeline:
    return Pipeline(
        "linear", task="regression", models=["rls", "rls:forgetting=0.99"], batch_size=1500,
        until="count:7500", steps=[KeyedStats(["mean", "var", "max"], columns=["x1", "x10"])],
    )


@pytest.mark.spark
def test_restart_from_checkpoint_equals_an_uninterrupted_run(spark_session: Any, tmp_path: Path) -> None:
    whole = BatchStore()
    expected = run(restartable(), sinks=[whole])
    store, ckpt = BatchStore(), tmp_path / "ckpt"
    # 1: dies after batch 1 is checkpointed: Spark replays it, the driver skips it
    with pytest.raises(Crash):
        run(restartable(), engine="spark", sinks=[store], checkpoint=ckpt,
            observer=CrashAfterCheckpoint(1))  # type: ignore[arg-type]
    # 2: dies while writing batch 3, before its checkpoint: it is computed again
    store.crash_at = 3
    with pytest.raises(Crash):
        run(restartable(), engine="spark", sinks=[store], checkpoint=ckpt)
    summary = run(restartable(), engine="spark", sinks=[store], checkpoint=ckpt)
    assert_same(expected, summary)
    assert sorted(store.by_batch) == sorted(whole.by_batch) == [0, 1, 2, 3, 4]
    for b, preds in whole.by_batch.items():
        for name, values in preds.items():
            np.testing.assert_allclose(store.by_batch[b][name], values, rtol=1e-9, atol=1e-12)


# -- errors ---------------------------------------------------------------------------------
def fails_on_third_value(values: list[float], state: int | None) -> int:
    if (state or 0) + len(values) > 2 and len(values) > 1:
        raise ValueError("too many values")
    return (state or 0) + len(values)


@pytest.mark.spark
def test_user_code_error_is_the_local_engines(spark_session: Any) -> None:
    def pipeline() -> Pipeline:
        return Pipeline(
            "activity", batch_size=500, until="count:1500",
            steps=[KeyedState(fails_on_third_value, key="User", column="x", name="counter")],
        )

    errors = []
    for engine in ("local", "spark"):
        with pytest.raises(UserCodeError) as info:
            run(pipeline(), engine=engine)
        errors.append(info.value)
    local, spark = errors
    assert str(spark) == str(local)
    assert spark.step == "counter"
    assert (spark.batch_id, spark.key, spark.position) == (local.batch_id, local.key, local.position)
    assert "too many values" in spark.user_traceback and "streamlearn" not in spark.user_traceback


def test_missing_file_is_one_clear_error_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        run(Pipeline(f"csv:{tmp_path / 'nope.csv'}", task="classification", models=["majority"]),
            engine="spark")


# -- Kafka ----------------------------------------------------------------------------------
@pytest.mark.spark
@pytest.mark.kafka
def test_kafka_available_now_drains_the_topic_in_limited_batches(
    spark_session: Any, broker: Any, topic: str
) -> None:
    from streamlearn.sinks.kafka import KafkaWriter, produce_from_source
    from streamlearn.sources.factory import parse_source
    from streamlearn.sources.generators.course import LinearSource

    src = LinearSource(count=11_000)
    src.open()
    with KafkaWriter(broker.bootstrap, topic) as writer:
        assert produce_from_source(src, writer) == 11_000

    def pipeline() -> Pipeline:
        spec = parse_source(f"kafka:{topic}", bootstrap=broker.bootstrap)
        return Pipeline(spec, task="regression", models=["course-rls"], batch_size=4000)

    local = run(pipeline())
    spark = run(pipeline(), engine="spark")
    assert spark["spark"]["kafka_reader"] == "python"
    assert spark["records_predicted"] == 11_000 and spark["batches"] == 3
    assert spark["source"]["end_offsets"] == {"0": 11_000}
    assert_same(local, spark)
    with pytest.raises(SourceError, match="does not exist"):
        run(Pipeline(parse_source("kafka:no-such-topic", bootstrap=broker.bootstrap),
                     task="regression", models=["mean"]), engine="spark")
