"""The Spark engine: the same pipelines, the same results as the local engine.

Spark runs are slow to start, so each pipeline below runs at most once per
engine (results are memoised for the module) and the data stay small.
"""

from __future__ import annotations

import atexit
import itertools
import math
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamlearn import Pipeline, run
from streamlearn.engines.base import Observer
from streamlearn.errors import SourceError, UserCodeError
from streamlearn.sinks.base import BatchResult, Sink
from streamlearn.sources.files import FileSource
from streamlearn.sources.generators.course import course_payloads
from streamlearn.sources.registry import parse_source
from streamlearn.steps import FeatureSummary, Filter, KeyedState, KeyedStats
from streamlearn.testing import ListSink, MemorySource

pytest.importorskip("pyspark")

#: keys that differ between engines by nature
ENGINE_KEYS = {"elapsed_s", "records_per_s", "engine", "master", "spark", "interrupted"}
_FILES = tempfile.mkdtemp(prefix="streamlearn-spark-test-")
atexit.register(shutil.rmtree, _FILES, True)
METRIC_KEYS = {
    "records_consumed",
    "records_predicted",
    "dead_letters",
    "cold_start",
    "batches",
    "elapsed_s",
    "records_per_s",
    "task",
    "models",
    "champion",
    "source",
}


def running_abs_sum(values: list[float], state: float | None) -> float:
    return (state or 0.0) + sum(abs(v) for v in values)


def rls_race_per_key(rows: list[tuple[float, float, float]], state: Any) -> Any:
    """Per key, RLS(1) racing RLS(0.99) predicting z from x and y: (models, squared errors, n)."""
    from streamlearn.learn.rls import RLS

    models, sse, n = state or ([RLS(), RLS(forgetting=0.99)], [0.0, 0.0], 0)
    data = np.asarray(rows)
    for j, model in enumerate(models):
        sse[j] += float(np.sum((model.test_then_train(data[:, :2], data[:, 2]) - data[:, 2]) ** 2))
    return models, sse, n + len(data)


def regression() -> Pipeline:
    return Pipeline(
        "linear",
        task="regression",
        models=["rls", "rls:forgetting=0.99", "mean"],
        batch_size=2000,
        until="count:7000",
    )


def classification() -> Pipeline:
    # batch granularity: the executors predict, the driver learns
    return Pipeline(
        "activity",
        task="classification",
        models=["hoeffding:grace_period=100", "nb", "majority"],
        granularity="batch",
        batch_size=3000,
        until="count:9000",
    )


def named(step: KeyedStats, name: str) -> KeyedStats:
    step.step_id = name
    return step


def keyed() -> Pipeline:
    # keyed state in Spark's state store, and a batch race predicted on the executors
    return Pipeline(
        "activity",
        key="User",
        batch_size=2500,
        until="count:7000",
        task="classification",
        models=["nb"],
        granularity="batch",
        steps=[
            FeatureSummary(["x", "y", "z"]),
            KeyedStats(
                ["count", "sum", "abssum", "min", "max", "mean", "var", "first", "stack"],
                key="User",
                columns=["x", "y", "x_max"],
            ),
            KeyedState(running_abs_sum, key="Device", column="x"),
            KeyedState(
                rls_race_per_key, key="User", column=("x", "y", "z"), step_id="rls_per_user"
            ),
            named(KeyedStats(["mean", "var"], columns=["z"]), "global_z"),
        ],
    )


def csv_file() -> Pipeline:
    from streamlearn.sources.generators.activity import write_hhar_csv

    path = Path(_FILES) / "hhar.csv"
    write_hhar_csv(path, 2500, malformed={7: "too-few-fields", 900: "non-numeric-x", 2000: "blank"})
    return Pipeline(
        f"csv:{path}",
        task="classification",
        models=["last-class"],
        batch_size=1000,
        steps=[Filter(lambda r: r["gt"] != "null", step_id="drop_null")],
    )


