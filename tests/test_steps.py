"""Stateless steps, the course's steps, saving batches, keyed state and the stats command."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from streamlearn import Pipeline, UserCodeError, run
from streamlearn.cli import main
from streamlearn.stats import course_variance
from streamlearn.steps import (
    CounterText,
    FeatureSummary,
    Filter,
    KeyedState,
    KeyedStats,
    Map,
    MapColumns,
    SaveBatches,
    Select,
)
from streamlearn.testing import ListSink, MemorySource


def _rows(n: int) -> list[dict]:
    return [{"k": "ab"[i % 2], "x": float(i), "y": float(i % 7)} for i in range(n)]


def test_map_filter_select_shape_the_batch():
    sink = ListSink()
    p = Pipeline(MemorySource(_rows(20)), batch_size=8)
    p.then(Map(lambda r: {"x2": r["x"] * 2})).then(Filter(lambda r: r["x"] % 3 == 0)).then(
        MapColumns(lambda c: {"x3": c["x"] * 3})
    ).then(Select(["x", "x2", "x3"]))
    summary = run(p, sinks=[sink])
    got = pd.concat([pd.DataFrame(r.records.columns) for r in sink.results])
    assert list(got.columns) == ["x", "x2", "x3"]
    assert list(got["x"]) == [float(i) for i in range(20) if i % 3 == 0]
    assert np.allclose(got["x2"], got["x"] * 2) and np.allclose(got["x3"], got["x"] * 3)
    assert summary["records_filtered"] == 20 - 7
    assert summary["records_consumed"] == 20


def test_course_steps_on_the_linear_generator(tmp_path: Path):
    sink = ListSink()
    features = [f"x{i}" for i in range(1, 11)]
    p = Pipeline("linear", batch_size=50, until="count:120")
    p.then(FeatureSummary(features)).then(CounterText()).then(SaveBatches(tmp_path / "batches"))
    run(p, sinks=[sink])
    first = sink.results[0].records
    X = np.column_stack([first.columns[f] for f in features])
    assert np.array_equal(first.columns["x_max"], X.max(axis=1))
    assert np.allclose(first.columns["x_mean"], X.mean(axis=1))
    assert first.columns["text"][2] == "record 2"
    files = sorted((tmp_path / "batches").iterdir())
    assert [f.name for f in files] == ["batch-000001.csv", "batch-000002.csv", "batch-000003.csv"]
    saved = pd.read_csv(files[2])
    assert len(saved) == 20 and list(saved["counter"])[:2] == [100, 101]
    # idempotent: the same batch written again leaves the same bytes
    before = files[0].read_bytes()
    again = Pipeline("linear", batch_size=50, until="count:50")
    again.then(FeatureSummary(features)).then(CounterText()).then(SaveBatches(tmp_path / "batches"))
    run(again)
    assert files[0].read_bytes() == before


def test_keyed_state_receives_every_value_of_a_key_in_order():
    seen: list[tuple[str, list[float]]] = []

    def collect(values, state):
        seen.append(("?", list(values)))
        return (state or []) + list(values)

    step = KeyedState(collect, key="k", column="x")
    run(Pipeline(MemorySource(_rows(10)), batch_size=4).then(step))
    assert step.describe() == {"a": [0.0, 2.0, 4.0, 6.0, 8.0], "b": [1.0, 3.0, 5.0, 7.0, 9.0]}
    assert [v for _, v in seen][:2] == [[0.0, 2.0], [1.0, 3.0]]


def test_keyed_state_error_names_step_batch_key_and_record():
    def bad(values, state):
        if 5.0 in values:
            raise ValueError("no fives")
        return state

    with pytest.raises(UserCodeError) as info:
        run(
            Pipeline(MemorySource(_rows(10)), batch_size=4).then(
                KeyedState(bad, key="k", column="x")
            )
        )
    err = info.value
    assert err.step == "bad" and err.batch_id == 2 and err.key == "b"
    assert "no fives" in err.user_traceback and "test_steps.py" in err.user_traceback


def test_keyed_stats_equal_numpy_and_the_course_recurrence():
    rng = np.random.default_rng(0)
    rows = [{"k": f"d{i % 3}", "x": float(v)} for i, v in enumerate(rng.normal(5, 2, 3000))]
    step = KeyedStats(
        ["count", "sum", "abssum", "min", "max", "mean", "var", "first", "stack"], key="k"
    )
    run(Pipeline(MemorySource(rows), batch_size=128).then(step))
    for key in ("d0", "d1", "d2"):
        xs = np.array([r["x"] for r in rows if r["k"] == key])
        got = step.values(key)["x"]
        assert got["count"] == len(xs)
        assert got["sum"] == pytest.approx(xs.sum(), rel=1e-12)
        assert got["abssum"] == pytest.approx(np.abs(xs).sum(), rel=1e-12)
        assert (got["min"], got["max"], got["first"]) == (xs.min(), xs.max(), xs[0])
        assert got["mean"] == pytest.approx(xs.mean(), rel=1e-12)
        assert got["var"] == pytest.approx(np.var(xs), rel=1e-9)
        assert got["var"] == pytest.approx(course_variance(xs), rel=1e-9)
        assert got["stack"] == list(xs[-10:])


def test_keyed_stats_bound_the_number_of_keys():
    rows = [{"k": f"key{i}", "x": 1.0} for i in range(50)]
    step = KeyedStats(["count"], key="k", max_keys=10)
    run(Pipeline(MemorySource(rows), batch_size=7).then(step))
    assert len(step.store) == 10 and step.store.evicted == 40
    assert step.store.keys()[-1] == "key49"


def test_stats_command_writes_per_key_statistics(workdir: Path):
    rc = main(
        [
            "stats",
            "--source",
            "activity",
            "--count",
            "20000",
            "--stat",
            "mean,var,max,sum",
            "--key",
            "Device",
            "--columns",
            "x,y,z",
            "--batch-size",
            "5000",
            "--metrics-json",
            "s.json",
            "--quiet",
        ]
    )
    assert rc == 0
    m = json.loads(Path("s.json").read_text())
    keys = m["stats"]["stats"]["keys"]
    assert m["records_consumed"] == 20000 and m["dead_letters"] == 0
    assert set(keys) <= {
        f"{mo}_{i}" for mo in ("nexus4", "s3", "s3mini", "samsungold") for i in (1, 2)
    }
    assert sum(1 for _ in keys) >= 2
    some = next(iter(keys.values()))
    assert set(some) == {"x", "y", "z"} and set(some["x"]) == {"mean", "var", "max", "sum"}
