"""A race's models as units of state on Spark's executors (``--workers N`` on Spark)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import uninterrupted_and_resumed
from streamlearn import Pipeline, run
from streamlearn.engines.spark.race_units import UnitTemplate, as_units, spread_keys
from streamlearn.evaluate.race import Race
from streamlearn.learn.base import Regressor
from streamlearn.learn.features import FeatureEncoder, LabelIndex
from streamlearn.learn.registry import build_models
from streamlearn.records.batch import RecordBatch
from streamlearn.testing import ListSink, MemorySource


class _BreaksAt(Regressor):
    """Learns a running mean and raises on its 130th record."""

    def __init__(self) -> None:
        super().__init__()
        self.mean = 0.0

    def learn_one(self, x: np.ndarray, y: Any) -> None:
        if self.n_learned == 129:
            raise ValueError("the gauge went offline")
        self.n_learned += 1
        self.mean += (float(y) - self.mean) / self.n_learned

    def predict_one(self, x: np.ndarray) -> float:
        return self.mean


def _batch(columns: dict[str, np.ndarray], n: int) -> RecordBatch:
    return RecordBatch(
        columns, "memory", np.zeros(n, dtype=np.int32), np.arange(n, dtype=np.int64), 0
    )


@settings(max_examples=25, deadline=None)
@given(
    task=st.sampled_from(["regression", "classification"]),
    granularity=st.sampled_from(["record", "batch"]),
    budget=st.sampled_from([None, 0, 7, 40]),
    sizes=st.lists(st.integers(1, 30), min_size=1, max_size=6),
    unlabelled=st.lists(st.booleans(), min_size=180, max_size=180),
    seed=st.integers(0, 1000),
)
def test_a_race_replayed_from_its_units_equals_the_race(
    task: str,
    granularity: str,
    budget: int | None,
    sizes: list[int],
    unlabelled: list[bool],
    seed: int,
) -> None:
    """Each model run apart as a unit (as on an executor) and replayed on the driver gives
    every prediction, score, cold start and failure of the race run whole, for any
    batching, labels missing anywhere, granularity and train budget."""
    rng = np.random.default_rng(seed)
    specs = ["rls", "mean"] if task == "regression" else ["logreg", "nb", "majority"]
    settings_ = {"task": task, "granularity": granularity, "train_budget": budget, "window": 50}

    def models() -> dict[str, Any]:
        built = build_models(specs, task)  # type: ignore[arg-type]
        return {**built, "breaks": _BreaksAt()} if task == "regression" else built

    template = UnitTemplate(1, "y", ("a", "b"), ("c",), models(), settings_)
    whole, replayed = Race(models(), **settings_), Race(models(), **settings_)
    as_units(replayed)
    units = {name: template.fresh(name) for name in template.names}
    encoder = FeatureEncoder(("a", "b"), ("c",))
    whole.set_features(encoder.names, encoder.categorical_mask)
    replayed.set_features(encoder.names, encoder.categorical_mask)
    labels, driver_labels = LabelIndex(), LabelIndex()
    at = 0
    for n in sizes:
        a, b = rng.normal(size=n), rng.normal(size=n)
        c = rng.choice(np.array(["red", "blue", "green"], dtype=object), size=n)
        if task == "regression":
            target: np.ndarray = 2 * a - b + rng.normal(scale=0.1, size=n)
            target[np.array(unlabelled[at : at + n])] = np.nan
        else:
            target = np.where(a > b, "up", np.where(c == "red", "flat", "down")).astype(object)
            target[np.array(unlabelled[at : at + n])] = None
        at += n
        cols = {"a": a, "b": b, "c": c, "y": target}
        X = encoder.transform(cols, n)
        if task == "regression":
            y, labelled = target.astype(np.float64), ~np.isnan(target.astype(np.float64))
        else:
            labelled = np.array([v is not None for v in target], dtype=bool)
            y = np.full(n, -1, dtype=np.int64)
            y[labelled] = labels.encode(target[labelled])
        mask = None if labelled.all() else labelled
        expected = whole.step(X, y, mask)
        for name, unit in units.items():
            report = template.run(unit, name, _batch(cols, n))
            replayed.models[name].load(report, driver_labels if task == "classification" else None)  # type: ignore[attr-defined]
        if task == "classification":
            driver_labels.encode(target[labelled])
        got = replayed.step(X, y, mask)
        assert got.keys() == expected.keys()
        for name in expected:
            np.testing.assert_array_equal(got[name], expected[name])
        assert replayed.last_failures == whole.last_failures
    assert json.dumps(replayed.metrics()) == json.dumps(whole.metrics())  # NaN: no figure yet
    assert replayed.champion == whole.champion
    assert {k: v["error"] for k, v in replayed.failed.items()} == {
        k: v["error"] for k, v in whole.failed.items()
    }


def _go(engine: str, task: str, **options: Any) -> tuple[dict[str, Any], list[Any]]:
    sink = ListSink()
    source = "activity" if task == "classification" else "linear"
    models = ["auto", "hoeffding", "nb"] if task == "classification" else ["rls", "mean", "knn"]
    s = run(
        Pipeline(
            source,
            task=task,  # type: ignore[arg-type]
            models=models,
            until="count:3000",
            batch_size=700,
            **options,
        ),
        engine=engine,
        sinks=[sink],
    )
    preds = [{k: np.asarray(v).tolist() for k, v in r.predictions.items()} for r in sink.results]
    return dict(s), preds


@pytest.mark.spark
@pytest.mark.parametrize(
    ("task", "options"),
    [
        ("classification", {}),  # categorical features, auto's members
        ("regression", {"granularity": "batch", "train_budget": 2000}),
    ],
)
def test_race_models_learn_on_the_executors_and_equal_the_local_race(
    task: str, options: dict[str, Any]
) -> None:
    (got, got_preds), (reference, ref_preds) = (
        _go("spark", task, workers=2, **options),
        _go("local", task, **options),
    )
    assert got["spark"]["race_models"] == "executors"
    assert got["models"] == reference["models"]
    assert got["champion"] == reference["champion"]
    assert got_preds == ref_preds
    assert got["records_predicted"] == 3000


@pytest.mark.spark
def test_a_model_failing_on_an_executor_is_failed_at_its_record_with_its_traceback() -> None:
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # executors lack this module

    def go(engine: str) -> dict[str, Any]:
        return dict(
            run(
                Pipeline(
                    "linear",
                    task="regression",
                    models=[("breaks", _BreaksAt()), "rls"],
                    until="count:600",
                    batch_size=100,
                    workers=2,
                ),
                engine=engine,
            )
        )

    got, reference = go("spark"), go("local")
    assert got["spark"]["race_models"] == "executors"
    failed = got["models"]["breaks"]["failed"]
    assert failed["record"] == 130 and "the gauge went offline" in failed["error"]
    assert "learn_one" in failed["traceback"]
    assert {k: failed[k] for k in ("record", "batch", "error")} == {
        k: reference["models"]["breaks"]["failed"][k] for k in ("record", "batch", "error")
    }
    assert got["models"]["rls"] == reference["models"]["rls"] and got["champion"] == "rls"


@pytest.mark.spark
@pytest.mark.faults
def test_race_models_on_the_executors_resume_exactly_after_sigkill(tmp_path: Path) -> None:
    args = [
        "run", "--source", "activity", "--count", "60000", "--task", "classification",
        "--model", "logreg", "--model", "hoeffding", "--workers", "2",
        "--batch-size", "4000", "--engine", "spark", "--quiet",
    ]  # fmt: skip
    a, b = uninterrupted_and_resumed(args, tmp_path, [13.0, 17.0])
    assert a["spark"]["race_models"] == "executors"
    assert b["models"] == a["models"] and b["champion"] == a["champion"]
    assert b["records_predicted"] == a["records_predicted"] == 60000


@pytest.mark.spark
def test_race_models_stay_on_the_driver_without_workers(spark_session: Any) -> None:
    rows = [{"x": float(i % 7), "y": float(i % 7) * 2} for i in range(400)]
    s = run(
        Pipeline(MemorySource(rows), task="regression", target="y", models=["rls"]),
        engine="spark",
    )
    assert s["spark"]["race_models"] == "driver"
    assert s["models"]["rls"]["predicted"] == 400


@pytest.mark.spark
def test_each_model_gets_a_shuffle_partition_of_its_own(spark_session: Any) -> None:
    """The group keys of the race's models put each in a partition of its own, as Spark
    itself places groups, so that its tasks train them at the same time."""
    import pandas as pd

    names = ["window-rf:size=50", "window-linear:size=50", "window-gb:size=50", "rls", "mean"]
    keys = spread_keys(spark_session, 3, names, 5)
    assert sorted(keys.values()) == sorted(names)

    def where(pdf: pd.DataFrame) -> pd.DataFrame:
        from pyspark import TaskContext

        context = TaskContext.get()
        assert context is not None
        return pdf.assign(p=context.partitionId())

    settings_ = {"spark.sql.shuffle.partitions": "5", "spark.sql.adaptive.enabled": "false"}
    before = {k: spark_session.conf.get(k) for k in settings_}
    for k, v in settings_.items():
        spark_session.conf.set(k, v)
    try:
        df = spark_session.createDataFrame([(3, k) for k in keys], "_step int, _key string")
        placed = (
            df.groupBy("_step", "_key").applyInPandas(where, "_step int, _key string, p int")
        ).collect()
    finally:
        for k, v in before.items():
            spark_session.conf.set(k, v)
    assert sorted(r.p for r in placed) == [0, 1, 2, 3, 4]