def json_memory() -> Pipeline:
    # JSON without a schema: executors need the schema inferred from the first batch
    records = [
        {"k": "abc"[i % 3], "x": float(i % 7), "y": (i % 2 == 0 and "even") or "odd"}
        for i in range(120)
    ]
    return Pipeline(
        MemorySource(records),
        task="classification",
        target="y",
        models=["last-class"],
        batch_size=50,
        steps=[KeyedStats(["count", "mean"], key="k", columns=["x"])],
    )


CASES: dict[str, Callable[[], Pipeline]] = {
    "regression": regression,
    "classification": classification,
    "keyed": keyed,
    "csv": csv_file,
    "json": json_memory,
}
_RUNS: dict[tuple[str, str], tuple[dict[str, Any], ListSink]] = {}


def result(case: str, engine: str) -> tuple[dict[str, Any], ListSink]:
    """The summary and sink of a case on an engine, run once per module."""
    if (case, engine) not in _RUNS:
        sink = ListSink()
        summary = run(CASES[case](), engine=engine, sinks=[sink])
        per_key = summary.get("stats", {}).get("rls_per_user")
        if per_key is not None:  # learners compare by their errors
            summary["stats"]["rls_per_user"] = {k: (sse, n) for k, (_, sse, n) in per_key.items()}
        _RUNS[case, engine] = (summary, sink)
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
        assert (math.isnan(a) and math.isnan(b)) or b == pytest.approx(a, rel=1e-9, abs=1e-12), (
            where
        )
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


# -- the data source: offsets, admission control, AvailableNow (no Spark needed) ----------
def reader(source: Any, max_rows: int, cap: int | None = None) -> Any:
    from streamlearn.engines.spark.datasource import StreamlearnReader
    from streamlearn.engines.spark.planner import ReaderConfig

    ref = parse_source(source, count=25) if isinstance(source, str) else source
    return StreamlearnReader(ReaderConfig(ref, max_rows, cap))


def drain(r: Any, limit: Any) -> list[dict[str, Any]]:
    """Offsets as Trigger.AvailableNow walks them: until the source returns its start."""
    offsets = [r.initialOffset()]
    r.prepareForTriggerAvailableNow()
    while (end := r.latestOffset(offsets[-1], limit)) != offsets[-1]:
        offsets.append(end)
    return offsets


def rows(r: Any, start: dict[str, Any], end: dict[str, Any]) -> list[bytes]:
    return [
        p
        for part in r.partitions(start, end)
        for b in r.read(part)
        for p in b.column("payload").to_pylist()
    ]


def test_reader_admits_at_most_max_rows_and_available_now_drains_everything() -> None:
    from pyspark.sql.streaming.datasource import ReadAllAvailable, ReadMaxRows

    r = reader("linear", 10)
    assert r.getDefaultReadLimit() == ReadMaxRows(10)
    assert [o["next"] for o in drain(r, ReadMaxRows(10))] == [0, 10, 20, 25]
    assert [o["next"] for o in drain(reader("linear", 10), ReadAllAvailable())] == [0, 25]
    assert [o["n"] for o in drain(reader("linear", 10, cap=15), ReadMaxRows(10))] == [0, 10, 15]
    offsets = drain(r, ReadMaxRows(10))
    got = [p for a, b in itertools.pairwise(offsets) for p in rows(r, a, b)]
    assert got == course_payloads("linear", 0, 25)


def test_file_offsets_replay_the_same_records_after_a_restart(tmp_path: Path) -> None:
    from pyspark.sql.streaming.datasource import ReadMaxRows

    from streamlearn.sources.generators.activity import write_hhar_csv

    path = tmp_path / "a.csv"
    write_hhar_csv(path, 30, malformed={5: "blank"})
    first = reader(FileSource(path), 12)
    offsets = drain(first, ReadMaxRows(12))
    assert [o["n"] for o in offsets] == [0, 12, 24, 29]
    batches = [rows(first, a, b) for a, b in itertools.pairwise(offsets)]
    again = reader(FileSource(path), 12)  # a new planner: nothing cached, read from the offsets
    assert [rows(again, a, b) for a, b in itertools.pairwise(offsets)] == batches
    src = FileSource(path)
    src.open()
    assert [p for b in batches for p in b] == src.read(100).payloads


def test_lag_is_shared_in_proportion_and_deterministically() -> None:
    from streamlearn.engines.spark.planner import split_lag

    assert split_lag({"0": 10, "1": 30}, 8) == {"0": 2, "1": 6}
    assert split_lag({"0": 1, "1": 1, "2": 1}, 2) == {"0": 1, "1": 1, "2": 0}
    assert split_lag({"0": 5, "1": 0}, -1) == {"0": 5, "1": 0}


def test_a_failed_spark_query_is_one_line_and_exit_code_4() -> None:
    from streamlearn.engines.spark.report import translate_failure

    jvm = (
        "[PYTHON_EXCEPTION] An exception was thrown from the Python worker:\n"
        'Traceback (most recent call last):\n  File "x.py", line 3, in f\n'
        "{}\n\tat org.apache.spark.api.python.BasePythonRunner(PythonRunner.scala:1)\n"
    )
    ours = translate_failure(RuntimeError(jvm.format("SourceError: topic 'a' is gone")))
    assert isinstance(ours, SourceError) and str(ours) == "topic 'a' is gone"
    theirs = translate_failure(RuntimeError(jvm.format("TypeError: cannot convert x")))
    assert str(theirs) == "the Spark query failed: TypeError: cannot convert x"
    assert getattr(theirs, "exit_code", None) == 4  # no configuration error: the run failed


@pytest.mark.kafka
def test_kafka_offsets_stop_at_the_end_fixed_when_available_now_starts(
    broker: Any, make_topic: Any
) -> None:
    from pyspark.sql.streaming.datasource import ReadMaxRows

    from streamlearn.kafka.producer import KafkaWriter

    name = make_topic(partitions=2)
    with KafkaWriter(broker.bootstrap, name, partitions=2) as w:
        w.write([b"[%d, 1.0, 2.0]" % i for i in range(30)])
    r = reader(parse_source(f"kafka:{name}", bootstrap=broker.bootstrap), 7)
    start = r.initialOffset()
    r.prepareForTriggerAvailableNow()
    with KafkaWriter(broker.bootstrap, name, partitions=2) as w:
        w.write([b"[%d, 1.0, 2.0]" % i for i in range(30, 40)])  # after the start: not read
    offsets = [start]
    while (end := r.latestOffset(offsets[-1], ReadMaxRows(7))) != offsets[-1]:
        assert end["n"] - offsets[-1]["n"] <= 7
        offsets.append(end)
    assert offsets[-1]["n"] == 30 and sum(offsets[-1]["kafka"].values()) == 30
    got = sorted(p for a, b in itertools.pairwise(offsets) for p in rows(r, a, b))
    assert got == sorted(b"[%d, 1.0, 2.0]" % i for i in range(30))
    r.stop()


# -- the same pipelines on either engine --------------------------------------------
def test_race_reports_every_metric_and_reconciles(engine: str) -> None:
    summary, sink = result("regression", engine)
    assert set(summary) >= METRIC_KEYS
    assert summary["engine"] == engine
    assert summary["records_consumed"] == summary["records_predicted"] == 7000
    assert summary["batches"] == 4 and [len(r.records) for r in sink.results] == [
        2000,
        2000,
        2000,
        1000,
    ]
    assert set(summary["models"]) == {"rls", "rls:forgetting=0.99", "mean"}
    assert summary["models"]["rls"]["mse"] < 0.01  # the linear topic is nearly linear


def test_dead_letters_keep_positions_and_counts_reconcile(engine: str) -> None:
    summary, sink = result("csv", engine)
    assert summary["dead_letters"] == 2
    assert [d.position.rsplit(":", 1)[1] for d in sink.dead_letters] == ["7", "900"]
    filtered = summary["records_filtered"]
    assert (
        summary["records_consumed"]
        == summary["records_predicted"] + summary["dead_letters"] + filtered
    )


def test_keyed_statistics_run_on_either_engine(engine: str) -> None:
    summary, _ = result("keyed", engine)
    users = summary["stats"]["stats"]["keys"]
    assert sum(v["x"]["count"] for v in users.values()) == 7000
    assert len(summary["stats"]["running_abs_sum"]) == 8  # one per device
    sse, n = summary["stats"]["rls_per_user"][next(iter(users))]
    assert n == users[next(iter(users))]["x"]["count"] and sse[0] > 0


# -- equivalence -------------------------------------------------------------------------
@pytest.mark.spark
@pytest.mark.parametrize("case", ["regression", "classification", "keyed", "csv", "json"])
def test_spark_gives_the_local_engine_results(case: str, spark_session: Any) -> None:
    local, local_sink = result(case, "local")
    spark, spark_sink = result(case, "spark")
    assert_same(local, spark)
    same_predictions(local_sink, spark_sink)
    if case == "classification":  # batch 1 sets features up on the driver, then executors predict
        assert spark["spark"]["distributed_prediction_batches"] == 2
    if case == "keyed":
        assert spark["spark"]["keyed_steps_in_spark"] == [
            "stats",
            "running_abs_sum",
            "rls_per_user",
            "global_z",
        ]
        assert spark["spark"]["distributed_prediction_batches"] == 2
    if case == "json":
        assert spark["spark"]["keyed_steps_in_spark"] == ["stats"]


# -- restart -------------------------------------------------------------------------------
class Crash(RuntimeError):
    pass


class BatchStore(Sink):
    """Keeps predictions by batch id, across runs; can crash once at a given batch."""

    default_id = "store"

    def __init__(self, crash_at: int | None = None) -> None:
        self.by_batch: dict[int, dict[str, list[float]]] = {}
        self.crash_at = crash_at

    def write(self, result: BatchResult) -> None:
        if result.batch_id == self.crash_at:
            self.crash_at = None
            raise Crash(f"killed in batch {result.batch_id}")
        self.by_batch[result.batch_id] = {k: list(v) for k, v in result.predictions.items()}


class CrashAfterCheckpoint(Observer):
    """An observer that dies after batch ``at`` is saved but before Spark commits it."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_batch(self, result: BatchResult, progress: Any) -> None:
        if result.batch_id == self.at:
            raise Crash(f"killed after batch {result.batch_id}")


def restartable(keyed: bool = True) -> Pipeline:
    return Pipeline(
        "linear",
        task="regression",
        models=["rls", "rls:forgetting=0.99"],
        batch_size=1500,
        until="count:7500",
        steps=[KeyedStats(["mean", "var", "max"], columns=["x1", "x10"])] if keyed else [],
    )


@pytest.mark.spark
@pytest.mark.parametrize("keyed", [True, False], ids=["records-on-executors", "driver-reads"])
def test_restart_from_checkpoint_equals_an_uninterrupted_run(
    spark_session: Any, tmp_path: Path, keyed: bool
) -> None:
    """Keyed state reads records on the executors; a race alone has the driver read what
    Spark planned (from the planner's description files): both restart exactly."""

    def pipeline() -> Pipeline:
        return restartable(keyed)

    whole = BatchStore()
    expected = run(pipeline(), sinks=[whole])
    store, ckpt = BatchStore(), tmp_path / "ckpt"
    # 1: dies after batch 1 is checkpointed: Spark replays it, the driver skips it
    with pytest.raises(Crash):
        run(
            pipeline(),
            engine="spark",
            sinks=[store],
            checkpoint=ckpt,
            observer=CrashAfterCheckpoint(1),
        )
    # 2: dies while writing batch 3, before its checkpoint: it is computed again
    store.crash_at = 3
    with pytest.raises(Crash):
        run(pipeline(), engine="spark", sinks=[store], checkpoint=ckpt)
    summary = run(pipeline(), engine="spark", sinks=[store], checkpoint=ckpt)
    assert_same(expected, summary)
    assert summary["spark"]["records_read_by"] == ("executors" if keyed else "driver")
    if not keyed:  # the planner described each batch; those done go as the run goes
        assert len(list((ckpt / "spark" / "batches").glob("*.pkl"))) == 1
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
            "activity",
            batch_size=500,
            until="count:1500",
            steps=[KeyedState(fails_on_third_value, key="User", column="x", step_id="counter")],
        )

    errors = []
    for engine in ("local", "spark"):
        with pytest.raises(UserCodeError) as info:
            run(pipeline(), engine=engine)
        errors.append(info.value)
    local, spark = errors
    assert str(spark) == str(local)
    assert spark.step == "counter"
    assert (spark.batch_id, spark.key, spark.position) == (
        local.batch_id,
        local.key,
        local.position,
    )
    assert "too many values" in spark.user_traceback and "streamlearn" not in spark.user_traceback


def test_missing_file_is_one_clear_error_before_spark_starts(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="file not found"):
        run(
            Pipeline(f"csv:{tmp_path / 'nope.csv'}", task="classification", models=["majority"]),
            engine="spark",
        )


# -- Kafka ----------------------------------------------------------------------------------
@pytest.mark.spark
@pytest.mark.kafka
def test_kafka_available_now_drains_the_topic_in_limited_batches(
    spark_session: Any, broker: Any, topic: str
) -> None:
    from streamlearn.kafka.produce import produce_from_source
    from streamlearn.kafka.producer import KafkaWriter
    from streamlearn.sources.generators.course import LinearSource

    src = LinearSource(count=11_000)
    src.open()
    with KafkaWriter(broker.bootstrap, topic) as writer:
        assert produce_from_source(src, writer) == 11_000

    def pipeline() -> Pipeline:
        spec = parse_source(f"kafka:{topic}", bootstrap=broker.bootstrap)
        return Pipeline(spec, task="regression", models=["course-rls"], batch_size=4000)

    local = run(pipeline())
    spark = run(pipeline(), engine="spark", kafka_reader="python")
    assert spark["spark"]["kafka_reader"] == "python"
    assert spark["records_predicted"] == 11_000 and spark["batches"] == 3
    assert spark["source"]["end_offsets"] == {"0": 11_000}
    assert_same(local, spark)
    with pytest.raises(SourceError, match="does not exist"):
        run(
            Pipeline(
                parse_source("kafka:no-such-topic", bootstrap=broker.bootstrap),
                task="regression",
                models=["mean"],
            ),
            engine="spark",
        )


@pytest.mark.spark
@pytest.mark.kafka
def test_until_idle_reads_what_comes_then_stops_after_the_quiet_time(
    spark_session: Any, broker: Any, topic: str
) -> None:
    from streamlearn.kafka.produce import produce

    produce("linear", broker.bootstrap, topic, count=5_000)
    spec = parse_source(f"kafka:{topic}", bootstrap=broker.bootstrap, until_end=False)
    pipeline = Pipeline(spec, task="regression", models=["mean"], batch_size=2_000, until="idle:3")
    t0 = time.monotonic()
    summary = run(pipeline, engine="spark", kafka_reader="python")
    took = time.monotonic() - t0
    assert summary["records_predicted"] == 5_000 and not summary["interrupted"]
    assert 3.0 <= took < 90  # the quiet time, plus Spark's start and the reads


@pytest.mark.spark
@pytest.mark.parametrize(
    "name", ["sensors.parquet", "sensors_parts", "sensors.csv.gz", "sensors.tsv"]
)
def test_files_as_people_have_them_give_the_local_results(spark_session: Any, name: str) -> None:
    source = str(Path(__file__).parent / "data" / name)

    def pipeline() -> Pipeline:
        return Pipeline(source, task="classification", models=["nb", "majority"], batch_size=250)

    local, spark = run(pipeline()), run(pipeline(), engine="spark")
    assert_same(local, spark)
    assert (
        spark["records_predicted"] == 600 and spark["schema"]["fields"] == local["schema"]["fields"]
    )


@pytest.mark.spark
def test_cli_spark_run_equals_local_run(tmp_path):
    """The issue's command: the same counts and MSEs (to 1e-9) on both engines."""
    import json
    import subprocess
    import sys

    base = [
        sys.executable,
        "-m",
        "streamlearn",
        "run",
        "--source",
        "linear",
        "--count",
        "50000",
        "--task",
        "regression",
        "--model",
        "rls",
        "--model",
        "rls:forgetting=0.99",
        "--batch-size",
        "5000",
        "--quiet",
    ]
    for engine in ("local", "spark"):
        proc = subprocess.run(
            [
                *base,
                "--engine",
                engine,
                "--master",
                "local[2]",
                "--metrics-json",
                str(tmp_path / f"{engine}.json"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
    local = json.loads((tmp_path / "local.json").read_text())
    spark = json.loads((tmp_path / "spark.json").read_text())
    assert spark["engine"] == "spark"
    for key in (
        "records_consumed",
        "records_predicted",
        "dead_letters",
        "cold_start",
        "batches",
        "champion",
    ):
        assert spark[key] == local[key], key
    for name in ("rls", "rls:forgetting=0.99"):
        assert spark["models"][name]["mse"] == pytest.approx(
            local["models"][name]["mse"], rel=1e-9, abs=1e-12
        )


@pytest.mark.spark
@pytest.mark.parametrize(
    ("delimiter", "keyed_stage"),
    [("\t", "stats"), ("\t", "per_key"), (";", "workers")],
)
def test_delimited_files_decode_alike_in_keyed_stages_on_the_executors(
    spark_session: Any, tmp_path: Path, delimiter: str, keyed_stage: str
) -> None:
    """Executors decode records for keyed stages themselves: with the file's delimiter."""
    text = (Path(__file__).parent / "data" / "sensors.tsv").read_text()
    path = tmp_path / "sensors.txt"
    path.write_text(text.replace("\t", delimiter))

    def pipeline() -> Pipeline:
        options: dict[str, Any] = {
            "stats": {"steps": [KeyedStats(["count", "mean"], key="device", columns=["temp"])]},
            "per_key": {"per_key": "device"},
            "workers": {"workers": 2},
        }[keyed_stage]
        return Pipeline(
            f"csv:{path}",
            task="classification",
            models=["nb", "majority"],
            batch_size=250,
            **options,
        )

    local, spark = run(pipeline()), run(pipeline(), engine="spark")
    assert_same(local, spark)
    assert spark["records_predicted"] == 600 and spark["schema"]["delimiter"] == delimiter
    if keyed_stage == "stats":
        devices = spark["stats"]["stats"]["keys"]
        assert sum(d["temp"]["count"] for d in devices.values()) == 600
    if keyed_stage == "per_key":
        keys = spark["per_key"]["keys"].values()
        assert len(keys) == 4 and sum(k["nb"]["predicted"] for k in keys) == 600


@pytest.mark.spark
def test_keyed_state_past_max_keys_leaves_sparks_state_store(spark_session: Any) -> None:
    """Past ``max_keys`` the keys unseen for longest go from Spark's state store too, so a
    key that comes back starts afresh, as on the local engine (numeric keys included)."""
    rng = np.random.default_rng(11)
    records = [
        {"k": int(rng.integers(9)), "x": float(rng.normal()), "y": "ab"[i % 2]} for i in range(1200)
    ]

    def pipeline() -> Pipeline:
        stats = KeyedStats(["count", "mean"], key="k", columns=["x"], max_keys=3)
        state = KeyedState(running_abs_sum, key="k", column="x", max_keys=4)
        return Pipeline(
            MemorySource(records),
            task="classification",
            target="y",
            features=["x"],
            models=["majority"],
            batch_size=100,
            steps=[named(stats, "bounded_stats"), state],
        )

    local, spark = run(pipeline()), run(pipeline(), engine="spark")
    assert_same(local["stats"], spark["stats"])
    held = spark["stats"]["bounded_stats"]["keys"]
    assert len(held) == 3 and sum(v["x"]["count"] for v in held.values()) < 1200 // 3
    assert spark["spark"]["state_keys"] <= 3 + 4
